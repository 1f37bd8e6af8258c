import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { albHost } from "./alb-host.ts";
import {
  ECR_LOGIN,
  ECR_PULL_ACTIONS,
  ECR_PUSH_ACTIONS,
  logWrite,
  serviceRole,
  type Statement,
  TASK_DEFINITIONS,
} from "./iam.ts";
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
export const TEST_SHOP_SERVICE_NAMES = Object.keys(TEST_SHOP_SERVICES) as TestShopService[];
/** Services reached through the shared ALB, each on its own host name and target group. */
const PUBLIC_SERVICES = ["nginx", "metabase"] as const satisfies readonly TestShopService[];

/** Units CodeBuild builds for a branch, in dependency order (ruby-base first). */
export const BUILT_UNITS: readonly ImageUnit[] = [
  "ruby-base",
  "assets",
  "backend",
  "sidekiq",
  "nginx",
  "redis",
  "metabase",
];

/** The tag a new env's services start on, before its first build; the registry never expires it. */
export const TEST_SHOP_BOOTSTRAP_TAG = "bootstrap";

/** Prefix of every AWS name a test env owns; the envsvc task role may manage these names only. */
export const TEST_SHOP_NAME_PREFIX = "tsh-";
/** SSM path of every env's settings; the envsvc task role may write under it only. */
export const TEST_SHOP_PARAMETER_ROOT = "/ikou/testshop";

/**
 * `tsh-<envId>-<6 hex of the shop>`: at most 30 characters, so it fits a target group name (32),
 * and two shops with the same env id never collide.
 */
export function testShopBaseName(shop: string, envId: string): string {
  const digest = createHash("sha256").update(shop).digest("hex").slice(0, 6);
  return `${TEST_SHOP_NAME_PREFIX}${envId}-${digest}`;
}

/** What the shared platform stack (EnvPlatform) gives every env; all of it may come from a StackReference. */
export interface TestShopPlatform {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  clusterArn: pulumi.Input<string>;
  httpsListenerArn: pulumi.Input<string>;
  albSecurityGroupId: pulumi.Input<string>;
  albDnsName: pulumi.Input<string>;
  albZoneId: pulumi.Input<string>;
  /** The platform's public zone the env's host names go into. */
  hostedZoneId: pulumi.Input<string>;
  domain: pulumi.Input<string>;
  /** Carried by every test-shop task: egress to AWS APIs (image pulls, logs, SSM) and to the DB. */
  tasksSecurityGroupId: pulumi.Input<string>;
  /** Permissions boundary every role of a test env carries (envsvc may only create roles with it). */
  roleBoundaryArn: pulumi.Input<string>;
}

/** What the shop stack gives its test envs: images and the DB its data was migrated into. */
export interface TestShopFromShop {
  repositoryUrls: pulumi.Input<Record<string, string>>;
  repositoryArns: pulumi.Input<Record<string, string>>;
  sourceRepo: pulumi.Input<string>;
  db: {
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    name: pulumi.Input<string>;
    /** Secrets Manager secret with `username` and `password`. */
    secretArn: pulumi.Input<string>;
  };
}

export interface TestShopArgs {
  identity: ShopIdentity;
  /** The shop's short id (`sakura` for `shop-sakura`), used in host and Cloud Map names. */
  shopId: string;
  /** Env id, e.g. `pr-42`; every name of this env derives from it and the shop. */
  envId: string;
  branch: string;
  /** Tag the services start with; CodeBuild rolls them to the commit tag it builds. */
  imageTag: string;
  /** ALB listener rule priorities: `rulePriority` (nginx) and `rulePriority + 1` (metabase). */
  rulePriority: pulumi.Input<number>;
  platform: TestShopPlatform;
  shop: TestShopFromShop;
  region: pulumi.Input<string>;
}

/**
 * One branch of a client shop running in ECS for review, in the platform's VPC behind the shared
 * ALB. Traffic enters only through the ALB's host rules into this env's own target groups, whose
 * RequestCount tells envsvc when it is idle. Its services find each other in a Cloud Map namespace
 * of their own (`redis.<env>.<shop>.testshop.internal`), so two envs never share a service name.
 */
export class TestShop extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly metabaseUrl: pulumi.Output<string>;
  readonly targetGroupArn: pulumi.Output<string>;
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  readonly buildProjectName: pulumi.Output<string>;
  readonly namespace: string;

  private readonly base: string;
  private readonly tags: Record<string, string>;

  constructor(name: string, args: TestShopArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:TestShop", name, {}, opts);
    this.base = testShopBaseName(args.identity.shop, args.envId);
    this.tags = shopTags(args.identity, { "ikou:testenv": args.envId, Name: this.base });
    this.namespace = `${args.envId}.${args.shopId}.testshop.internal`;
    const child = { parent: this };

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/ikou/testshop/${args.shopId}/${args.envId}`, retentionInDays: 7, tags: this.tags },
      child,
    );
    const sg = this.securityGroup(name, args);
    const namespace = new aws.servicediscovery.PrivateDnsNamespace(
      `${name}-ns`,
      {
        name: this.namespace,
        vpc: args.platform.vpcId,
        description: `ikou test env ${args.envId}`,
        tags: this.tags,
      },
      child,
    );
    const hosts = Object.fromEntries(
      PUBLIC_SERVICES.map((svc, i) => [svc, this.publicEntry(name, svc, i, args)]),
    ) as Record<
      (typeof PUBLIC_SERVICES)[number],
      { host: pulumi.Output<string>; targetGroup: aws.lb.TargetGroup }
    >;
    const settings = this.settings(name, args, hosts.metabase.host);
    const execution = this.executionRole(name, args, logGroup.arn, settings.parameterArns);
    const services = TEST_SHOP_SERVICE_NAMES.map((svc) =>
      this.service(name, svc, args, {
        sg,
        execution,
        logGroup,
        namespaceId: namespace.id,
        targetGroup: (hosts as Partial<Record<TestShopService, { targetGroup: aws.lb.TargetGroup }>>)[svc]
          ?.targetGroup,
        settings: settings.env,
      }),
    );
    const project = this.buildProject(name, args, { services, execution, logGroup });

    this.url = pulumi.interpolate`https://${hosts.nginx.host}`;
    this.metabaseUrl = pulumi.interpolate`https://${hosts.metabase.host}`;
    this.targetGroupArn = hosts.nginx.targetGroup.arn;
    this.targetGroupArnSuffix = hosts.nginx.targetGroup.arnSuffix;
    this.buildProjectName = project.name;
    this.registerOutputs({
      url: this.url,
      metabaseUrl: this.metabaseUrl,
      targetGroupArn: this.targetGroupArn,
      targetGroupArnSuffix: this.targetGroupArnSuffix,
      buildProjectName: this.buildProjectName,
    });
  }

  /** ALB → nginx and metabase; the services reach each other on their own ports only. */
  private securityGroup(name: string, args: TestShopArgs): aws.ec2.SecurityGroup {
    const child = { parent: this };
    const sg = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        name: `${this.base}-tasks`,
        vpcId: args.platform.vpcId,
        description: `ikou test env ${args.envId} of ${args.identity.shop}`,
        tags: this.tags,
      },
      child,
    );
    for (const svc of PUBLIC_SERVICES) {
      const port = TEST_SHOP_SERVICES[svc].port;
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-to-${svc}`,
        {
          securityGroupId: sg.id,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          referencedSecurityGroupId: args.platform.albSecurityGroupId,
          description: `shared ALB to ${svc}`,
          tags: this.tags,
        },
        child,
      );
    }
    const internal = [
      ...new Set(
        TEST_SHOP_SERVICE_NAMES.filter((s) => s !== "nginx").flatMap((s) => TEST_SHOP_SERVICES[s].port ?? []),
      ),
    ];
    for (const port of internal) {
      const rule = {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: sg.id,
        description: "between this env's services",
        tags: this.tags,
      };
      new aws.vpc.SecurityGroupIngressRule(`${name}-internal-${port}`, rule, child);
      new aws.vpc.SecurityGroupEgressRule(`${name}-internal-${port}`, rule, child);
    }
    return sg;
  }

  /** A host name in the platform's zone, a host rule on the shared listener, and a target group. */
  private publicEntry(
    name: string,
    svc: (typeof PUBLIC_SERVICES)[number],
    index: number,
    args: TestShopArgs,
  ): { host: pulumi.Output<string>; targetGroup: aws.lb.TargetGroup } {
    const child = { parent: this };
    const label = svc === "nginx" ? `${args.envId}-${args.shopId}` : `${args.envId}-${args.shopId}-bi`;
    const host = pulumi.interpolate`${label}.${args.platform.domain}`;
    const port = TEST_SHOP_SERVICES[svc].port;
    const targetGroup = new aws.lb.TargetGroup(
      `${name}-${svc}`,
      {
        name: svc === "nginx" ? this.base : `${this.base}-bi`.slice(0, 32),
        vpcId: args.platform.vpcId,
        targetType: "ip",
        port,
        protocol: "HTTP",
        healthCheck: { path: svc === "nginx" ? "/" : "/api/health", matcher: "200-399" },
        deregistrationDelay: 10,
        tags: this.tags,
      },
      child,
    );
    albHost(this, `${name}-${svc}`, {
      host,
      listenerArn: args.platform.httpsListenerArn,
      priority: pulumi.output(args.rulePriority).apply((p) => p + index),
      targetGroupArn: targetGroup.arn,
      zoneId: args.platform.hostedZoneId,
      alb: { dnsName: args.platform.albDnsName, zoneId: args.platform.albZoneId },
      evaluateTargetHealth: false,
      tags: this.tags,
    });
    return { host, targetGroup };
  }

  /**
   * The services' settings as SSM parameters under this env's path; the DB credentials stay in the
   * shop's Secrets Manager secret. Task definitions reference both, so no value sits in a definition.
   */
  private settings(
    name: string,
    args: TestShopArgs,
    metabaseHost: pulumi.Output<string>,
  ): { env: Setting[]; parameterArns: pulumi.Output<string>[] } {
    const values: Record<string, pulumi.Input<string>> = {
      DATABASE_HOST: args.shop.db.host,
      DATABASE_PORT: pulumi.output(args.shop.db.port).apply(String),
      DATABASE_NAME: args.shop.db.name,
      REDIS_URL: `redis://redis.${this.namespace}:${TEST_SHOP_SERVICES.redis.port}/0`,
      BACKEND_URL: `http://backend.${this.namespace}:${TEST_SHOP_SERVICES.backend.port}`,
      MB_SITE_URL: pulumi.interpolate`https://${metabaseHost}`,
    };
    const path = `${TEST_SHOP_PARAMETER_ROOT}/${args.shopId}/${args.envId}`;
    const params = Object.entries(values).map(([key, value]) => {
      const p = new aws.ssm.Parameter(
        `${name}-${key.toLowerCase().replaceAll("_", "-")}`,
        { name: `${path}/${key}`, type: "String", value, tags: this.tags },
        { parent: this },
      );
      return { name: key, valueFrom: p.arn };
    });
    return {
      env: [
        ...params,
        { name: "DATABASE_USER", valueFrom: pulumi.interpolate`${args.shop.db.secretArn}:username::` },
        { name: "DATABASE_PASSWORD", valueFrom: pulumi.interpolate`${args.shop.db.secretArn}:password::` },
      ],
      parameterArns: params.map((p) => p.valueFrom),
    };
  }

  private executionRole(
    name: string,
    args: TestShopArgs,
    logGroupArn: pulumi.Output<string>,
    parameterArns: pulumi.Output<string>[],
  ): aws.iam.Role {
    return serviceRole(this, `${name}-execution`, {
      roleName: `${this.base}-execution`,
      service: "ecs-tasks.amazonaws.com",
      tags: this.tags,
      permissionsBoundary: args.platform.roleBoundaryArn,
      statements: [
        ECR_LOGIN,
        {
          Sid: "Pull",
          Effect: "Allow",
          Action: ECR_PULL_ACTIONS,
          Resource: TEST_SHOP_SERVICE_NAMES.map((s) =>
            pulumi.output(args.shop.repositoryArns).apply((a) => a[s]!),
          ),
        },
        logWrite(logGroupArn),
        { Sid: "Settings", Effect: "Allow", Action: "ssm:GetParameters", Resource: parameterArns },
        {
          Sid: "DbSecret",
          Effect: "Allow",
          Action: "secretsmanager:GetSecretValue",
          Resource: args.shop.db.secretArn,
        },
      ],
    });
  }

  private service(
    name: string,
    svc: TestShopService,
    args: TestShopArgs,
    deps: {
      sg: aws.ec2.SecurityGroup;
      execution: aws.iam.Role;
      logGroup: aws.cloudwatch.LogGroup;
      namespaceId: pulumi.Output<string>;
      targetGroup: aws.lb.TargetGroup | undefined;
      settings: Setting[];
    },
  ): aws.ecs.Service {
    const spec = TEST_SHOP_SERVICES[svc];
    const child = { parent: this };
    const task = new aws.ecs.TaskDefinition(
      `${name}-${svc}`,
      {
        family: `${this.base}-${svc}`,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: String(spec.cpu),
        memory: String(spec.memory),
        executionRoleArn: deps.execution.arn,
        containerDefinitions: pulumi.jsonStringify([
          {
            name: svc,
            image: pulumi.interpolate`${pulumi.output(args.shop.repositoryUrls).apply((u) => u[svc]!)}:${args.imageTag}`,
            essential: true,
            portMappings: spec.port === undefined ? [] : [{ containerPort: spec.port, protocol: "tcp" }],
            secrets: svc === "redis" ? [] : deps.settings,
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
        tags: this.tags,
      },
      child,
    );
    const discovery =
      spec.port === undefined
        ? undefined
        : new aws.servicediscovery.Service(
            `${name}-${svc}`,
            {
              name: svc,
              namespaceId: deps.namespaceId,
              dnsConfig: {
                namespaceId: deps.namespaceId,
                dnsRecords: [{ type: "A", ttl: 10 }],
                routingPolicy: "MULTIVALUE",
              },
              healthCheckCustomConfig: { failureThreshold: 1 },
              forceDestroy: true,
              tags: this.tags,
            },
            child,
          );
    return new aws.ecs.Service(
      `${name}-${svc}`,
      {
        name: `${this.base}-${svc}`,
        cluster: args.platform.clusterArn,
        taskDefinition: task.arn,
        launchType: "FARGATE",
        desiredCount: 1,
        networkConfiguration: {
          subnets: args.platform.privateSubnetIds,
          securityGroups: [deps.sg.id, args.platform.tasksSecurityGroupId],
          assignPublicIp: false,
        },
        serviceRegistries: discovery ? { registryArn: discovery.arn } : undefined,
        loadBalancers: deps.targetGroup
          ? [{ targetGroupArn: deps.targetGroup.arn, containerName: svc, containerPort: spec.port! }]
          : [],
        propagateTags: "SERVICE",
        tags: this.tags,
      },
      // CodeBuild rolls new task definition revisions; Pulumi must not roll them back.
      { parent: this, ignoreChanges: ["taskDefinition"] },
    );
  }

  private buildProject(
    name: string,
    args: TestShopArgs,
    deps: { services: aws.ecs.Service[]; execution: aws.iam.Role; logGroup: aws.cloudwatch.LogGroup },
  ): aws.codebuild.Project {
    const repoArns = pulumi.output(args.shop.repositoryArns);
    const statements: Statement[] = [
      ECR_LOGIN,
      {
        Sid: "PushShopImages",
        Effect: "Allow",
        Action: ECR_PUSH_ACTIONS,
        Resource: BUILT_UNITS.map((u) => repoArns.apply((a) => a[u]!)),
      },
      TASK_DEFINITIONS,
      {
        Sid: "Deploy",
        Effect: "Allow",
        Action: ["ecs:UpdateService", "ecs:DescribeServices"],
        Resource: deps.services.map((s) => s.id),
      },
      { Sid: "PassExecutionRole", Effect: "Allow", Action: "iam:PassRole", Resource: deps.execution.arn },
      logWrite(deps.logGroup.arn),
    ];
    const role = serviceRole(this, `${name}-build`, {
      roleName: `${this.base}-build`,
      service: "codebuild.amazonaws.com",
      tags: this.tags,
      permissionsBoundary: args.platform.roleBoundaryArn,
      statements,
    });
    return new aws.codebuild.Project(
      `${name}-build`,
      {
        name: `${this.base}-deploy`,
        serviceRole: role.arn,
        source: {
          type: "GITHUB",
          location: args.shop.sourceRepo,
          buildspec: testShopBuildspec(BUILT_UNITS, TEST_SHOP_SERVICE_NAMES),
        },
        sourceVersion: args.branch,
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: "BUILD_GENERAL1_MEDIUM",
          image: "aws/codebuild/standard:7.0",
          privilegedMode: true, // docker build
          environmentVariables: [
            { name: "SERVICE_PREFIX", value: this.base },
            { name: "CLUSTER", value: args.platform.clusterArn },
            {
              name: "REGISTRY",
              value: pulumi.output(args.shop.repositoryUrls).apply((u) => u["backend"]!.split("/")[0]!),
            },
            { name: "REPO_PREFIX", value: `ikou/${args.identity.shop}` },
          ],
        },
        logsConfig: { cloudwatchLogs: { groupName: deps.logGroup.name, streamName: "build" } },
        tags: this.tags,
      },
      { parent: this },
    );
  }
}

interface Setting {
  name: string;
  valueFrom: pulumi.Input<string>;
}

/**
 * Images are tagged by commit and shared by every env of the shop: a unit whose tag already exists
 * is not rebuilt (tags are immutable, so a rebuild would fail), then each service is pointed at it.
 */
export function testShopBuildspec(units: readonly ImageUnit[], services: readonly TestShopService[]): string {
  const build = units.map(
    (u) =>
      `aws ecr describe-images --repository-name $REPO_PREFIX/${u} --image-ids imageTag=$TAG >/dev/null 2>&1 || { docker build -t $REGISTRY/$REPO_PREFIX/${u}:$TAG --build-arg BASE=$REGISTRY/$REPO_PREFIX/ruby-base:$TAG units/${u} && docker push $REGISTRY/$REPO_PREFIX/${u}:$TAG; }`,
  );
  const deploy = services.map(
    (s) =>
      `aws ecs describe-task-definition --task-definition $SERVICE_PREFIX-${s} --query taskDefinition | jq --arg img $REGISTRY/$REPO_PREFIX/${s}:$TAG '.containerDefinitions[0].image=$img | {family,containerDefinitions,cpu,memory,networkMode,requiresCompatibilities,executionRoleArn}' > td-${s}.json && aws ecs update-service --cluster $CLUSTER --service $SERVICE_PREFIX-${s} --task-definition $(aws ecs register-task-definition --cli-input-json file://td-${s}.json --query taskDefinition.taskDefinitionArn --output text)`,
  );
  const lines = [
    "version: 0.2",
    "phases:",
    "  pre_build:",
    "    commands:",
    "      - export TAG=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c1-12)",
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
