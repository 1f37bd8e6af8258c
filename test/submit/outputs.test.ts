// The stack's outputs through the Automation API from the stack's backend (the real Pulumi CLI,
// a file backend): a stack with outputs gives them, one never brought up is a clear error.
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_NAME, workspaceOptions } from "../../lib/pulumi-workspace.ts";
import { outputsFromStack } from "../../submit/outputs.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const PASSPHRASE = "test-only-passphrase";
const ARN = "arn:aws:batch:ap-northeast-1:111122223333";
const outputs = {
  region: "ap-northeast-1",
  jobQueueArn: `${ARN}:job-queue/shop-kaede-imports`,
  jobDefinitionArns: {
    import: `${ARN}:job-definition/shop-kaede-import:1`,
    verify: `${ARN}:job-definition/shop-kaede-verify:1`,
  },
  logGroupName: "/ikou/shop-kaede/batch",
  bucketName: "ikou-shop-kaede",
  bucketPrefix: "shop-kaede/",
};

describe("stack outputs from the backend", () => {
  const dirs = tempDirs();
  afterAll(dirs.removeAll);

  it("reads an upped stack's outputs, and names a stack without outputs", async () => {
    const backend = await dirs.make("ikou-outputs-");
    const opts = await workspaceOptions({ backend, passphrase: PASSPHRASE, projectName: PROJECT_NAME });
    const up = await LocalWorkspace.createStack(
      { projectName: PROJECT_NAME, stackName: "shop-kaede", program: async () => outputs },
      opts,
    );
    await up.up();
    await LocalWorkspace.createStack(
      { projectName: PROJECT_NAME, stackName: "shop-empty", program: async () => ({}) },
      opts,
    );

    expect(await outputsFromStack({ stack: "shop-kaede", backend, passphrase: PASSPHRASE })).toEqual(outputs);
    await expect(outputsFromStack({ stack: "shop-empty", backend, passphrase: PASSPHRASE })).rejects.toThrow(
      "stack shop-empty: the stack has no outputs; run `pulumi up` for it first",
    );
  });
});
