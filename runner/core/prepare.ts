// A chunk of row groups → target records, rejects and findings, through a source adapter. Pure.
import type { Chunk, RowGroup } from "./chunks.ts";
import {
  readerOf,
  type Entity,
  type Finding,
  type GroupResult,
  type Reject,
  type SourceAdapter,
  type SourceRow,
  type TargetRecord,
} from "./records.ts";
import { attachExtra, extraOf, unmappedHeaders } from "./extra-columns.ts";
import { rejectGroup, rejectGroupFor } from "./group-results.ts";
import { shardHash } from "./shard.ts";

export interface PreparedGroup {
  key: string;
  rows: SourceRow[];
  records: TargetRecord[];
  shardHash: number;
  loaded: number;
  skipped: number;
}

export interface PreparedChunk {
  file: string;
  entity: Entity;
  seq: number;
  firstOrdinal: number;
  lastOrdinal: number;
  groups: PreparedGroup[];
  rejects: Reject[];
  findings: Finding[];
  read: number;
}

/**
 * A group loads whole or not at all: when an adapter rejected some of its rows and kept others
 * (a customer's repeated row, one bad line), every row becomes a reject, the rejected ones with
 * their own reasons.
 */
function wholeOrNothing(entity: Entity, group: RowGroup, result: GroupResult): GroupResult {
  if (result.rejects.length === 0 || result.rejects.length === group.rows.length) return result;
  const own = new Map(result.rejects.map((r) => [r.offset, r]));
  const problems = group.rows.map((row) => {
    const r = own.get(row.offset);
    return r ? [{ field: r.field, reason: r.reason }] : [];
  });
  return { ...rejectGroup(`${entity} ${group.key}`, group.rows, problems), findings: result.findings };
}

function readProblems(entity: Entity, group: RowGroup): Reject[] | undefined {
  const first = group.rows.find((r) => group.problems.has(r.ordinal));
  if (!first) return undefined;
  const problem = group.problems.get(first.ordinal)!;
  return rejectGroupFor(`${entity} ${group.key}`, group.rows, first, problem);
}

export function prepareChunk(adapter: SourceAdapter, entity: Entity, chunk: Chunk): PreparedChunk {
  const out: PreparedChunk = {
    file: chunk.groups[0]!.rows[0]!.file,
    entity,
    seq: chunk.seq,
    firstOrdinal: chunk.firstOrdinal,
    lastOrdinal: chunk.lastOrdinal,
    groups: [],
    rejects: [],
    findings: [],
    read: chunk.rows,
  };
  const reader = readerOf(adapter, entity);
  const unmapped = unmappedHeaders(reader, Object.keys(chunk.groups[0]!.rows[0]!.fields));
  for (const group of chunk.groups) {
    const unreadable = readProblems(entity, group);
    if (unreadable) {
      out.rejects.push(...unreadable);
      continue;
    }
    const result = wholeOrNothing(entity, group, reader.transform(group.rows));
    if (result.records.length) attachExtra(entity, result.records, extraOf(group.rows, unmapped));
    out.rejects.push(...result.rejects);
    out.findings.push(...result.findings);
    if (result.loaded === 0 && result.records.length === 0) {
      // Everything was rejected or skipped; nothing to stage. Skipped rows still count.
      if (result.skipped)
        out.groups.push({
          key: group.key,
          rows: group.rows,
          records: [],
          shardHash: 0,
          loaded: 0,
          skipped: result.skipped,
        });
      continue;
    }
    out.groups.push({
      key: group.key,
      rows: group.rows,
      records: result.records,
      shardHash: shardHash(reader.shardKey(group.rows[0]!)),
      loaded: result.loaded,
      skipped: result.skipped,
    });
  }
  return out;
}
