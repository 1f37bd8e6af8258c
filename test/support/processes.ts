// Reading the process tree from /proc, for tests that check what runs under what.
import { readFile } from "node:fs/promises";

/** The direct children of a process (Linux: its main thread's children list). */
export async function childrenOf(pid: number): Promise<number[]> {
  return (await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => ""))
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}
