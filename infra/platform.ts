import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ECR_LOGIN, ECR_PUSH_ACTIONS, policyDocument, TASK_DEFINITIONS } from "./iam.ts";
import { DbPeering, MYSQL_PORT, type PeerArgs } from "./peering.ts";
import { type ShopIdentity, shopName, shopTags } from "./tags.ts";
import { TEST_SHOP_NAME_PREFIX, TEST_SHOP_PARAMETER_ROOT } from "./testshop.ts";
import { natEgress, privateVpc, s3GatewayEndpoint, type VpcLayout } from "./vpc.ts";

export interface EnvPlatformArgs {
  identity: ShopIdentity;
  region: string;
  vpc: VpcLayout;
  /** Test envs are `<env>-<shop>.<domain>`; the zone must be the public zone of `domain`. */
  domain: string;
  hostedZoneId: string;
  /** ACM certificate for `*.<domain>` in this region. */
  certificateArn: string;
  /** The production DB the test envs' backends read the migrated data from, peered like a shop's. */
  dbPeer?: PeerArgs;
}

/**
 * What every test env of a region shares: a VPC with public subnets for the ALB and private ones for
 * the tasks, one NAT for their egress (image pulls, AWS APIs), the ALB with its HTTPS listener, the
 * ECS cluster, and the permissions boundary every test-env role must carry.
 */
export class EnvPlatform extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly clusterArn: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly httpsListenerArn: pulumi.Output<string>;
  readonly albSecurityGroupId: pulumi.Output<string>;
  readonly albDnsName: pulumi.Output<string>;
  readonly albZoneId: pulumi.Output<string>;
  readonly loadBalancerArnSuffix: pulumi.Output<string>;
  readonly tasksSecurityGroupId: pulumi.Output<string>;
  readonly testShopRoleBoundaryArn: pulumi.Output<string>;

  private readonly tags: Record<string, string>;
  private readonly id: ShopIdentity;

  constructor(name: string, args: EnvPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:EnvPlatform", name, {}, opts);
    this.id = args.identity;
    this.tags = shopTags(args.identity);
    const child = { parent: this };
    const named = (n: string) => shopTags(this.id, { Name: shopName(this.id, n) });

    const scope = { parent: this, name, named };
    const net = privateVpc(scope, args.vpc);
    const vpc = net.vpc;
    const privateRt = net.privateRouteTable;
    const privateSubnets = net.privateSubnets;
    // One NAT: test envs are disposable, a second AZ's NAT is not worth its hourly price.
    const { publicSubnets } = natEgress(scope, args.vpc, net, args.vpc.azs.length);
    // Image layers come from S3; the gateway endpoint keeps them off the NAT's per-GB charge.
    s3GatewayEndpoint(scope, args.region, vpc.id, [privateRt.id], this.tags);

    const albSg = new aws.ec2.SecurityGroup(
      `${name}-alb`,
      {
        name: shopName(this.id, "alb"),
        vpcId: vpc.id,
        description: "ikou test envs: shared ALB",
        tags: this.tags,
      },
      child,
    );
    for (const port of [80, 443])
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-${port}`,
        {
          securityGroupId: albSg.id,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          cidrIpv4: "0.0.0.0/0",
          description: port === 80 ? "redirected to HTTPS" : "reviewers",
          tags: this.tags,
        },
        child,
      );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-alb-to-tasks`,
      {
        securityGroupId: albSg.id,
        ipProtocol: "tcp",
        fromPort: 0,
        toPort: 65535,
        cidrIpv4: args.vpc.cidr,
        description: "targets inside the VPC only",
        tags: this.tags,
      },
      child,
    );
    const tasksSg = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        name: shopName(this.id, "tasks"),
        vpcId: vpc.id,
        description: "ikou test envs and envsvc: egress to AWS APIs and image pulls via NAT",
        tags: shopTags(this.id, { "ikou:role": "testshop-tasks" }),
      },
      child,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-tasks-https`,
      {
        securityGroupId: tasksSg.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        description: "ECR, S3, SSM, Secrets Manager, CloudWatch Logs through the NAT",
        tags: this.tags,
      },
      child,
    );

    if (args.dbPeer) {
      const peer = args.dbPeer;
      new DbPeering(
        `${name}-db`,
        {
          identity: this.id,
          region: args.region,
          vpc: { id: vpc.id, cidr: args.vpc.cidr, routeTableIds: [privateRt.id] },
          peer,
          clientSecurityGroupId: tasksSg.id,
          clientDescription: `ikou test envs of ${args.region}`,
        },
        child,
      );
      peer.cidrs.forEach(
        (cidr, i) =>
          new aws.vpc.SecurityGroupEgressRule(
            `${name}-tasks-mysql-${i}`,
            {
              securityGroupId: tasksSg.id,
              ipProtocol: "tcp",
              fromPort: MYSQL_PORT,
              toPort: MYSQL_PORT,
              cidrIpv4: cidr,
              description: "production DB over the peering",
              tags: this.tags,
            },
            child,
          ),
      );
    }

    const alb = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        name: shopName(this.id, "envs").slice(0, 32),
        loadBalancerType: "application",
        internal: false,
        securityGroups: [albSg.id],
        subnets: publicSubnets.map((s) => s.id),
        dropInvalidHeaderFields: true,
        tags: this.tags,
      },
      child,
    );
    const https = new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: alb.arn,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        certificateArn: args.certificateArn,
        defaultActions: [
          {
            type: "fixed-response",
            fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "no such test env" },
          },
        ],
        tags: this.tags,
      },
      child,
    );
    new aws.lb.Listener(
      `${name}-http`,
      {
        loadBalancerArn: alb.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [
          { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
        ],
        tags: this.tags,
      },
      child,
    );
    const cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      {
        name: shopName(this.id, "envs"),
        settings: [{ name: "containerInsights", value: "enabled" }],
        tags: this.tags,
      },
      child,
    );
    const boundary = this.roleBoundary(name, args, cluster);

    this.vpcId = vpc.id;
    this.privateSubnetIds = pulumi.output(privateSubnets.map((s) => s.id));
    this.clusterArn = cluster.arn;
    this.clusterName = cluster.name;
    this.httpsListenerArn = https.arn;
    this.albSecurityGroupId = albSg.id;
    this.albDnsName = alb.dnsName;
    this.albZoneId = alb.zoneId;
    this.loadBalancerArnSuffix = alb.arnSuffix;
    this.tasksSecurityGroupId = tasksSg.id;
    this.testShopRoleBoundaryArn = boundary.arn;
    this.registerOutputs({
      vpcId: this.vpcId,
      clusterArn: this.clusterArn,
      httpsListenerArn: this.httpsListenerArn,
      loadBalancerArnSuffix: this.loadBalancerArnSuffix,
      testShopRoleBoundaryArn: this.testShopRoleBoundaryArn,
    });
  }

  /**
   * The most a test env's role may ever do, whatever policy it is given: envsvc creates those roles
   * and must not be able to mint a role stronger than a test env needs (privilege escalation).
   */
  private roleBoundary(name: string, args: EnvPlatformArgs, cluster: aws.ecs.Cluster): aws.iam.Policy {
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const arn = (service: string, rest: string) =>
      pulumi.interpolate`arn:aws:${service}:${args.region}:${account}:${rest}`;
    return new aws.iam.Policy(
      `${name}-testshop-boundary`,
      {
        name: shopName(this.id, "testshop-boundary"),
        description: "Permissions boundary of every role a test env (testshop stack) creates",
        policy: policyDocument([
          ECR_LOGIN,
          {
            Sid: "ShopImages",
            Effect: "Allow",
            Action: ECR_PUSH_ACTIONS,
            Resource: arn("ecr", "repository/ikou/shop-*"),
          },
          {
            Sid: "Logs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: arn("logs", "log-group:/ikou/testshop/*"),
          },
          {
            Sid: "Settings",
            Effect: "Allow",
            Action: "ssm:GetParameters",
            Resource: arn("ssm", `parameter${TEST_SHOP_PARAMETER_ROOT}/*`),
          },
          {
            Sid: "ShopDbSecrets",
            Effect: "Allow",
            Action: "secretsmanager:GetSecretValue",
            Resource: arn("secretsmanager", "secret:ikou-shop-*-db-*"),
          },
          TASK_DEFINITIONS,
          {
            Sid: "DeployTestEnvs",
            Effect: "Allow",
            Action: ["ecs:UpdateService", "ecs:DescribeServices"],
            Resource: pulumi.interpolate`arn:aws:ecs:${args.region}:${account}:service/${cluster.name}/${TEST_SHOP_NAME_PREFIX}*`,
          },
          {
            Sid: "PassTestEnvRoles",
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: pulumi.interpolate`arn:aws:iam::${account}:role/${TEST_SHOP_NAME_PREFIX}*`,
          },
        ]),
        tags: this.tags,
      },
      { parent: this },
    );
  }
}
