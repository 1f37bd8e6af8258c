// Group-level bookkeeping shared by the source adapters: a group loads whole or not at all,
// and every row is accounted for exactly once (loaded + skipped + rejects === rows).
import type { Finding, GroupResult, Problem, Reject, RowRef, TargetRecord } from "./records.ts";

export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => (p.field === null ? p.reason : `${p.field}: ${p.reason}`)).join("; ");
}

export function rejectRow(row: RowRef, field: string | null, reason: string): Reject {
  return { file: row.file, line: row.line, offset: row.offset, field, reason, raw: row.raw };
}

/** One reject per row, naming every bad field of that row; `field` is the first. */
export function rowReject(row: RowRef, problems: readonly Problem[]): Reject {
  return rejectRow(row, problems[0]?.field ?? null, describeProblems(problems));
}

/**
 * Rejects every row of a group because some rows have problems: a half-loaded order (items
 * without their header, or the reverse) is worse than a missing one. Bad rows carry their own
 * reasons; the others point at the first bad one, e.g. `order 101 rejected: line 3 field 価格: …`.
 * `problems[i]` belongs to `rows[i]`.
 */
export function rejectGroup(
  what: string,
  rows: readonly RowRef[],
  problems: readonly (readonly Problem[])[],
): GroupResult {
  const firstBad = rows.findIndex((_, i) => (problems[i] ?? []).length > 0);
  const culprit = rows[firstBad];
  const first = problems[firstBad]?.[0];
  const cause =
    culprit && first
      ? `line ${culprit.line}${first.field === null ? "" : " field"} ${describeProblems([first])}`
      : "invalid group";
  const rejects = rows.map((row, i) => {
    const own = problems[i] ?? [];
    return own.length > 0 ? rowReject(row, own) : rejectRow(row, null, `${what} rejected: ${cause}`);
  });
  return { records: [], rejects, findings: [], skipped: 0, loaded: 0 };
}

/** The same, when one row's one problem condemns the group (found while reading or loading). */
export function rejectGroupFor(
  what: string,
  rows: readonly RowRef[],
  culprit: RowRef,
  problem: Problem,
): Reject[] {
  const { rejects } = rejectGroup(
    what,
    rows,
    rows.map((row) => (row === culprit ? [problem] : [])),
  );
  // The culprit's reason stands alone: `field` already names the cell.
  return rejects.map((r, i) => (rows[i] === culprit ? rejectRow(culprit, problem.field, problem.reason) : r));
}

export function hasProblems(problems: readonly (readonly Problem[])[]): boolean {
  return problems.some((p) => p.length > 0);
}

export function loadedGroup(
  records: TargetRecord[],
  findings: Finding[],
  rows: number,
  skipped: number,
): GroupResult {
  return { records, rejects: [], findings, skipped, loaded: rows - skipped };
}

/** Amounts as integer cents: float sums of `42.11` drift, and totals are compared to the cent. */
export function cents(amount: string | null): number {
  return amount === null ? 0 : Math.round(Number(amount) * 100);
}
