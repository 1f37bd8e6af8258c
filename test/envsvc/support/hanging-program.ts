// A stack program that never finishes: the Pulumi CLI holds the stack's lock for as long as it runs,
// so a test can kill the CLI and get the lock a crashed run leaves.
export function hangingProgram(): () => Promise<Record<string, unknown>> {
  return () => new Promise(() => {});
}
