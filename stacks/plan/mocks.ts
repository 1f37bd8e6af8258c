// Runs a Pulumi program in-process against Pulumi's unit-test mocks: nothing reaches AWS or the
// Pulumi service, every resource the program would register is recorded with its resolved inputs.
import * as pulumi from "@pulumi/pulumi";

export const MOCK_ACCOUNT_ID = "111122223333";

export interface PlannedResource {
  type: string;
  name: string;
  /** `type::name` of the parent, undefined for the stack's direct children. */
  parent: string | undefined;
  custom: boolean;
  /** Provider reference (`<urn>::<id>`) when the resource uses an explicit provider. */
  provider: string | undefined;
  /** `type::name` of the resources in its `dependsOn` option (what the engine waits for first). */
  dependsOn: string[];
  id: string;
  inputs: Record<string, unknown>;
  /** Inputs plus the provider-computed outputs the mocks made up (ids, ARNs, URLs). */
  state: Record<string, unknown>;
}

export interface MockRun<T> {
  resources: PlannedResource[];
  outputs: T;
}

export const resourceKey = (type: string, name: string): string => `${type}::${name}`;

/** Deterministic stand-ins for what AWS would compute, shaped like the real values. */
function computedOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  region: string,
): Record<string, unknown> {
  const [, module = "unknown"] = /^aws:([a-z0-9]+)\//i.exec(type) ?? [];
  const arn = `arn:aws:${module}:${region}:${MOCK_ACCOUNT_ID}:${name}`;
  const out: Record<string, unknown> = { arn, tagsAll: inputs["tags"] };
  if (type === "aws:ecr/repository:Repository") {
    out["repositoryUrl"] = `${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${String(inputs["name"])}`;
  }
  if (type === "aws:s3/bucket:Bucket") out["arn"] = `arn:aws:s3:::${String(inputs["bucket"])}`;
  if (type === "aws:kms/key:Key") out["keyId"] = `key-${name}`;
  if (type === "aws:ec2/vpcEndpoint:VpcEndpoint") out["prefixListId"] = `pl-${name}`;
  if (type === "aws:lb/loadBalancer:LoadBalancer") {
    out["arnSuffix"] = `app/${String(inputs["name"])}/0123456789abcdef`;
    out["dnsName"] = `${String(inputs["name"])}-123456789.${region}.elb.amazonaws.com`;
    out["zoneId"] = "Z14GRHDCWA56QT";
  }
  if (type === "aws:lb/targetGroup:TargetGroup")
    out["arnSuffix"] = `targetgroup/${String(inputs["name"])}/0123456789abcdef`;
  return out;
}

function fakeId(type: string, name: string): string {
  const prefix: Record<string, string> = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx",
  };
  return `${prefix[type] ?? "id"}-${name}`;
}

/**
 * Runs `program` as stack `stack` of `project` with `config` (`namespace:key -> string`, objects as
 * JSON) and returns what it registered. Mock state is per process: call once per process.
 */
export async function runUnderMocks<T>(opts: {
  project: string;
  stack: string;
  config: Record<string, string>;
  program: () => Promise<T>;
  /** Outputs of the stacks a program references (StackReference), by stack name. */
  stackOutputs?: (stack: string) => Record<string, unknown> | undefined;
}): Promise<MockRun<T>> {
  const region = opts.config["aws:region"] ?? "us-east-1";
  const resources: PlannedResource[] = [];
  const parents = new Map<string, string | undefined>();
  const dependsOn = new Map<string, string[]>();

  pulumi.runtime.setAllConfig(opts.config);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (args.type === "pulumi:pulumi:StackReference") {
          const name = String(args.inputs["name"]);
          const outputs = opts.stackOutputs?.(name);
          if (!outputs) throw new Error(`no outputs for referenced stack ${name}`);
          return { id: name, state: { name, outputs, secretOutputNames: [] } };
        }
        const id = fakeId(args.type, args.name);
        const state = { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs, region) };
        // Constructors run (and record parents) before their registration reaches the mocks.
        const parent = parents.get(resourceKey(args.type, args.name));
        resources.push({
          dependsOn: dependsOn.get(resourceKey(args.type, args.name)) ?? [],
          type: args.type,
          name: args.name,
          parent,
          custom: args.custom ?? true,
          provider: args.provider || undefined,
          id,
          inputs: args.inputs,
          state,
        });
        return { id, state };
      },
      call(args) {
        if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") {
          return {
            accountId: MOCK_ACCOUNT_ID,
            arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/plan`,
            userId: "PLAN",
            id: MOCK_ACCOUNT_ID,
          };
        }
        if (args.token === "aws:index/getRegion:getRegion") return { name: region, region, id: region };
        return args.inputs;
      },
    },
    opts.project,
    opts.stack,
    true,
  );

  let outputs: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    // Mocks do not report parents; a stack transformation sees every resource with its options.
    pulumi.runtime.registerStackTransformation((t) => {
      const parent = t.opts.parent;
      parents.set(resourceKey(t.type, t.name), parent && keyOf.get(parent));
      const deps = t.opts.dependsOn;
      const list = Array.isArray(deps) ? deps : deps instanceof pulumi.Resource ? [deps] : [];
      dependsOn.set(
        resourceKey(t.type, t.name),
        list.flatMap((d) => (d instanceof pulumi.Resource && keyOf.get(d)) || []),
      );
      keyOf.set(t.resource, resourceKey(t.type, t.name));
      return undefined;
    });
    outputs = await opts.program();
    return {};
  });
  const settled = (await settle(outputs)) as T;
  // Resources nothing exported depends on (routes, rules) may still be registering; drain the queue.
  await pulumi.runtime.disconnect();
  return { resources, outputs: settled };
}

const keyOf = new WeakMap<pulumi.Resource, string>();

/** Resolves every Output inside a value (stack outputs are nested records of outputs). */
export async function settle(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return settle(await promiseOf(value));
  if (Array.isArray(value)) return Promise.all(value.map(settle));
  if (value && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await settle(v)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** The value of an output; an output the mocks left unknown resolves to undefined instead of never. */
export async function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  const internal = output as unknown as {
    promise(withUnknowns?: boolean): Promise<T>;
    isKnown: Promise<boolean>;
  };
  if (!(await internal.isKnown)) return undefined as T;
  return internal.promise();
}
