// The reference an interrupted, resumed or sharded run is held to: one uninterrupted `ikou import`,
// its JSON report and the checksums of the target it left.
import { expect } from "vitest";
import { checksumsAt, type TargetChecksums } from "../../../scripts/target-checksums.ts";
import { reportOf, runIkou, type StartOptions } from "./ikou-process.ts";

export async function cleanImport<R>(
  dbUrl: string,
  args: string[],
  how: StartOptions = {},
): Promise<{ report: R; sums: TargetChecksums }> {
  const run = await runIkou(args, {}, how);
  expect(run.code, run.stderr).toBe(0);
  return { report: reportOf<R>(run), sums: await checksumsAt(dbUrl) };
}
