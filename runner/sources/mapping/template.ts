// Cell templates of mapping files: `会員番号` (a bare header) or `{受注番号}:{明細番号}`,
// `email:{メール|lower}`. Cells are trimmed; filters apply left to right.
import type { SourceRow } from "../../core/records.ts";

const FILTERS = {
  lower: (v: string) => v.toLowerCase(),
  upper: (v: string) => v.toUpperCase(),
  strip_apostrophe: (v: string) => (v.startsWith("'") ? v.slice(1) : v),
} as const;
type FilterName = keyof typeof FILTERS;

type Part = { text: string } | { header: string; filters: FilterName[] };

export interface Template {
  source: string;
  parts: Part[];
}

export interface Rendered {
  value: string;
  /** First header whose cell was empty; a key built from an empty cell is no key at all. */
  emptyHeader: string | null;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const isFilter = (name: string): name is FilterName => Object.hasOwn(FILTERS, name);

/** A compiled template, or the reason the text is not one. */
export function compileTemplate(source: string): Template | string {
  if (!source.includes("{") && !source.includes("}"))
    return { source, parts: [{ header: source, filters: [] }] };
  const parts: Part[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ text: source.slice(last, m.index) });
    const [header = "", ...filters] = (m[1] ?? "").split("|").map((s) => s.trim());
    if (header === "") return `empty placeholder in ${JSON.stringify(source)}`;
    const unknown = filters.filter((f) => !isFilter(f));
    if (unknown.length > 0) {
      return `unknown filter ${unknown.join(", ")} in ${JSON.stringify(source)} (known: ${Object.keys(FILTERS).join(", ")})`;
    }
    parts.push({ header, filters: filters.filter(isFilter) });
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push({ text: source.slice(last) });
  if (parts.some((p) => "text" in p && /[{}]/.test(p.text)))
    return `unbalanced braces in ${JSON.stringify(source)}`;
  return { source, parts };
}

export function renderTemplate(t: Template, row: SourceRow): Rendered {
  let value = "";
  let emptyHeader: string | null = null;
  for (const part of t.parts) {
    if ("text" in part) {
      value += part.text;
      continue;
    }
    const cell = part.filters.reduce((v, f) => FILTERS[f](v), (row.fields[part.header] ?? "").trim());
    if (cell === "") emptyHeader ??= part.header;
    value += cell;
  }
  return { value, emptyHeader };
}
