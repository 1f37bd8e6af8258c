// Runs a source adapter over a fixture file the way the pipeline does: records as SourceRows
// (line = first line of the record, byte offset), consecutive rows grouped by the adapter's key.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse } from "csv-parse/sync";
import { expect } from "vitest";
import {
  ENTITIES,
  readerOf,
  type Entity,
  type SourceAdapter,
  type SourceRow,
  type TargetRecord,
} from "../../runner/core/records.ts";

export function readRows(path: string): SourceRow[] {
  const parsed = parse(readFileSync(path, "utf8"), { columns: true, info: true, raw: true }) as {
    record: Record<string, string>;
    raw: string;
    info: { lines: number; bytes: number };
  }[];
  return parsed.map(({ record, raw, info }, ordinal) => ({
    file: basename(path),
    line: info.lines - (raw.replace(/\n$/, "").split("\n").length - 1),
    offset: info.bytes - Buffer.byteLength(raw),
    ordinal,
    raw,
    fields: record,
  }));
}

export function groupRows(adapter: SourceAdapter, entity: Entity, rows: readonly SourceRow[]): SourceRow[][] {
  const out: SourceRow[][] = [];
  let key: string | undefined;
  for (const row of rows) {
    const k = readerOf(adapter, entity).groupKey(row);
    if (k !== key || out.length === 0) out.push([]);
    out.at(-1)!.push(row);
    key = k;
  }
  return out;
}

/** Transforms every group of a file and checks each accounts for all its rows. */
export function transformFile(
  adapter: SourceAdapter,
  entity: Entity,
  path: string,
  edit?: (rows: SourceRow[]) => void,
) {
  const rows = readRows(path);
  edit?.(rows);
  const results = groupRows(adapter, entity, rows).map((g) => ({
    rows: g,
    result: readerOf(adapter, entity).transform(g),
  }));
  for (const { rows: g, result } of results)
    expect(result.loaded + result.skipped + result.rejects.length).toBe(g.length);
  return { rows, results, records: results.flatMap((r) => r.result.records) };
}

export function findRecord(records: readonly TargetRecord[], table: string, sourceId: string): TargetRecord {
  const rec = records.find((r) => r.table === table && r.sourceId === sourceId);
  if (!rec)
    throw new Error(
      `no ${table} ${sourceId} in ${records.map((r) => `${r.table}:${r.sourceId}`).join(", ")}`,
    );
  return rec;
}

/** The kinds of file the adapter would take a file with these headers for (job/classify.ts's rule). */
export function entitiesFor(adapter: SourceAdapter, headers: readonly string[]): Entity[] {
  return ENTITIES.filter((e) =>
    adapter.readers[e]?.identify.some((set) => set.every((h) => headers.includes(h))),
  );
}

/** Each kind of file the adapter reads, with the header sets that identify it. */
export function identifiers(adapter: SourceAdapter): Partial<Record<Entity, readonly (readonly string[])[]>> {
  return Object.fromEntries(
    ENTITIES.flatMap((e) => (adapter.readers[e] ? [[e, adapter.readers[e].identify]] : [])),
  );
}
