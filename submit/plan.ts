// What a run submits, decided before anything is uploaded: the stages, their job definitions,
// the import array's size, the environment each stage gets on top of its job definition's, the
// task size (checked against Fargate's allowed pairs) and the per-child timeout. Pure.
import { fargateSizeProblem } from "../infra/fargate.ts";
import { UsageError } from "../lib/errors.ts";
import { JOB_ENV, jobRuntimeEnv } from "../lib/job-contract.ts";

/** AWS Batch accepts array sizes 2..10,000; one shard is a plain job. */
export const MAX_SHARDS = 10_000;

/** The stages a run may have; `split` only when it cuts the exports for 2 or more shards. */
export const RUN_STAGES = ["split", "import", "verify"] as const;
export type RunStage = (typeof RUN_STAGES)[number];
/** The stages whose job definitions the stack must output; split runs on the import definition. */
export const DEFINED_STAGES = ["import", "verify"] as const;
export type DefinedStage = (typeof DEFINED_STAGES)[number];

/** What a job definition gives a stage unless the submit overrides it. */
export interface DefinitionInfo {
  arn: string;
  vcpu: number;
  memoryMiB: number;
  timeoutSeconds?: number;
  attempts: number;
  /** Whether its retry strategy retries what a Spot reclaim looks like (infra/batch.ts retryStrategy). */
  retriesSpot: boolean;
}

export interface SubmitFlags {
  shards: number;
  vcpu?: number;
  memoryMiB?: number;
  timeoutMinutes?: number;
  /** Cut the exports into one set of files per shard first (README: why, with the figures). */
  split?: boolean;
}

export interface StagePlan {
  stage: RunStage;
  jobName: string;
  jobDefinition: string;
  /** Set for an import of 2 or more shards: the children get AWS_BATCH_JOB_ARRAY_INDEX. */
  arraySize?: number;
  dependsOn?: RunStage;
  /** Overrides the job definition's command (`ikou <stage>`). */
  command?: string[];
  environment: { name: string; value: string }[];
  vcpu: number;
  memoryMiB: number;
  /** Only when the task size differs from the job definition's. */
  resourceRequirements?: { type: "VCPU" | "MEMORY"; value: string }[];
  timeoutSeconds?: number;
  attempts: number;
}

export interface RunPlan {
  run: string;
  shards: number;
  stages: StagePlan[];
}

/** Batch job names: letters, digits, hyphens and underscores, at most 128. */
export function jobName(label: string, run: string, stage: RunStage): string {
  return `${label.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "")}-${run}-${stage}`.slice(0, 128);
}

function sizeFor(def: DefinitionInfo, flags: SubmitFlags) {
  const vcpu = flags.vcpu ?? def.vcpu;
  const memoryMiB = flags.memoryMiB ?? def.memoryMiB;
  const problem = fargateSizeProblem(vcpu, memoryMiB);
  if (problem) {
    const flag = problem.field === "vcpu" ? "--vcpu" : "--memory";
    throw new UsageError(`${flag}: ${problem.message}`);
  }
  return { vcpu, memoryMiB, changed: vcpu !== def.vcpu || memoryMiB !== def.memoryMiB };
}

export function planRun(
  run: string,
  label: string,
  flags: SubmitFlags,
  defs: Record<DefinedStage, DefinitionInfo>,
): RunPlan {
  const { shards } = flags;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)
    throw new UsageError(`--shards ${shards}: expected an integer from 1 to ${MAX_SHARDS}`);
  const size = sizeFor(defs.import, flags);
  const runEnv = [{ name: JOB_ENV.run, value: run }];
  const importEnv = [
    ...runEnv,
    // Batch sets only the index; the runner needs n as well to know its share.
    ...(shards > 1 ? [{ name: JOB_ENV.arraySize, value: String(shards) }] : []),
    // The heap cap follows the task's memory (lib/job-contract.ts), so a resized task gets its own.
    ...(size.changed
      ? Object.entries(jobRuntimeEnv(size.memoryMiB)).map(([name, value]) => ({ name, value }))
      : []),
  ];
  const split = Boolean(flags.split) && shards > 1;
  // The split job does the import job's I/O (read the exports, write to the shop's prefix), so it
  // runs on the import definition (same image, role and size) with its own command.
  const splitStage: StagePlan = {
    stage: "split",
    jobName: jobName(label, run, "split"),
    jobDefinition: defs.import.arn,
    command: ["ikou", "split"],
    environment: [...runEnv, { name: JOB_ENV.shards, value: String(shards) }],
    vcpu: defs.import.vcpu,
    memoryMiB: defs.import.memoryMiB,
    timeoutSeconds: defs.import.timeoutSeconds,
    attempts: defs.import.attempts,
  };
  const importStage: StagePlan = {
    stage: "import",
    jobName: jobName(label, run, "import"),
    jobDefinition: defs.import.arn,
    ...(shards > 1 ? { arraySize: shards } : {}),
    ...(split ? { dependsOn: "split" as const, command: ["ikou", "shard-import"] } : {}),
    environment: importEnv,
    vcpu: size.vcpu,
    memoryMiB: size.memoryMiB,
    ...(size.changed
      ? {
          resourceRequirements: [
            { type: "VCPU" as const, value: String(size.vcpu) },
            { type: "MEMORY" as const, value: String(size.memoryMiB) },
          ],
        }
      : {}),
    timeoutSeconds: flags.timeoutMinutes ? flags.timeoutMinutes * 60 : defs.import.timeoutSeconds,
    attempts: defs.import.attempts,
  };
  const verifyStage: StagePlan = {
    stage: "verify",
    jobName: jobName(label, run, "verify"),
    jobDefinition: defs.verify.arn,
    dependsOn: "import",
    environment: [...runEnv, { name: JOB_ENV.shards, value: String(shards) }],
    vcpu: defs.verify.vcpu,
    memoryMiB: defs.verify.memoryMiB,
    timeoutSeconds: defs.verify.timeoutSeconds,
    attempts: defs.verify.attempts,
  };
  return { run, shards, stages: [...(split ? [splitStage] : []), importStage, verifyStage] };
}

/** Problems with a job definition that make a run fail late or cost more; said before submitting. */
export function definitionWarnings(stage: DefinedStage, def: DefinitionInfo): string[] {
  const out: string[] = [];
  if (!def.retriesSpot || def.attempts < 2)
    out.push(
      `${stage}: job definition ${def.arn} does not retry Spot interruptions (attempts ${def.attempts}): a reclaimed child fails the run`,
    );
  if (!def.timeoutSeconds)
    out.push(`${stage}: job definition ${def.arn} has no timeout: a hung child runs until cancelled`);
  return out;
}
