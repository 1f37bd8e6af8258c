// The argument lists tests and benches hand to an `ikou` child process, so each command's flags are
// spelt in one place. Flags a caller needs beyond these go after the list (`[...importArgs(o), "--shard", "0/2"]`).

export interface ImportArgs {
  input: string;
  db: string;
  out: string;
  /** eccube4 unless said. */
  source?: string;
  /** The JSON report as the last stdout line. */
  json?: boolean;
  chunk?: number | string;
  parallel?: number | string;
}

export function importArgs(o: ImportArgs): string[] {
  return [
    "import",
    "--source",
    o.source ?? "eccube4",
    "--input",
    o.input,
    "--db",
    o.db,
    ...(o.json ? ["--json"] : []),
    ...(o.chunk === undefined ? [] : ["--chunk", String(o.chunk)]),
    ...(o.parallel === undefined ? [] : ["--parallel", String(o.parallel)]),
    "--out",
    o.out,
  ];
}

export interface SubmitLocalArgs {
  input: string;
  db: string;
  out: string;
  shards: number;
  /** eccube4 unless said. */
  source?: string;
}

export function submitLocalArgs(o: SubmitLocalArgs): string[] {
  return [
    "submit",
    "--local",
    "--input",
    o.input,
    "--source",
    o.source ?? "eccube4",
    "--db",
    o.db,
    "--shards",
    String(o.shards),
    "--out",
    o.out,
  ];
}

export interface SubmitBatchArgs {
  /** The shop stack's outputs file. */
  outputs: string;
  input: string;
  shards: number;
}

export function submitBatchArgs(o: SubmitBatchArgs): string[] {
  return ["submit", "--outputs", o.outputs, "--input", o.input, "--shards", String(o.shards)];
}

/** The run id `ikou submit` prints (`run r<12 hex>`); throws when there is none. */
export function submittedRunId(stdout: string): string {
  const id = /run (r[0-9a-f]{12})/.exec(stdout)?.[1];
  if (!id) throw new Error(`no run id in the output of ikou submit:\n${stdout}`);
  return id;
}
