// The split stage cuts each export by the runner's own shard rule and moves bytes only: every
// record lands in exactly one shard file, unchanged, behind the file's own header, and every row
// of a shard file belongs to that shard by the rule the import children filter with.
import { readFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readerOf } from "../../runner/core/records.ts";
import { inShard, shardHash } from "../../runner/core/shard.ts";
import { readCsvRecords } from "../../runner/input/csv-records.ts";
import { listInputs } from "../../runner/input/location.ts";
import { classify } from "../../runner/job/classify.ts";
import { csvDialect, newTally } from "../../runner/parse/chunk-source.ts";
import { resolveSource } from "../../runner/sources/index.ts";
import { generateEccube4 } from "../../scripts/generate-eccube4.ts";
import { localSink, splitExports } from "../../submit/split.ts";

const lines = (b: Buffer) => b.toString("latin1").split("\n").filter(Boolean);

describe("split", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-split-"));
    await generateEccube4({ dir: path.join(dir, "in"), orders: 3000, seed: 5, badRows: true });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("moves every record's bytes to exactly one shard, by the runner's shard rule", async () => {
    const adapter = await resolveSource("eccube4");
    const out = path.join(dir, "shards");
    const { manifest } = await splitExports({
      adapter,
      input: path.join(dir, "in"),
      shards: 3,
      sink: localSink(out),
    });
    const files = await classify(adapter, await listInputs(path.join(dir, "in")));
    for (const { file, entity } of files) {
      const original = await readFile(path.join(dir, "in", file.name));
      const [header, ...records] = lines(original);
      const parts = await Promise.all([0, 1, 2].map((i) => readFile(path.join(out, String(i), file.name))));
      const pieces = parts.map(lines);
      for (const p of pieces) expect(p[0]).toBe(header);
      expect(pieces.flatMap((p) => p.slice(1)).sort()).toEqual([...records].sort());
      expect(Buffer.concat(parts).length).toBe(
        original.length + 2 * (Buffer.byteLength(header!, "latin1") + 1),
      );
      const m = manifest.files.find((f) => f.name === file.name)!;
      expect(m.perShard.reduce((s, x) => s + x.records, 0)).toBe(m.records);

      const reader = readerOf(adapter, entity);
      for (const [index, part] of parts.entries()) {
        const stats = newTally(file.name, entity).encoding;
        let rows = 0;
        const { Readable } = await import("node:stream");
        for await (const item of readCsvRecords(
          Readable.from([part]),
          file.name,
          csvDialect(adapter),
          stats,
        )) {
          if (item.kind === "header" || item.problem?.malformed) continue;
          rows++;
          expect(
            inShard(shardHash(reader.shardKey(item.row)), { index, count: 3 }),
            `${file.name} line ${item.row.line}`,
          ).toBe(true);
        }
        expect(rows).toBeGreaterThan(0);
      }
    }
  });
});
