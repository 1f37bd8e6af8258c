// The idle warning when Slack is not configured: a log line an operator (or a log alert) sees.
import type { Environment, IdleNotifier } from "../core/model.ts";

export class LogIdleNotifier implements IdleNotifier {
  constructor(private readonly log: { warn(obj: object, msg: string): void }) {}

  async warnIdle(env: Environment, teardownAt: Date): Promise<void> {
    this.log.warn(
      {
        env: env.id,
        owner: env.owner,
        teardownAt: teardownAt.toISOString(),
        extend: `POST /api/envs/${env.id}/extend`,
      },
      "environment is idle and will be torn down unless extended",
    );
  }
}
