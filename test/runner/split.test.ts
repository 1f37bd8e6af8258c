// Several parse threads over byte ranges of one file must see exactly what one reader sees.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { newTally, preparedChunks } from "../../runner/parse/chunk-source.ts";
import { WHOLE } from "../../runner/core/shard.ts";
import { readCsvRecords } from "../../runner/input/csv-records.ts";
import { listInputs, type InputFile } from "../../runner/input/location.ts";
import { splitRanges, type ByteRange } from "../../runner/input/split.ts";
import { eccube4 } from "../../runner/sources/eccube4.ts";
import { generateEccube4 } from "../../scripts/generate-eccube4.ts";

interface Seen {
  line: number;
  offset: number;
  group: string;
}

async function scan(file: InputFile, headers: string[], range?: ByteRange): Promise<Seen[]> {
  const seen: Seen[] = [];
  const chunks = preparedChunks({
    adapter: eccube4,
    file,
    entity: "orders",
    shard: WHOLE,
    committed: [],
    limits: { rows: 300, bytes: 1 << 20 },
    tally: newTally(file.name, "orders"),
    ...(range ? { range, headers } : {}),
  });
  for await (const chunk of chunks) {
    for (const g of chunk.groups)
      for (const r of g.rows) seen.push({ line: r.line, offset: r.offset, group: g.key });
  }
  return seen;
}

describe("byte-range splitting", () => {
  let file: InputFile;
  let headers: string[];
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ikou-split-"));
    const gen = await generateEccube4({ dir, orders: 3000, seed: 5, badRows: true });
    file = (await listInputs(gen.files.orders))[0]!;
    for await (const item of readCsvRecords(
      await file.open(),
      file.name,
      "cp932",
      newTally("", "orders").encoding,
    )) {
      if (item.kind === "header") headers = item.headers;
      break;
    }
  });

  it("cuts on record boundaries with the right lines and ordinals", async () => {
    const ranges = await splitRanges(file, 4, 64 << 10);
    expect(ranges).toHaveLength(4);
    expect(ranges[0]!.start).toBe(0);
    expect(ranges.at(-1)!.end).toBe(file.size);
    const whole = await scan(file, headers);
    for (const r of ranges.slice(1)) {
      const at = whole.find((s) => s.offset === r.start);
      expect(at, `a record starts at byte ${r.start}`).toBeDefined();
      expect(at!.line).toBe(r.firstLine);
    }
  });

  it("ranges together yield every row once, with no group split between two of them", async () => {
    const whole = await scan(file, headers);
    const ranges = await splitRanges(file, 3, 64 << 10);
    const parts = await Promise.all(ranges.map((r) => scan(file, headers, r)));
    const merged = parts.flat().sort((a, b) => a.offset - b.offset);
    expect(merged).toEqual(whole);
    const owners = new Map<string, number>();
    parts.forEach((part, i) =>
      part.forEach((s) => {
        expect(owners.get(s.group) ?? i, `group ${s.group}`).toBe(i);
        owners.set(s.group, i);
      }),
    );
    expect(parts.every((p) => p.length > 0)).toBe(true);
  });

  it("does not split a file whose quotes do not balance", async () => {
    const text = 'a,b\n1,"open\n' + "2,x\n".repeat(40_000);
    const bytes = Buffer.from(text);
    const unbalanced: InputFile = {
      name: "bad.csv",
      size: bytes.length,
      fingerprint: "x",
      open: async () => (await import("node:stream")).Readable.from([bytes]),
    };
    expect(await splitRanges(unbalanced, 4, 1 << 10)).toHaveLength(1);
  });
});
