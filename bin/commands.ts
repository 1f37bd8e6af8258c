// Every `ikou <command>` and the module that parses its arguments. Each module's main gets the
// command name first, so one module may serve several commands.
export interface CommandModule {
  main(argv: string[]): Promise<number>;
}

export const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  import: () => import("../runner/cli.ts"),
  transform: () => import("../runner/cli.ts"),
  migrate: () => import("../runner/cli.ts"),
  plan: () => import("../stacks/plan/cli.ts"),
  submit: () => import("../submit/cli.ts"),
  status: () => import("../submit/cli.ts"),
  cancel: () => import("../submit/cli.ts"),
  verify: () => import("../submit/verify-cli.ts"),
  split: () => import("../submit/split-cli.ts"),
  "shard-import": () => import("../submit/split-cli.ts"),
};
