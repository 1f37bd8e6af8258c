// Typed reads of a SourceRow's cells. Every read either yields a canonical value (the exact
// text MySQL stores, so source and target checksums agree) or records a problem naming the field.
import type { Problem, SourceRow } from "./records.ts";

const MONEY = /^-?\d{1,10}(\.\d{1,2})?$/;
const INT = /^-?\d{1,10}$/;
const LOCAL_DATETIME = /^(\d{4})[-/](\d{2})[-/](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const OFFSET_DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function formatUtc(ms: number, withTime: boolean): string {
  const d = new Date(ms);
  const day = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return withTime
    ? `${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
    : day;
}

/** Date.UTC silently rolls 02-30 over to 03-02; a real calendar check catches impossible dates. */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  return ms;
}

export class Cells {
  readonly problems: Problem[] = [];
  constructor(readonly row: SourceRow) {}

  has(field: string): boolean {
    return field in this.row.fields;
  }

  /** Trimmed cell text; missing columns read as empty. */
  raw(field: string): string {
    return (this.row.fields[field] ?? "").trim();
  }

  private fail(field: string, reason: string): null {
    this.problems.push({ field, reason });
    return null;
  }

  str(
    field: string,
    max: number,
    opts: { required?: boolean; stripApostrophe?: boolean } = {},
  ): string | null {
    let v = this.raw(field);
    // Shopify prefixes zips, phones and ids with ' so spreadsheets keep leading zeros.
    if (opts.stripApostrophe && v.startsWith("'")) v = v.slice(1);
    if (v === "") return opts.required ? this.fail(field, "required value is empty") : null;
    // Never truncate: a value that does not fit is a reject, not a silent loss. UTF-16 length
    // bounds the code-point count from above, so most values need no count at all.
    if (v.length > max) {
      const chars = [...v].length;
      if (chars > max) return this.fail(field, `longer than ${max} characters (${chars})`);
    }
    return v;
  }

  text(field: string): string | null {
    const v = this.row.fields[field] ?? "";
    return v === "" ? null : v;
  }

  money(field: string, opts: { required?: boolean } = {}): string | null {
    const v = this.raw(field).replace(/^'/, "");
    if (v === "") return opts.required ? this.fail(field, "required amount is empty") : null;
    if (!MONEY.test(v)) return this.fail(field, `not an amount: ${JSON.stringify(v)}`);
    return Number(v).toFixed(2);
  }

  /** An exact decimal with at most `scale` fraction digits, as MySQL renders DECIMAL(·, scale). */
  decimal(field: string, scale: number, opts: { min?: number } = {}): string | null {
    const v = this.raw(field).replace(/^'/, "");
    if (v === "") return null;
    const m = /^(-?)(\d{1,12})(?:\.(\d+))?$/.exec(v);
    if (!m) return this.fail(field, `not a number: ${JSON.stringify(v)}`);
    const fraction = (m[3] ?? "").replace(/0+$/, "");
    if (fraction.length > scale) return this.fail(field, `more than ${scale} decimals: ${JSON.stringify(v)}`);
    if (opts.min !== undefined && Number(v) < opts.min)
      return this.fail(field, `must be ≥ ${opts.min}, got ${v}`);
    const whole = m[2]!.replace(/^0+(?=\d)/, "");
    const sign = m[1] && /[1-9]/.test(whole + fraction) ? "-" : "";
    return `${sign}${whole}.${fraction.padEnd(scale, "0")}`;
  }

  int(field: string, opts: { required?: boolean; min?: number } = {}): number | null {
    const v = this.raw(field).replace(/^'/, "").replace(/\.0+$/, "");
    if (v === "") return opts.required ? this.fail(field, "required number is empty") : null;
    if (!INT.test(v)) return this.fail(field, `not an integer: ${JSON.stringify(v)}`);
    const n = Number(v);
    if (opts.min !== undefined && n < opts.min) return this.fail(field, `must be ≥ ${opts.min}, got ${n}`);
    return n;
  }

  bool(field: string): number | null {
    const v = this.raw(field).toLowerCase();
    if (v === "") return null;
    if (["1", "true", "yes"].includes(v)) return 1;
    if (["0", "false", "no"].includes(v)) return 0;
    return this.fail(field, `not a boolean: ${JSON.stringify(v)}`);
  }

  /** A local wall-clock time in a fixed-offset zone (EC-CUBE: Asia/Tokyo, +09:00, no DST) → UTC. */
  localDatetime(field: string, offsetMinutes: number): string | null {
    const v = this.raw(field);
    if (v === "") return null;
    const m = LOCAL_DATETIME.exec(v);
    const ms = m && utcMs(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
    if (!ms && ms !== 0) return this.fail(field, `impossible or malformed date: ${JSON.stringify(v)}`);
    return formatUtc(ms - offsetMinutes * 60_000, true);
  }

  /** `YYYY-MM-DD HH:MM:SS ±HHMM` (Shopify) → UTC. */
  offsetDatetime(field: string): string | null {
    const v = this.raw(field);
    if (v === "") return null;
    const m = OFFSET_DATETIME.exec(v);
    const ms = m && utcMs(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    if (!m || (!ms && ms !== 0))
      return this.fail(field, `impossible or malformed date: ${JSON.stringify(v)}`);
    const offset = (m[7] === "-" ? -1 : 1) * (+m[8]! * 60 + +m[9]!);
    return formatUtc(ms - offset * 60_000, true);
  }

  /** A calendar date; a time part, if any, is dropped (EC-CUBE exports 誕生日 as a datetime). */
  date(field: string): string | null {
    const v = this.raw(field);
    if (v === "") return null;
    const m = LOCAL_DATETIME.exec(v);
    const ms = m && utcMs(+m[1]!, +m[2]!, +m[3]!, 0, 0, 0);
    if (!ms && ms !== 0) return this.fail(field, `impossible or malformed date: ${JSON.stringify(v)}`);
    return formatUtc(ms, false);
  }
}
