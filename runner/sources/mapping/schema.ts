// The mapping file format, validated with zod against the target schema itself: tables, columns,
// ref columns and value types all come from runner/schema/tables.ts, so a typo is a load error
// naming its key path, never a silently empty column.
import { z } from "zod";
import { ENTITIES, type Entity, type TableName } from "../../core/records.ts";
import { TABLES, type ColumnDef, type ColumnType, type TableDef } from "../../schema/tables.ts";
import { compileTemplate } from "./template.ts";

export const VALUE_TYPES = [
  "string",
  "text",
  "int",
  "money",
  "measure",
  "bool",
  "datetime",
  "datetime_offset",
  "date",
] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** Which value types may fill a target column; the first is the default when `type` is omitted. */
const FITS: Record<ColumnType["kind"], readonly ValueType[]> = {
  string: ["string"],
  text: ["text"],
  int: ["int"],
  decimal: ["money"],
  measure: ["measure"],
  // extra holds the unmapped columns; the import fills it.
  json: [],
  bool: ["bool"],
  datetime: ["datetime", "datetime_offset"],
  date: ["date"],
};

export interface ColumnMapping {
  /** Header to read; exactly one of `from`, `template` and `value`. */
  from?: string;
  /** Cells joined by a template, e.g. `{住所1} {住所2}`. */
  template?: string;
  /** A constant, e.g. `country_code: { value: JP }`. */
  value?: string | number;
  type: ValueType;
  required: boolean;
  default?: string | number;
  strip_apostrophe: boolean;
  /** Source value → stored value (enums such as 性別 男性 → 1); an unmapped non-empty value is a problem. */
  map?: Record<string, string | number | null>;
}

export interface RefMapping {
  column: string;
  table: TableName;
  /** Template yielding the referenced row's source id or alias. */
  key: string;
  /** An empty key is a problem (default: the schema's ref is required). */
  required: boolean;
}

export interface TableMapping {
  source_id: string;
  /** One record per group from its first row (an order's header); otherwise one per row. */
  once_per_group: boolean;
  columns: Record<string, ColumnMapping>;
  refs: RefMapping[];
  aliases: string[];
  /** Rows whose cell equals one of the values produce no record here; counted as skipped by rule. */
  skip_when?: Record<string, string[]>;
  /** A record only when one of these cells is non-empty (e.g. a shipping address). */
  when_present?: string[];
}

export interface FileMapping {
  identify: string[];
  group_by: string;
  shard_by?: string;
  tables: Partial<Record<TableName, TableMapping>>;
}

export interface MappingSpec {
  system: string;
  encoding: "utf8" | "cp932";
  timezone_offset?: string;
  files: Partial<Record<Entity, FileMapping>>;
}

const template = z
  .string()
  .min(1)
  .superRefine((src, ctx) => {
    const compiled = compileTemplate(src);
    if (typeof compiled === "string") ctx.addIssue({ code: "custom", message: compiled });
  });

const describeType = (t: ColumnType): string => (t.kind === "string" ? `string(${t.max})` : t.kind);

function columnSchema(table: TableDef, col: ColumnDef) {
  const fits = FITS[col.type.kind];
  const object = z
    .strictObject({
      from: z.string().min(1).optional(),
      template: template.optional(),
      value: z.union([z.string(), z.number()]).optional(),
      type: z.enum(VALUE_TYPES).optional(),
      required: z.boolean().default(false),
      default: z.union([z.string(), z.number()]).optional(),
      strip_apostrophe: z.boolean().default(false),
      map: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
    })
    .superRefine((c, ctx) => {
      const sources = [c.from, c.template, c.value].filter((s) => s !== undefined);
      if (sources.length !== 1) {
        ctx.addIssue({ code: "custom", message: "needs exactly one of `from`, `template` and `value`" });
      }
      const type = c.type ?? fits[0];
      if (fits.length === 0) {
        ctx.addIssue({ code: "custom", message: `${table.name}.${col.name} is filled by the import itself` });
      } else if (type && !fits.includes(type)) {
        ctx.addIssue({
          code: "custom",
          path: ["type"],
          message: `${type} does not fit ${table.name}.${col.name} (${describeType(col.type)}); use ${fits.join(" or ")}`,
        });
      }
    })
    .transform((c): ColumnMapping => ({ ...c, type: c.type ?? fits[0] ?? "string" }));
  // `email: メール` is shorthand for `email: { from: メール }`.
  return z.preprocess((v) => (typeof v === "string" ? { from: v } : v), object);
}

function refSchema(table: TableDef) {
  const known = table.refs.map((r) => r.column);
  return z
    .strictObject({
      column: z.string(),
      table: z.string().optional(),
      key: template,
      required: z.boolean().optional(),
    })
    .transform((r, ctx): RefMapping => {
      const def = table.refs.find((d) => d.column === r.column);
      if (!def) {
        const hint =
          known.length > 0 ? `refs of ${table.name}: ${known.join(", ")}` : `${table.name} has no refs`;
        ctx.addIssue({ code: "custom", path: ["column"], message: `not a ref column (${hint})` });
        return z.NEVER;
      }
      if (r.table !== undefined && r.table !== def.table) {
        ctx.addIssue({
          code: "custom",
          path: ["table"],
          message: `${table.name}.${def.column} refers to ${def.table}`,
        });
      }
      return { column: def.column, table: def.table, key: r.key, required: r.required ?? def.required };
    });
}

function tableSchema(table: TableDef) {
  const refMistakes = table.refs.map((r) => [
    r.column,
    z.never({ error: `is a ref column of ${table.name}: declare it under refs` }).optional(),
  ]);
  const columns = z.strictObject(
    Object.fromEntries([
      ...table.columns.map((c) => [c.name, columnSchema(table, c).optional()]),
      ...refMistakes,
    ]),
    { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown column of ${table.name}` : undefined) },
  );
  return z.strictObject({
    source_id: template,
    once_per_group: z.boolean().default(false),
    columns: columns.prefault({}),
    refs: z
      .array(refSchema(table))
      .prefault([])
      .superRefine((refs, ctx) => {
        for (const def of table.refs) {
          if (def.required && !refs.some((r) => r.column === def.column)) {
            ctx.addIssue({
              code: "custom",
              message: `${table.name} needs a ref for ${def.column} (to ${def.table})`,
            });
          }
        }
      }),
    aliases: z.array(template).default([]),
    skip_when: z
      .record(z.string(), z.union([z.array(z.string()), z.string().transform((s) => [s])]))
      .optional(),
    when_present: z.array(z.string().min(1)).min(1).optional(),
  });
}

const TABLE_NAMES = TABLES.map((t) => t.name);

const fileSchema = z.strictObject({
  identify: z.array(z.string().min(1)).min(1),
  group_by: template,
  shard_by: template.optional(),
  tables: z
    .strictObject(Object.fromEntries(TABLES.map((t) => [t.name, tableSchema(t).optional()])), {
      error: (iss) =>
        iss.code === "unrecognized_keys" ? `unknown table (known: ${TABLE_NAMES.join(", ")})` : undefined,
    })
    .refine((tables) => Object.values(tables).some((t) => t !== undefined), "maps no table"),
});

const usesLocalDatetime = (files: MappingSpec["files"]): boolean =>
  Object.values(files).some((f) =>
    Object.values(f?.tables ?? {}).some((t) =>
      Object.values(t?.columns ?? {}).some((c) => c.type === "datetime"),
    ),
  );

export const mappingSchema: z.ZodType<MappingSpec> = z
  .strictObject({
    system: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/, "lowercase id such as makeshop (stored as id_map's source_system)"),
    encoding: z.enum(["utf8", "cp932"]),
    timezone_offset: z
      .string()
      .regex(/^[+-]\d{2}:\d{2}$/, 'a fixed offset such as "+09:00"')
      .optional(),
    files: z
      .strictObject(Object.fromEntries(ENTITIES.map((e) => [e, fileSchema.optional()])), {
        error: (iss) =>
          iss.code === "unrecognized_keys" ? `unknown file kind (known: ${ENTITIES.join(", ")})` : undefined,
      })
      .refine((files) => Object.values(files).some((f) => f !== undefined), "maps no file"),
  })
  .superRefine((spec, ctx) => {
    if (spec.timezone_offset === undefined && usesLocalDatetime(spec.files)) {
      ctx.addIssue({
        code: "custom",
        path: ["timezone_offset"],
        message: "required: a column has type datetime (local time)",
      });
    }
  });

/** `+09:00` → 540. */
export function offsetMinutes(offset: string | undefined): number {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset ?? "+00:00");
  if (!m) throw new Error(`bad timezone_offset ${offset}`);
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** One line per problem: `<file>: <key path>: <message>`. */
export function formatIssues(file: string, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((iss) => {
    const path = formatPath(iss.path);
    if (iss.code === "unrecognized_keys")
      return iss.keys.map((k) => `${file}: ${formatPath([...iss.path, k])}: ${iss.message}`);
    const missing = iss.code === "invalid_type" && "input" in iss && iss.input === undefined;
    return [
      `${file}: ${path || "(top level)"}: ${missing ? `missing (expected ${iss.expected})` : iss.message}`,
    ];
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, seg) => {
    if (typeof seg === "number") return `${out}[${seg}]`;
    return out === "" ? String(seg) : `${out}.${String(seg)}`;
  }, "");
}
