import { beforeAll, describe, expect, it } from "vitest";
import {
  AWSGUARD_WAIVERS,
  type GuardResource,
  type GuardResult,
  loadAwsGuardPolicies,
  runAwsGuard,
} from "../../infra/policies/awsguard.ts";

const res = (type: string, name: string, props: Record<string, unknown>): GuardResource => ({
  type,
  name,
  urn: `urn:pulumi:shop-test::ikou::${type}::${name}`,
  props,
});
let results: Map<string, GuardResult>;

beforeAll(async () => {
  const found = await runAwsGuard([
    res("aws:s3/bucket:Bucket", "bucket", { bucket: "data" }),
    res("aws:kms/key:Key", "rotating", { enableKeyRotation: true }),
    res("aws:kms/key:Key", "static", { enableKeyRotation: false }),
    res("aws:efs/fileSystem:FileSystem", "fs", {}),
  ]);
  results = new Map(found.map((r) => [r.policy, r]));
});

describe("@pulumi/awsguard over a resource graph", () => {
  it("loads every rule of awsguard 0.3.1 without starting a policy pack server", () => {
    const names = loadAwsGuardPolicies().map((p) => p.name);
    expect(names).toHaveLength(26);
    expect(names).toEqual(
      expect.arrayContaining([
        "s3-bucket-logging-enabled",
        "cmk-backing-key-rotation-enabled",
        "rds-instance-public-access",
      ]),
    );
  });

  it("reports real violations with the resource, and passes compliant ones", () => {
    const cmk = results.get("cmk-backing-key-rotation-enabled")!;
    expect(cmk.status).toBe("violation");
    expect(cmk.appliedTo).toBe(2);
    expect(cmk.messages).toEqual([
      "aws:kms/key:Key::static: CMK does not have the key rotation setting enabled",
    ]);
    expect(results.get("efs-encrypted")!.status).toBe("violation");
  });

  it("marks waived rules as waived with their reason instead of dropping them", () => {
    const logging = results.get("s3-bucket-logging-enabled")!;
    expect(logging.status).toBe("waived");
    expect(logging.messages).toHaveLength(1);
    expect(logging.waiver).toBe(AWSGUARD_WAIVERS["s3-bucket-logging-enabled"]);
  });

  it("says which rules target resource types @pulumi/aws 7 no longer has", () => {
    expect(results.get("alb-http-to-https-redirection")!.obsoleteTargets).toEqual([
      "aws:elasticloadbalancingv2/listener:Listener",
    ]);
    expect(results.get("elb-logging-enabled")!.obsoleteTargets).toHaveLength(3);
    expect(results.get("cmk-backing-key-rotation-enabled")!.obsoleteTargets).toEqual([]);
    expect(results.get("rds-instance-public-access")!.status).toBe("not-applicable");
  });
});
