// No column is silently dropped: the cells of columns a reader does not map go, as JSON, to the
// `extra` column of the group's entity row (a customer, a product, an order).
import {
  ENTITY_TABLE,
  type Entity,
  type EntityReader,
  type SourceRow,
  type TargetRecord,
} from "./records.ts";

/** The headers of a file its reader leaves unmapped; none when the reader does not list its columns. */
export function unmappedHeaders(reader: EntityReader, headers: readonly string[]): string[] {
  const mapped = reader.columns;
  return mapped ? headers.filter((h) => !mapped.has(h)) : [];
}

/**
 * The group's unmapped cells as one JSON object, or null when they are all empty: the first row's
 * under their header, a later row's only where it differs, under `<header> (line N)`.
 */
export function extraOf(rows: readonly SourceRow[], unmapped: readonly string[]): string | null {
  if (unmapped.length === 0) return null;
  // Written as text directly: a keyed object per group, then JSON.stringify, cost ~7% of the parse thread.
  let json = "";
  const head = rows[0]!.fields;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (const h of unmapped) {
      const v = row.fields[h];
      if (!v || (i > 0 && v === head[h])) continue;
      json += `${json ? "," : "{"}${JSON.stringify(i === 0 ? h : `${h} (line ${row.line})`)}:${JSON.stringify(v)}`;
    }
  }
  return json ? `${json}}` : null;
}

/** Puts the group's extra on its entity row, when it has one. */
export function attachExtra(entity: Entity, records: readonly TargetRecord[], extra: string | null): void {
  if (extra === null) return;
  const table = ENTITY_TABLE[entity];
  const row = records.find((r) => r.table === table);
  if (row) row.values.extra = extra;
}
