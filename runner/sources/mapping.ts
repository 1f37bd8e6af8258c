// Declarative adapter for carts without code of their own: a YAML/JSON mapping file says which
// headers identify a file, how rows group and shard, and which cells fill which target columns.
// The format is documented by test/fixtures/mapping/makeshop.yaml and ./mapping/schema.ts.
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { Cells } from "../core/cells.ts";
import type {
  Entity,
  EntityReader,
  GroupResult,
  Problem,
  SourceAdapter,
  SourceRow,
  TableName,
  TargetRecord,
  TargetRef,
  Value,
} from "../core/records.ts";
import { ENTITIES } from "../core/records.ts";
import { tableDef, type ColumnDef } from "../schema/tables.ts";
import { hasProblems, loadedGroup, rejectGroup } from "../core/group-results.ts";
import {
  formatIssues,
  mappingSchema,
  offsetMinutes,
  type ColumnMapping,
  type FileMapping,
  type MappingSpec,
  type TableMapping,
} from "./mapping/schema.ts";
import { compileTemplate, renderTemplate, type Template } from "./mapping/template.ts";

export { mappingSchema, type MappingSpec } from "./mapping/schema.ts";

/** A mapping file that cannot be used; `problems` has one line per problem, file and key path first. */
export class MappingError extends Error {
  readonly code = "mapping_invalid";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "MappingError";
  }
}

/** Validates parsed mapping data (from YAML or JSON); `file` only labels the problems. */
export function parseMapping(data: unknown, file: string): MappingSpec {
  const result = mappingSchema.safeParse(data, { reportInput: true });
  if (!result.success) throw new MappingError(formatIssues(file, result.error.issues));
  return result.data;
}

export async function loadMapping(file: string): Promise<SourceAdapter> {
  const ext = extname(file).toLowerCase();
  if (![".yaml", ".yml", ".json"].includes(ext))
    throw new MappingError([`${file}: expected a .yaml, .yml or .json file`]);
  const text = await readFile(file, "utf8");
  let data: unknown;
  try {
    // YAML is a superset of JSON, but JSON.parse gives JSON files JSON's own error messages.
    data = ext === ".json" ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new MappingError([`${file}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return mappingAdapter(parseMapping(data, file));
}

// ---------------------------------------------------------------------------------------------

interface CompiledColumn {
  name: string;
  def: ColumnDef;
  spec: ColumnMapping;
  template: Template | null;
}

interface CompiledTable {
  name: TableName;
  spec: TableMapping;
  sourceId: Template;
  columns: CompiledColumn[];
  refs: { ref: TargetRef; key: Template; required: boolean }[];
  aliases: Template[];
}

interface CompiledFile {
  spec: FileMapping;
  groupBy: Template;
  shardBy: Template | null;
  tables: CompiledTable[];
}

function compile(source: string): Template {
  const t = compileTemplate(source);
  if (typeof t === "string") throw new MappingError([t]);
  return t;
}

function compileTable(name: TableName, spec: TableMapping): CompiledTable {
  const def = tableDef(name);
  const columns = Object.entries(spec.columns).map(([column, col]): CompiledColumn => {
    const colDef = def.columns.find((c) => c.name === column);
    if (!colDef) throw new MappingError([`unknown column ${name}.${column}`]);
    return {
      name: column,
      def: colDef,
      spec: col,
      template: col.template === undefined ? null : compile(col.template),
    };
  });
  return {
    name,
    spec,
    sourceId: compile(spec.source_id),
    columns,
    refs: spec.refs.map((r) => ({
      ref: { column: r.column, table: r.table, key: "" },
      key: compile(r.key),
      required: r.required,
    })),
    aliases: spec.aliases.map(compile),
  };
}

function compileFile(spec: FileMapping): CompiledFile {
  // Object order of TABLES (parents first), so an order precedes its items in `records`.
  const tables = (Object.entries(spec.tables) as [TableName, TableMapping | undefined][]).flatMap(
    ([name, t]) => (t ? [compileTable(name, t)] : []),
  );
  return {
    spec,
    groupBy: compile(spec.group_by),
    shardBy: spec.shard_by === undefined ? null : compile(spec.shard_by),
    tables,
  };
}

// ---------------------------------------------------------------------------------------------

class RowReader {
  readonly problems: Problem[] = [];
  constructor(
    readonly row: SourceRow,
    private readonly tzMinutes: number,
  ) {}

  problem(field: string | null, reason: string): void {
    if (!this.problems.some((p) => p.field === field && p.reason === reason))
      this.problems.push({ field, reason });
  }

  /** Typed read through Cells over the effective text (after template, map and default). */
  column(col: CompiledColumn): Value {
    const { spec, def } = col;
    const field = col.template?.source ?? spec.from ?? col.name;
    let text = this.text(col, field);
    if (spec.strip_apostrophe && text.startsWith("'")) text = text.slice(1);
    if (spec.map && text !== "") {
      if (!Object.hasOwn(spec.map, text)) {
        this.problem(
          field,
          `no mapping for ${JSON.stringify(text)} (known: ${Object.keys(spec.map).join(", ")})`,
        );
        return null;
      }
      text = String(spec.map[text] ?? "");
    }
    if (text === "" && spec.default !== undefined) text = String(spec.default);
    if (text === "") {
      if (spec.required) this.problem(field, "required value is empty");
      return null;
    }
    const cells = new Cells({ ...this.row, fields: { [field]: text } });
    const value = this.read(cells, field, spec, def);
    for (const p of cells.problems) this.problem(p.field, p.reason);
    return value;
  }

  private text(col: CompiledColumn, field: string): string {
    if (col.spec.value !== undefined) return String(col.spec.value);
    if (col.template) return renderTemplate(col.template, this.row).value;
    return (this.row.fields[field] ?? "").trim();
  }

  private read(c: Cells, field: string, spec: ColumnMapping, def: ColumnDef): Value {
    switch (spec.type) {
      case "string":
        return c.str(field, def.type.kind === "string" ? def.type.max : Number.MAX_SAFE_INTEGER);
      case "text":
        return c.text(field);
      case "int":
        return c.int(field);
      case "money":
        return c.money(field);
      case "measure":
        return c.decimal(field, 6);
      case "bool":
        return c.bool(field);
      case "datetime":
        return c.localDatetime(field, this.tzMinutes);
      case "datetime_offset":
        return c.offsetDatetime(field);
      case "date":
        return c.date(field);
    }
  }

  /** A key built from templates; an empty cell in it makes no key. */
  key(t: Template): { value: string; emptyHeader: string | null } {
    return renderTemplate(t, this.row);
  }
}

const matchesSkip = (t: TableMapping, row: SourceRow): boolean =>
  Object.entries(t.skip_when ?? {}).some(([header, values]) =>
    values.includes((row.fields[header] ?? "").trim()),
  );

const isPresent = (t: TableMapping, row: SourceRow): boolean =>
  t.when_present === undefined || t.when_present.some((h) => (row.fields[h] ?? "").trim() !== "");

function buildRecord(table: CompiledTable, reader: RowReader): TargetRecord | null {
  const id = reader.key(table.sourceId);
  if (id.emptyHeader !== null) {
    reader.problem(id.emptyHeader, `empty, but part of the ${table.name} source id ${table.sourceId.source}`);
    return null;
  }
  const values: Record<string, Value> = {};
  for (const col of table.columns) values[col.name] = reader.column(col);
  const refs: TargetRef[] = [];
  for (const { ref, key, required } of table.refs) {
    const k = reader.key(key);
    if (k.emptyHeader === null) refs.push({ ...ref, key: k.value });
    else if (required) reader.problem(k.emptyHeader, `empty, but needed for ${table.name}.${ref.column}`);
  }
  const aliases = table.aliases
    .map((a) => reader.key(a))
    .flatMap((k) => (k.emptyHeader === null ? [k.value] : []));
  return {
    table: table.name,
    sourceId: id.value,
    values,
    ...(refs.length > 0 ? { refs } : {}),
    ...(aliases.length > 0 ? { aliases } : {}),
    line: reader.row.line,
  };
}

function transformGroup(
  file: CompiledFile,
  entity: Entity,
  rows: readonly SourceRow[],
  tzMinutes: number,
): GroupResult {
  const readers = rows.map((row) => new RowReader(row, tzMinutes));
  const produced = rows.map(() => false);
  const skippedByRule = rows.map(() => false);
  const records: TargetRecord[] = [];
  const seen = new Map<string, number>();

  for (const table of file.tables) {
    for (const [i, reader] of readers.entries()) {
      if (matchesSkip(table.spec, reader.row)) {
        skippedByRule[i] = true;
        continue;
      }
      if (!isPresent(table.spec, reader.row)) continue;
      const record = buildRecord(table, reader);
      if (record) {
        const key = `${record.table}\0${record.sourceId}`;
        const earlier = seen.get(key);
        if (earlier !== undefined) {
          reader.problem(
            table.sourceId.source,
            `${table.name} ${record.sourceId} repeats the one on line ${earlier}`,
          );
        } else {
          seen.set(key, reader.row.line);
          records.push(record);
          produced[i] = true;
        }
      }
      if (table.spec.once_per_group) break;
    }
  }

  const problems = readers.map((r) => r.problems);
  const first = rows[0];
  const label = `${entity} ${first ? renderTemplate(file.groupBy, first).value : ""}`;
  if (hasProblems(problems)) return rejectGroup(label, rows, problems);
  const skipped = rows.filter((_, i) => skippedByRule[i] && !produced[i]).length;
  return loadedGroup(records, [], rows.length, skipped);
}

/** A SourceAdapter from a validated mapping; pure. */
export function mappingAdapter(spec: MappingSpec): SourceAdapter {
  const tzMinutes = offsetMinutes(spec.timezone_offset);
  const readers: Partial<Record<Entity, EntityReader>> = {};
  for (const entity of ENTITIES) {
    const f = spec.files[entity];
    if (f) readers[entity] = fileReader(entity, compileFile(f), tzMinutes);
  }
  return { system: spec.system, encoding: spec.encoding, readers };
}

const headersOf = (t: Template | null): string[] =>
  t ? t.parts.flatMap((p) => ("header" in p ? [p.header] : [])) : [];

/** Every header the mapping reads, in any role: the rest of a file's columns go to `extra`. */
function mappedHeaders(file: CompiledFile): Set<string> {
  const { spec } = file;
  const headers = [...spec.identify, ...headersOf(file.groupBy), ...headersOf(file.shardBy)];
  for (const t of file.tables) {
    headers.push(
      ...headersOf(t.sourceId),
      ...t.aliases.flatMap(headersOf),
      ...t.refs.flatMap((r) => headersOf(r.key)),
    );
    headers.push(...Object.keys(t.spec.skip_when ?? {}), ...(t.spec.when_present ?? []));
    for (const c of t.columns) {
      headers.push(...headersOf(c.template));
      if (!c.template && c.spec.value === undefined) headers.push(c.spec.from ?? c.name);
    }
  }
  return new Set(headers);
}

function fileReader(entity: Entity, file: CompiledFile, tzMinutes: number): EntityReader {
  const groupKey = (row: SourceRow): string => renderTemplate(file.groupBy, row).value;
  return {
    identify: [file.spec.identify],
    groupKey,
    // No shard_by, or an empty one (a guest order without 会員番号): the group key. Customers
    // grouped by 会員番号 and orders sharded by 会員番号 then meet in one shard.
    shardKey(row) {
      const shard = file.shardBy ? renderTemplate(file.shardBy, row) : null;
      return shard && shard.emptyHeader === null ? shard.value : groupKey(row);
    },
    transform: (rows) => transformGroup(file, entity, rows, tzMinutes),
    columns: mappedHeaders(file),
  };
}
