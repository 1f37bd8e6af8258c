import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { workspaceOptions } from "../../lib/pulumi-workspace.ts";
import { tempDirs } from "../support/temp-dirs.ts";

// A dynamic provider runs out of process through @pulumi/pulumi's pulumi-resource-pulumi-nodejs.
const greetingProvider: pulumi.dynamic.ResourceProvider = {
  create: async (inputs: { who: string }) => ({
    id: `greeting-${inputs.who}`,
    outs: { who: inputs.who, text: `こんにちは ${inputs.who}` },
  }),
};

class GreetingText extends pulumi.dynamic.Resource {
  declare readonly text: pulumi.Output<string>;
  constructor(name: string, args: { who: string }, opts?: pulumi.CustomResourceOptions) {
    super(greetingProvider, name, { who: args.who, text: undefined }, opts);
  }
}

class Greeting extends pulumi.ComponentResource {
  readonly text: pulumi.Output<string>;
  constructor(name: string, args: { who: string }, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:test:Greeting", name, {}, opts);
    this.text = new GreetingText(`${name}-text`, args, { parent: this }).text;
    this.registerOutputs({ text: this.text });
  }
}

describe("Pulumi CLI stand-in via the Automation API", () => {
  const dirs = tempDirs();
  afterAll(dirs.removeAll);

  it("creates a stack with a component and a dynamic resource, ups, reads outputs, destroys, removes", async () => {
    const backendDir = await dirs.make("ikou-pulumi-");
    const stack = await LocalWorkspace.createStack(
      {
        projectName: "ikou-automation-test",
        stackName: "dev",
        program: async () => {
          const g = new Greeting("hello", { who: "ikou" });
          return { text: g.text, secret: pulumi.secret("s3cr3t-value") };
        },
      },
      await workspaceOptions({
        backend: backendDir,
        passphrase: "test-passphrase",
        projectName: "ikou-automation-test",
      }),
    );
    const up = await stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs.text!.value).toBe("こんにちは ikou");
    expect(up.outputs.secret!.secret).toBe(true);
    // The file backend's state on disk must hold the secret only as ciphertext.
    const stateFile = path.join(backendDir, ".pulumi/stacks/ikou-automation-test/dev.json");
    const state = await readFile(stateFile, "utf8");
    expect(state).toContain("ikou:test:Greeting");
    expect(state).toContain("ciphertext");
    expect(state).not.toContain("s3cr3t-value");

    const destroyed = await stack.destroy();
    expect(destroyed.summary.result).toBe("succeeded");
    await stack.workspace.removeStack("dev");
    const stacks = await stack.workspace.listStacks();
    expect(stacks.map((s) => s.name)).not.toContain("dev");
  });
});
