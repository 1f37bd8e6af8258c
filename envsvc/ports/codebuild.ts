// Builds a test env's branch with its CodeBuild project and follows the build to its end, one
// event line per phase or status change (the operation's events show them).
import {
  BatchGetBuildsCommand,
  type Build,
  CodeBuildClient,
  StartBuildCommand,
  StopBuildCommand,
} from "@aws-sdk/client-codebuild";

export interface BuildFollowContext {
  signal: AbortSignal;
  event(line: string): void;
}

export interface BuildResult {
  id: string;
  status: string;
  /** The commit CodeBuild resolved the branch to, when it says. */
  resolvedSourceVersion: string | undefined;
}

export class BuildFailedError extends Error {
  constructor(
    readonly buildId: string,
    readonly status: string,
    detail: string,
  ) {
    super(`build ${buildId} ended ${status}${detail ? `: ${detail}` : ""}`);
    this.name = "BuildFailedError";
  }
}

export interface CodeBuildPortOptions {
  /** Default: a client from the environment (AWS_REGION, AWS_ENDPOINT_URL, credentials chain). */
  client?: CodeBuildClient;
  region?: string;
  /** Between BatchGetBuilds calls (default 10 s; builds take minutes). */
  pollMs?: number;
}

/** The one end state that counts as built; FAILED, FAULT, TIMED_OUT and STOPPED do not. */
const SUCCEEDED = "SUCCEEDED";

export class CodeBuildPort {
  private readonly client: CodeBuildClient;
  private readonly pollMs: number;

  constructor(opts: CodeBuildPortOptions = {}) {
    this.client = opts.client ?? new CodeBuildClient(opts.region ? { region: opts.region } : {});
    this.pollMs = opts.pollMs ?? 10_000;
  }

  /** Starts a build of `branch` and resolves when it succeeded; throws BuildFailedError otherwise. */
  async buildBranch(projectName: string, branch: string, ctx: BuildFollowContext): Promise<BuildResult> {
    ctx.signal.throwIfAborted();
    const started = await this.client.send(new StartBuildCommand({ projectName, sourceVersion: branch }), {
      abortSignal: ctx.signal,
    });
    const id = started.build?.id;
    if (!id) throw new Error(`CodeBuild StartBuild of ${projectName} returned no build id`);
    ctx.event(`build ${id} started for ${branch}: ${describe(started.build!)}`);
    return this.follow(id, ctx, describe(started.build!));
  }

  /** Polls until the build completes; on abort the build is stopped, not left running unseen. */
  async follow(id: string, ctx: BuildFollowContext, lastSeen = ""): Promise<BuildResult> {
    let seen = lastSeen;
    for (;;) {
      if (ctx.signal.aborted) return this.stop(id, ctx);
      const build = await this.get(id);
      const now = describe(build);
      if (now !== seen) ctx.event(`build ${id}: ${now}`);
      seen = now;
      if (isComplete(build)) return outcome(id, build);
      await sleep(this.pollMs, ctx.signal);
    }
  }

  private async get(id: string): Promise<Build> {
    const res = await this.client.send(new BatchGetBuildsCommand({ ids: [id] }));
    const build = res.builds?.find((b) => b.id === id);
    if (!build)
      throw new Error(`CodeBuild has no build ${id}${res.buildsNotFound?.length ? " (not found)" : ""}`);
    return build;
  }

  private async stop(id: string, ctx: BuildFollowContext): Promise<never> {
    const res = await this.client.send(new StopBuildCommand({ id }));
    ctx.event(`build ${id}: stopped (${res.build?.buildStatus ?? "stop requested"})`);
    throw new BuildFailedError(id, res.build?.buildStatus ?? "STOPPED", "the operation was cancelled");
  }
}

// buildStatus leaves IN_PROGRESS only at the end; moto never sets buildComplete, AWS sets both.
function isComplete(build: Build): boolean {
  return build.buildComplete === true || (!!build.buildStatus && build.buildStatus !== "IN_PROGRESS");
}

function describe(build: Build): string {
  return `${build.currentPhase ?? "?"} / ${build.buildStatus ?? "?"}`;
}

/** The result of a completed build: success, or why not (the failing phase's first context message). */
export function outcome(id: string, build: Build): BuildResult {
  const status = build.buildStatus ?? "UNKNOWN";
  if (status !== SUCCEEDED) {
    const failed = build.phases?.find((p) => p.phaseStatus && p.phaseStatus !== SUCCEEDED);
    const why = failed ? `${failed.phaseType}: ${failed.contexts?.[0]?.message ?? failed.phaseStatus}` : "";
    throw new BuildFailedError(id, status, why);
  }
  return { id, status, resolvedSourceVersion: build.resolvedSourceVersion };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
