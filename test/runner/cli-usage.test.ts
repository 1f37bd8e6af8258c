// Command-line mistakes are usage errors (exit 2) that name the flag, before anything is read.
import { describe, expect, it, vi } from "vitest";
import { main } from "../../runner/cli.ts";

async function exitOf(argv: string[], env: Record<string, string> = {}) {
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await main(argv);
    return { code, message: stderr.mock.calls.map((c) => String(c[0])).join("") };
  } finally {
    process.env = saved;
    stderr.mockRestore();
  }
}

describe("ikou import usage errors", () => {
  const base = ["import", "--input", "/nonexistent", "--dry-run"];

  it("an unknown --source exits 2 and names the flag", async () => {
    const r = await exitOf([...base, "--source", "makeshop"]);
    expect(r.code).toBe(2);
    expect(r.message).toContain("--source makeshop");
  });

  it("a malformed or out-of-range --shard exits 2", async () => {
    for (const shard of ["2/2", "a/b", "1"]) {
      const r = await exitOf([...base, "--source", "eccube4", "--shard", shard]);
      expect(r.code, shard).toBe(2);
      expect(r.message).toContain(`--shard ${shard}`);
    }
  });

  it("a bad AWS Batch array index exits 2 and names the variables", async () => {
    const r = await exitOf([...base, "--source", "eccube4"], {
      AWS_BATCH_JOB_ARRAY_INDEX: "4",
      AWS_BATCH_JOB_ARRAY_SIZE: "4",
    });
    expect(r.code).toBe(2);
    expect(r.message).toContain("AWS_BATCH_JOB_ARRAY_INDEX");
  });
});
