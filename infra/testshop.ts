import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ECR_LOGIN, ECR_PULL_ACTIONS, logWrite, serviceRole } from "./iam.ts";
import type { ImageUnit } from "./registry.ts";
import { type ShopIdentity, shopTags } from "./tags.ts";

/** The running parts of a test shop; ruby-base and assets are build-time images only. */
export const TEST_SHOP_SERVICES = {
  nginx: { port: 80, cpu: 256, memory: 512 },
  backend: { port: 3000, cpu: 512, memory: 1024 },
  sidekiq: { port: undefined, cpu: 512, memory: 1024 },
  redis: { port: 6379, cpu: 256, memory: 512 },
  metabase: { port: 3000, cpu: 1024, memory: 2048 },
} as const satisfies Partial<Record<ImageUnit, { port: number | undefined; cpu: number; memory: number }>>;
export type TestShopService = keyof typeof TEST_SHOP_SERVICES;
const SERVICES = Object.keys(TEST_SHOP_SERVICES) as TestShopService[];
/** Ports services call each other on; nginx's port is reached from the ALB only. */
const INTERNAL_PORTS = [
  ...new Set(SERVICES.filter((s) => s !== "nginx").flatMap((s) => TEST_SHOP_SERVICES[s].port ?? [])),
];

/** Units CodeBuild builds for a branch, in dependency order (ruby-base first). */
const BUILT_UNITS: readonly ImageUnit[] = [
  "ruby-base",
  "assets",
  "backend",
  "sidekiq",
  "nginx",
  "redis",
  "metabase",
];

export interface TestShopArgs {
  identity: ShopIdentity;
  /** Env id, e.g. `sakura-pr-42`; every name of this env derives from it. */
  envId: string;
  branch: string;
  /** Tag the services start with; CodeBuild rolls them to the tag it builds. */
  imageTag: string;
  clusterArn: pulumi.Input<string>;
  listenerArn: pulumi.Input<string>;
  albSecurityGroupId: pulumi.Input<string>;
  rulePriority: number;
  hostname: string;
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  sourceRepo: string;
  repositoryUrls: Record<ImageUnit, pulumi.Input<string>>;
  repositoryArns: Record<ImageUnit, pulumi.Input<string>>;
  region: string;
}

/**
 * One branch of a client shop running in ECS for review. Traffic enters only through the shared
 * ALB's host rule into this env's own target group, whose RequestCount tells envsvc when it is idle.
 */
export class TestShop extends pulumi.ComponentResource {
  readonly url: string;
  readonly targetGroupArn: pulumi.Output<string>;
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  readonly buildProjectName: pulumi.Output<string>;

  constructor(name: string, args: TestShopArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:TestShop", name, {}, opts);
    const env = `ikou-${args.envId}`;
    const tags = shopTags(args.identity, { "ikou:testenv": args.envId });
    const child = { parent: this };

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/ikou/testshop/${args.envId}`, retentionInDays: 7, tags },
      child,
    );
    const sg = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      { name: `${env}-tasks`, vpcId: args.vpcId, description: `ikou test env ${args.envId}`, tags },
      child,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-from-alb`,
      {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: 80,
        toPort: 80,
        referencedSecurityGroupId: args.albSecurityGroupId,
        description: "shared ALB to nginx",
        tags,
      },
      child,
    );
    // The services reach each other (nginx -> backend, backend/sidekiq -> redis) on their own ports only.
    for (const port of INTERNAL_PORTS) {
      const rule = {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: sg.id,
        description: "between this env's services",
        tags,
      };
      new aws.vpc.SecurityGroupIngressRule(`${name}-internal-${port}`, rule, child);
      new aws.vpc.SecurityGroupEgressRule(`${name}-internal-${port}`, rule, child);
    }
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-https`,
      {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        description: "image pulls, AWS APIs",
        tags,
      },
      child,
    );

    const targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        name: env,
        vpcId: args.vpcId,
        targetType: "ip",
        port: 80,
        protocol: "HTTP",
        healthCheck: { path: "/", matcher: "200-399" },
        deregistrationDelay: 10,
        tags,
      },
      child,
    );
    new aws.lb.ListenerRule(
      `${name}-host`,
      {
        listenerArn: args.listenerArn,
        priority: args.rulePriority,
        conditions: [{ hostHeader: { values: [args.hostname] } }],
        actions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
        tags,
      },
      child,
    );

    const execution = this.executionRole(name, env, args, logGroup.arn, tags);
    const services = SERVICES.map((svc) =>
      this.service(name, env, svc, args, { sg, execution, logGroup, targetGroup, tags }),
    );
    const project = this.buildProject(name, env, args, { services, execution, logGroup, tags });

    this.url = `https://${args.hostname}`;
    this.targetGroupArn = targetGroup.arn;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;
    this.buildProjectName = project.name;
    this.registerOutputs({
      url: this.url,
      targetGroupArn: this.targetGroupArn,
      targetGroupArnSuffix: this.targetGroupArnSuffix,
      buildProjectName: this.buildProjectName,
    });
  }

  private executionRole(
    name: string,
    env: string,
    args: TestShopArgs,
    logGroupArn: pulumi.Output<string>,
    tags: Record<string, string>,
  ): aws.iam.Role {
    return serviceRole(this, `${name}-execution`, {
      roleName: `${env}-execution`,
      service: "ecs-tasks.amazonaws.com",
      tags,
      statements: [
        ECR_LOGIN,
        {
          Sid: "Pull",
          Effect: "Allow",
          Action: ECR_PULL_ACTIONS,
          Resource: SERVICES.map((s) => args.repositoryArns[s]),
        },
        logWrite(logGroupArn),
      ],
    });
  }

  private service(
    name: string,
    env: string,
    svc: TestShopService,
    args: TestShopArgs,
    deps: {
      sg: aws.ec2.SecurityGroup;
      execution: aws.iam.Role;
      logGroup: aws.cloudwatch.LogGroup;
      targetGroup: aws.lb.TargetGroup;
      tags: Record<string, string>;
    },
  ): aws.ecs.Service {
    const spec = TEST_SHOP_SERVICES[svc];
    const task = new aws.ecs.TaskDefinition(
      `${name}-${svc}`,
      {
        family: `${env}-${svc}`,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: String(spec.cpu),
        memory: String(spec.memory),
        executionRoleArn: deps.execution.arn,
        containerDefinitions: pulumi.jsonStringify([
          {
            name: svc,
            image: pulumi.interpolate`${args.repositoryUrls[svc]}:${args.imageTag}`,
            essential: true,
            portMappings:
              spec.port === undefined ? [] : [{ name: svc, containerPort: spec.port, protocol: "tcp" }],
            logConfiguration: {
              logDriver: "awslogs",
              options: {
                "awslogs-group": deps.logGroup.name,
                "awslogs-region": args.region,
                "awslogs-stream-prefix": svc,
              },
            },
          },
        ]),
        tags: deps.tags,
      },
      { parent: this },
    );
    return new aws.ecs.Service(
      `${name}-${svc}`,
      {
        name: `${env}-${svc}`,
        cluster: args.clusterArn,
        taskDefinition: task.arn,
        launchType: "FARGATE",
        desiredCount: 1,
        networkConfiguration: {
          subnets: args.subnetIds,
          securityGroups: [deps.sg.id],
          assignPublicIp: false,
        },
        // Service Connect in the cluster's default namespace gives the services stable names (redis:6379).
        serviceConnectConfiguration: {
          enabled: true,
          services:
            spec.port === undefined
              ? []
              : [
                  {
                    portName: svc,
                    discoveryName: `${args.envId}-${svc}`,
                    clientAlias: [{ port: spec.port, dnsName: svc }],
                  },
                ],
        },
        loadBalancers:
          svc === "nginx"
            ? [
                {
                  targetGroupArn: deps.targetGroup.arn,
                  containerName: svc,
                  containerPort: TEST_SHOP_SERVICES.nginx.port,
                },
              ]
            : [],
        // CodeBuild rolls new task definition revisions; Pulumi must not roll them back.
        propagateTags: "SERVICE",
        tags: deps.tags,
      },
      { parent: this, ignoreChanges: ["taskDefinition"] },
    );
  }

  private buildProject(
    name: string,
    env: string,
    args: TestShopArgs,
    deps: {
      services: aws.ecs.Service[];
      execution: aws.iam.Role;
      logGroup: aws.cloudwatch.LogGroup;
      tags: Record<string, string>;
    },
  ): aws.codebuild.Project {
    const role = serviceRole(this, `${name}-build`, {
      roleName: `${env}-build`,
      service: "codebuild.amazonaws.com",
      tags: deps.tags,
      statements: [
        ECR_LOGIN,
        {
          Sid: "PushShopImages",
          Effect: "Allow",
          Action: [
            ...ECR_PULL_ACTIONS,
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
          ],
          Resource: BUILT_UNITS.map((u) => args.repositoryArns[u]),
        },
        // Task definition APIs have no resource-level permissions.
        {
          Sid: "TaskDefinitions",
          Effect: "Allow",
          Action: ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
          Resource: "*",
        },
        {
          Sid: "Deploy",
          Effect: "Allow",
          Action: ["ecs:UpdateService", "ecs:DescribeServices"],
          Resource: deps.services.map((s) => s.id),
        },
        { Sid: "PassExecutionRole", Effect: "Allow", Action: "iam:PassRole", Resource: deps.execution.arn },
        logWrite(deps.logGroup.arn),
      ],
    });
    return new aws.codebuild.Project(
      `${name}-build`,
      {
        name: `${env}-deploy`,
        serviceRole: role.arn,
        source: { type: "GITHUB", location: args.sourceRepo, buildspec: buildspec(BUILT_UNITS, SERVICES) },
        sourceVersion: args.branch,
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: "BUILD_GENERAL1_MEDIUM",
          image: "aws/codebuild/standard:7.0",
          privilegedMode: true, // docker build
          environmentVariables: [
            { name: "ENV_ID", value: args.envId },
            { name: "CLUSTER", value: args.clusterArn },
            {
              name: "REGISTRY",
              value: pulumi.output(args.repositoryUrls.backend).apply((u) => u.split("/")[0] ?? u),
            },
            { name: "REPO_PREFIX", value: `ikou/${args.identity.shop}` },
          ],
        },
        logsConfig: { cloudwatchLogs: { groupName: deps.logGroup.name, streamName: "build" } },
        tags: deps.tags,
      },
      { parent: this },
    );
  }
}

/** Build every unit at the branch's commit, then point each service at the new tag. */
function buildspec(units: readonly ImageUnit[], services: readonly TestShopService[]): string {
  const build = units.map(
    (u) =>
      `docker build -t $REGISTRY/$REPO_PREFIX/${u}:$TAG --build-arg BASE=$REGISTRY/$REPO_PREFIX/ruby-base:$TAG units/${u} && docker push $REGISTRY/$REPO_PREFIX/${u}:$TAG`,
  );
  const deploy = services.map(
    (s) =>
      `aws ecs describe-task-definition --task-definition ikou-$ENV_ID-${s} --query taskDefinition | jq --arg img $REGISTRY/$REPO_PREFIX/${s}:$TAG '.containerDefinitions[0].image=$img | {family,containerDefinitions,cpu,memory,networkMode,requiresCompatibilities,executionRoleArn}' > td-${s}.json && aws ecs update-service --cluster $CLUSTER --service ikou-$ENV_ID-${s} --task-definition $(aws ecs register-task-definition --cli-input-json file://td-${s}.json --query taskDefinition.taskDefinitionArn --output text)`,
  );
  const lines = [
    "version: 0.2",
    "phases:",
    "  pre_build:",
    "    commands:",
    "      - export TAG=$ENV_ID-$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c1-12)",
    "      - aws ecr get-login-password | docker login --username AWS --password-stdin $REGISTRY",
    "  build:",
    "    commands:",
    ...build.map((c) => `      - ${c}`),
    "  post_build:",
    "    commands:",
    ...deploy.map((c) => `      - ${c}`),
  ];
  return lines.join("\n") + "\n";
}
