// Errors every command shares: what went wrong is a value with an exit code, printed once at the edge.

/** Bad flags or arguments: the user can fix the command line. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 143 } as const;
