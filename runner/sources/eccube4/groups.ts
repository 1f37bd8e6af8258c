// Group-level outcomes: a group (one order's item rows, one product's variants) is loaded whole
// or rejected whole, so the target never holds an order with a missing line.
import type { CellProblem } from "../../core/cells.ts";
import type { GroupResult, Reject, SourceRow } from "../../core/records.ts";

export interface RowProblems {
  row: SourceRow;
  problems: CellProblem[];
}

function describe(problems: readonly CellProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.reason}`).join("; ");
}

/** One reject per row (loaded + skipped + rejects = rows), naming every bad field of that row. */
export function rowReject(row: SourceRow, problems: readonly CellProblem[]): Reject {
  return {
    file: row.file,
    line: row.line,
    offset: row.offset,
    field: problems[0]?.field ?? null,
    reason: describe(problems),
    raw: row.raw,
  };
}

/**
 * Rejects every row of a group: bad rows with their own reasons, the others pointing at the first
 * bad row (e.g. `order 123 rejected: line 45 field 価格: not an amount: "abc"`).
 */
export function rejectGroup(label: string, rows: readonly RowProblems[]): GroupResult {
  const firstBad = rows.find((r) => r.problems.length > 0);
  const cause = firstBad
    ? `line ${firstBad.row.line} field ${describe(firstBad.problems.slice(0, 1))}`
    : "invalid group";
  const rejects = rows.map(({ row, problems }) =>
    problems.length > 0
      ? rowReject(row, problems)
      : { ...rowReject(row, []), field: null, reason: `${label} rejected: ${cause}` },
  );
  return { records: [], rejects, findings: [], skipped: 0, loaded: 0 };
}

export function hasProblems(rows: readonly RowProblems[]): boolean {
  return rows.some((r) => r.problems.length > 0);
}
