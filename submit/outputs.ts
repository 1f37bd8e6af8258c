// What `ikou submit` needs from a shop's stack (stacks/program.ts outputs): read from the
// stack's backend through the Automation API, or from a JSON file (`pulumi stack output --json`).
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { UsageError } from "../lib/errors.ts";
import { PROJECT_NAME, workspaceOptions } from "../lib/pulumi-workspace.ts";

const arn = z.string().regex(/^arn:aws[a-z-]*:batch:/, "must be an AWS Batch ARN");

const outputsSchema = z.object({
  region: z.string().min(1),
  jobQueueArn: arn,
  jobDefinitionArns: z.looseObject({ import: arn, verify: arn }),
  logGroupName: z.string().min(1),
  bucketName: z.string().min(1),
  bucketPrefix: z.string(),
});

export type StackOutputs = z.infer<typeof outputsSchema>;

/** One message naming every missing or wrong key, and where the outputs came from. */
export function parseOutputs(raw: unknown, from: string): StackOutputs {
  if (raw === null || typeof raw !== "object" || Object.keys(raw).length === 0)
    throw new UsageError(`${from}: the stack has no outputs; run \`pulumi up\` for it first`);
  const parsed = outputsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const key = i.path.join(".");
    const missing = i.code === "invalid_type" && /received undefined/.test(i.message);
    return missing ? `${key}: missing` : `${key}: ${i.message}`;
  });
  const hint = problems.some((p) => p.startsWith("jobDefinitionArns.verify"))
    ? " (the stack predates the verify stage: `pulumi up` it with this version)"
    : "";
  throw new UsageError(`${from}: stack outputs unusable: ${problems.join("; ")}${hint}`);
}

export async function outputsFromFile(file: string): Promise<StackOutputs> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UsageError(`--outputs ${file}: cannot read the file`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--outputs ${file}: not JSON (${(err as Error).message})`);
  }
  return parseOutputs(raw, `--outputs ${file}`);
}

export interface BackendRef {
  stack: string;
  /** The stack's state backend: a file:// directory or URL (PULUMI_BACKEND_URL). */
  backend: string;
  passphrase: string;
}

/** The outputs as the stack's backend holds them; secrets stay out (the job reads its own). */
export async function outputsFromStack(ref: BackendRef): Promise<StackOutputs> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
  const ws = await LocalWorkspace.create(
    await workspaceOptions({ backend: ref.backend, passphrase: ref.passphrase, projectName: PROJECT_NAME }),
  );
  const from = `stack ${ref.stack}`;
  let outputs: Record<string, { value: unknown; secret: boolean }>;
  try {
    outputs = await ws.stackOutputs(ref.stack);
  } catch (err) {
    const text = String((err as Error).message);
    if (/no stack named|not found|does not exist/i.test(text))
      throw new UsageError(`${from}: no such stack in backend ${ref.backend}`);
    throw err;
  }
  const plain = Object.fromEntries(
    Object.entries(outputs)
      .filter(([, o]) => !o.secret)
      .map(([k, o]) => [k, o.value]),
  );
  return parseOutputs(plain, from);
}
