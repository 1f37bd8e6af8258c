// Temporary folders for one test file, all removed together in its afterAll.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export function tempDirs() {
  const made: string[] = [];
  return {
    /** A new empty folder under the system's temp dir, named `<prefix><random>`. */
    make: async (prefix: string): Promise<string> => {
      const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    removeAll: async (): Promise<void> => {
      await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
