import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { albHost } from "./alb-host.ts";
import { ECR_LOGIN, ECR_PULL_ACTIONS, logWrite, serviceRole, type Statement } from "./iam.ts";
import { lifecyclePolicy } from "./registry.ts";
import { privateBucket } from "./storage.ts";
import { type ShopIdentity, shopName, shopTags } from "./tags.ts";
import { TEST_SHOP_NAME_PREFIX, TEST_SHOP_PARAMETER_ROOT } from "./testshop.ts";

/** The port envsvc listens on in its container. */
export const ENVSVC_PORT = 8080;
/** Pulumi's DIY backend layout under the state bucket (`.pulumi/<kind>/<project>/<stack>…`). */
const STATE_KINDS = ["stacks", "locks", "history", "backups"] as const;

export interface EnvServiceArgs {
  identity: ShopIdentity;
  region: string;
  /** `<host>.<domain>` is envsvc's address on the shared ALB. */
  host: string;
  domain: string;
  hostedZoneId: string;
  rulePriority: number;
  imageTag: string;
  cpu: number;
  memoryMiB: number;
  desiredCount: number;
  /** The Pulumi project of the stacks envsvc runs (`ikou`). */
  project: string;
  platform: {
    vpcId: pulumi.Input<string>;
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    clusterArn: pulumi.Input<string>;
    clusterName: pulumi.Input<string>;
    httpsListenerArn: pulumi.Input<string>;
    albSecurityGroupId: pulumi.Input<string>;
    albDnsName: pulumi.Input<string>;
    albZoneId: pulumi.Input<string>;
    tasksSecurityGroupId: pulumi.Input<string>;
    testShopRoleBoundaryArn: pulumi.Input<string>;
  };
}

/**
 * envsvc on ECS Fargate behind the shared ALB. Its Pulumi state lives in a versioned, KMS-encrypted
 * bucket; stack secrets are encrypted with a KMS key (`awskms://`) instead of a passphrase; its task
 * role may run Pulumi for `testshop-*` stacks only: write their state, create and delete resources
 * named `tsh-*`, read (never write) the shop and platform stacks' state for their StackReferences.
 */
export class EnvService extends pulumi.ComponentResource {
  readonly url: string;
  readonly stateBucketName: pulumi.Output<string>;
  readonly secretsKeyArn: pulumi.Output<string>;
  readonly backendUrl: pulumi.Output<string>;
  readonly secretsProvider: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  readonly repositoryUrl: pulumi.Output<string>;

  private readonly tags: Record<string, string>;

  constructor(name: string, args: EnvServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:EnvService", name, {}, opts);
    this.tags = shopTags(args.identity, { "ikou:role": "envsvc" });
    const child = { parent: this };
    const id = args.identity;

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "ikou envsvc: Pulumi state and stack secrets",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: this.tags,
      },
      child,
    );
    const alias = new aws.kms.Alias(
      `${name}-key`,
      { name: `alias/${shopName(id, "envsvc")}`, targetKeyId: key.keyId },
      child,
    );
    const bucket = this.stateBucket(name, id, key);
    const repo = new aws.ecr.Repository(
      `${name}-image`,
      {
        name: `ikou/${id.shop}/envsvc`,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        tags: this.tags,
      },
      child,
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-image`,
      { repository: repo.name, policy: lifecyclePolicy(20, [args.imageTag]) },
      child,
    );
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/ikou/${id.shop}/envsvc`, retentionInDays: 30, tags: this.tags },
      child,
    );
    // Slack signing secret, admin token and the registry's MYSQL_URL; values are set out of band.
    const settings = new aws.secretsmanager.Secret(
      `${name}-settings`,
      {
        name: shopName(id, "envsvc"),
        description: "envsvc: MYSQL_URL, IKOU_ADMIN_TOKEN, SLACK_SIGNING_SECRET",
        kmsKeyId: key.arn,
        tags: this.tags,
      },
      child,
    );

    const execution = serviceRole(this, `${name}-execution`, {
      roleName: shopName(id, "envsvc-execution"),
      service: "ecs-tasks.amazonaws.com",
      tags: this.tags,
      statements: [
        ECR_LOGIN,
        { Sid: "Pull", Effect: "Allow", Action: ECR_PULL_ACTIONS, Resource: repo.arn },
        logWrite(logGroup.arn),
        { Sid: "Settings", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: settings.arn },
        { Sid: "SettingsKey", Effect: "Allow", Action: "kms:Decrypt", Resource: key.arn },
      ],
    });
    const task = serviceRole(this, `${name}-task`, {
      roleName: shopName(id, "envsvc-task"),
      service: "ecs-tasks.amazonaws.com",
      tags: this.tags,
      statements: envServiceTaskStatements({ ...args, bucketArn: bucket.arn, keyArn: key.arn }),
    });

    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        name: shopName(id, "envsvc"),
        vpcId: args.platform.vpcId,
        description: "ikou envsvc",
        tags: this.tags,
      },
      child,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-from-alb`,
      {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: ENVSVC_PORT,
        toPort: ENVSVC_PORT,
        referencedSecurityGroupId: args.platform.albSecurityGroupId,
        description: "shared ALB to envsvc",
        tags: this.tags,
      },
      child,
    );
    const targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        name: shopName(id, "envsvc").slice(0, 32),
        vpcId: args.platform.vpcId,
        targetType: "ip",
        port: ENVSVC_PORT,
        protocol: "HTTP",
        healthCheck: { path: "/healthz", matcher: "200" },
        deregistrationDelay: 30,
        tags: this.tags,
      },
      child,
    );
    const host = `${args.host}.${args.domain}`;
    albHost(this, `${name}-host`, {
      host,
      listenerArn: args.platform.httpsListenerArn,
      priority: args.rulePriority,
      targetGroupArn: targetGroup.arn,
      zoneId: args.hostedZoneId,
      alb: { dnsName: args.platform.albDnsName, zoneId: args.platform.albZoneId },
      evaluateTargetHealth: true,
      tags: this.tags,
    });

    this.backendUrl = pulumi.interpolate`s3://${bucket.bucket}`;
    this.secretsProvider = pulumi.interpolate`awskms://${alias.name}?region=${args.region}`;
    const definition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: shopName(id, "envsvc"),
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: String(args.cpu),
        memory: String(args.memoryMiB),
        executionRoleArn: execution.arn,
        taskRoleArn: task.arn,
        containerDefinitions: pulumi.jsonStringify([
          {
            name: "envsvc",
            image: pulumi.interpolate`${repo.repositoryUrl}:${args.imageTag}`,
            essential: true,
            portMappings: [{ containerPort: ENVSVC_PORT, protocol: "tcp" }],
            environment: [
              { name: "PORT", value: String(ENVSVC_PORT) },
              { name: "AWS_REGION", value: args.region },
              { name: "IKOU_ENV_TARGET", value: "aws" },
              { name: "PULUMI_BACKEND_URL", value: this.backendUrl },
              { name: "PULUMI_SECRETS_PROVIDER", value: this.secretsProvider },
            ],
            secrets: ["MYSQL_URL", "IKOU_ADMIN_TOKEN", "SLACK_SIGNING_SECRET"].map((k) => ({
              name: k,
              valueFrom: pulumi.interpolate`${settings.arn}:${k}::`,
            })),
            logConfiguration: {
              logDriver: "awslogs",
              options: {
                "awslogs-group": logGroup.name,
                "awslogs-region": args.region,
                "awslogs-stream-prefix": "envsvc",
              },
            },
          },
        ]),
        tags: this.tags,
      },
      child,
    );
    new aws.ecs.Service(
      `${name}-service`,
      {
        name: shopName(id, "envsvc"),
        cluster: args.platform.clusterArn,
        taskDefinition: definition.arn,
        launchType: "FARGATE",
        desiredCount: args.desiredCount,
        networkConfiguration: {
          subnets: args.platform.privateSubnetIds,
          securityGroups: [sg.id, args.platform.tasksSecurityGroupId],
          assignPublicIp: false,
        },
        loadBalancers: [
          { targetGroupArn: targetGroup.arn, containerName: "envsvc", containerPort: ENVSVC_PORT },
        ],
        // One envsvc at a time: its scheduler and operation queue assume a single instance.
        deploymentMaximumPercent: 100,
        deploymentMinimumHealthyPercent: 0,
        propagateTags: "SERVICE",
        tags: this.tags,
      },
      child,
    );

    this.url = `https://${host}`;
    this.stateBucketName = bucket.bucket;
    this.secretsKeyArn = key.arn;
    this.taskRoleArn = task.arn;
    this.repositoryUrl = repo.repositoryUrl;
    this.registerOutputs({
      url: this.url,
      stateBucketName: this.stateBucketName,
      secretsKeyArn: this.secretsKeyArn,
      taskRoleArn: this.taskRoleArn,
    });
  }

  /** Versioned (a state file overwritten by a bad update can be restored), KMS, private, TLS only. */
  private stateBucket(name: string, id: ShopIdentity, key: aws.kms.Key): aws.s3.Bucket {
    const bucket = privateBucket(this, () => `${name}-state`, {
      bucket: shopName(id, "envsvc-state"),
      keyArn: key.arn,
      tags: this.tags,
    });
    new aws.s3.BucketVersioning(
      `${name}-state`,
      { bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } },
      { parent: this },
    );
    return bucket;
  }
}

/**
 * What envsvc's task role may do: run Pulumi for `testshop-*` stacks and nothing else. Resource
 * names carry `tsh-` (infra/testshop.ts); APIs without resource-level permissions are held to the
 * `ikou:testenv` tag on create and on the resource; every role it creates must carry the boundary.
 */
export function envServiceTaskStatements(args: {
  region: string;
  project: string;
  bucketArn: pulumi.Input<string>;
  keyArn: pulumi.Input<string>;
  hostedZoneId: string;
  platform: EnvServiceArgs["platform"];
}): Statement[] {
  const account = aws.getCallerIdentityOutput().accountId;
  const regional = (service: string, rest: string) =>
    pulumi.interpolate`arn:aws:${service}:${args.region}:${account}:${rest}`;
  const state = (kind: string, stack: string) =>
    pulumi.interpolate`${args.bucketArn}/.pulumi/${kind}/${args.project}/${stack}`;
  const tagged = { StringLike: { "aws:RequestTag/ikou:testenv": "*" } };
  const owned = { StringLike: { "aws:ResourceTag/ikou:testenv": "*" } };
  return [
    {
      Sid: "StateList",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: args.bucketArn,
      Condition: { StringLike: { "s3:prefix": [".pulumi/*"] } },
    },
    {
      Sid: "TestShopState",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: STATE_KINDS.map((k) => state(k, "testshop-*")),
    },
    {
      Sid: "ReferencedState",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: [
        state("stacks", "shop-*"),
        state("stacks", "platform-*"),
        pulumi.interpolate`${args.bucketArn}/.pulumi/meta.yaml`,
        pulumi.interpolate`${args.bucketArn}/.pulumi/Pulumi.yaml`,
      ],
    },
    {
      Sid: "StackSecrets",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
      Resource: args.keyArn,
    },
    {
      Sid: "Describe",
      Effect: "Allow",
      Action: [
        "ec2:Describe*",
        "elasticloadbalancing:Describe*",
        "ecs:DescribeTaskDefinition",
        "servicediscovery:Get*",
        "servicediscovery:List*",
        "route53:GetChange",
        "route53:GetHostedZone",
        "route53:ListHostedZonesByName",
        "cloudwatch:GetMetricData",
        "codebuild:BatchGetBuilds",
      ],
      Resource: "*",
    },
    {
      Sid: "TaskDefinitions",
      Effect: "Allow",
      Action: ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:TagResource"],
      Resource: "*",
      Condition: tagged,
    },
    {
      Sid: "Services",
      Effect: "Allow",
      Action: [
        "ecs:CreateService",
        "ecs:UpdateService",
        "ecs:DeleteService",
        "ecs:DescribeServices",
        "ecs:TagResource",
      ],
      Resource: pulumi.interpolate`arn:aws:ecs:${args.region}:${account}:service/${args.platform.clusterName}/${TEST_SHOP_NAME_PREFIX}*`,
    },
    {
      Sid: "TargetGroups",
      Effect: "Allow",
      Action: [
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:AddTags",
      ],
      Resource: regional("elasticloadbalancing", `targetgroup/${TEST_SHOP_NAME_PREFIX}*/*`),
    },
    {
      Sid: "ListenerRules",
      Effect: "Allow",
      Action: [
        "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:DeleteRule",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:AddTags",
      ],
      Resource: [args.platform.httpsListenerArn, regional("elasticloadbalancing", "listener-rule/app/*")],
    },
    {
      Sid: "SecurityGroupsCreate",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup", "ec2:CreateTags"],
      Resource: regional("ec2", "security-group/*"),
      Condition: tagged,
    },
    {
      Sid: "SecurityGroupsInVpc",
      Effect: "Allow",
      Action: "ec2:CreateSecurityGroup",
      Resource: pulumi.interpolate`arn:aws:ec2:${args.region}:${account}:vpc/${args.platform.vpcId}`,
    },
    {
      Sid: "SecurityGroupsOwned",
      Effect: "Allow",
      Action: [
        "ec2:DeleteSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:ModifySecurityGroupRules",
        "ec2:CreateTags",
      ],
      Resource: [regional("ec2", "security-group/*"), regional("ec2", "security-group-rule/*")],
      Condition: owned,
    },
    {
      Sid: "Roles",
      Effect: "Allow",
      Action: ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"],
      Resource: pulumi.interpolate`arn:aws:iam::${account}:role/${TEST_SHOP_NAME_PREFIX}*`,
      Condition: { StringEquals: { "iam:PermissionsBoundary": args.platform.testShopRoleBoundaryArn } },
    },
    {
      Sid: "RolesOwned",
      Effect: "Allow",
      Action: [
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:TagRole",
        "iam:PassRole",
      ],
      Resource: pulumi.interpolate`arn:aws:iam::${account}:role/${TEST_SHOP_NAME_PREFIX}*`,
    },
    {
      Sid: "Namespaces",
      Effect: "Allow",
      Action: [
        "servicediscovery:CreatePrivateDnsNamespace",
        "servicediscovery:CreateService",
        "servicediscovery:TagResource",
        "route53:CreateHostedZone",
        "route53:ChangeTagsForResource",
        "ec2:DescribeVpcAttribute",
      ],
      Resource: "*",
      Condition: tagged,
    },
    {
      Sid: "NamespacesOwned",
      Effect: "Allow",
      Action: [
        "servicediscovery:DeleteNamespace",
        "servicediscovery:DeleteService",
        "servicediscovery:UpdateService",
        "servicediscovery:RegisterInstance",
        "servicediscovery:DeregisterInstance",
      ],
      Resource: "*",
      Condition: owned,
    },
    {
      Sid: "HostRecords",
      Effect: "Allow",
      Action: ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
      Resource: `arn:aws:route53:::hostedzone/${args.hostedZoneId}`,
    },
    {
      Sid: "Settings",
      Effect: "Allow",
      Action: [
        "ssm:PutParameter",
        "ssm:DeleteParameter",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:AddTagsToResource",
        "ssm:ListTagsForResource",
      ],
      Resource: regional("ssm", `parameter${TEST_SHOP_PARAMETER_ROOT}/*`),
    },
    {
      Sid: "Logs",
      Effect: "Allow",
      Action: [
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:PutRetentionPolicy",
        "logs:TagResource",
        "logs:ListTagsForResource",
        "logs:DescribeLogGroups",
      ],
      Resource: regional("logs", "log-group:/ikou/testshop/*"),
    },
    {
      Sid: "Builds",
      Effect: "Allow",
      Action: [
        "codebuild:CreateProject",
        "codebuild:UpdateProject",
        "codebuild:DeleteProject",
        "codebuild:BatchGetProjects",
        "codebuild:StartBuild",
        "codebuild:StopBuild",
      ],
      Resource: regional("codebuild", `project/${TEST_SHOP_NAME_PREFIX}*`),
    },
  ];
}
