import type { RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMysql } from "../../lib/mysql.ts";
import { stackNameOf } from "../../envsvc/core/model.ts";
import { PulumiStacks } from "../../envsvc/ports/pulumi-stacks.ts";
import { ManualClock, RecordingNotifier, startTestService, type TestService } from "./support.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("idle teardown with a controllable clock, on the real engine", () => {
  const clock = new ManualClock();
  const notifier = new RecordingNotifier();
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService("idle", {
      clock,
      notifier,
      env: { IKOU_IDLE_HOURS: "4", IKOU_IDLE_WARNING_MINUTES: "30" },
    });
  });
  afterAll(async () => svc?.stop());

  it("sees the env user's queries and review hits as activity, warns the owner, then tears it down", async () => {
    const created = await svc.call("POST", "/api/envs", { shop: "momiji" });
    const op = await svc.waitOperation(created.json.operation.id);
    expect(op.status).toBe("succeeded");
    const env = (await svc.call("GET", `/api/envs/${created.json.env.id}`)).json.env;
    const stacks = new PulumiStacks({ backend: svc.config.backend, passphrase: svc.config.passphrase! });
    const outputs = (await stacks.outputs(stackNameOf(env)))!;

    // The first pass only learns the user's counters.
    clock.advance(HOUR);
    expect(await svc.service.sweepIdle()).toEqual({ warned: [], tornDown: [] });

    // The env's own user runs a query: USER_STATISTICS moves, so the env was active at this pass.
    const asUser = await connectMysql(
      `mysql://${outputs.user}:${encodeURIComponent(String(outputs.password))}@${outputs.host}:${outputs.port}/${outputs.database}`,
    );
    await asUser.query<RowDataPacket[]>("SELECT COUNT(*) FROM orders");
    await asUser.end();
    clock.advance(3 * HOUR);
    await svc.service.sweepIdle();
    const active = (await svc.call("GET", `/api/envs/${env.id}`)).json.env;
    expect(active.lastActivityAt).toBe(clock.now().toISOString());

    // 3.5 h without anything: within the 30-minute lead, the owner is warned once.
    clock.advance(3 * HOUR + 30 * MINUTE);
    expect(await svc.service.sweepIdle()).toEqual({ warned: [env.id], tornDown: [] });
    expect(notifier.warnings).toEqual([
      { envId: env.id, teardownAt: new Date(Date.parse(active.lastActivityAt) + 4 * HOUR) },
    ]);
    expect(await svc.service.sweepIdle()).toEqual({ warned: [], tornDown: [] });

    // Opening the review page counts: the warning no longer holds, nothing is torn down.
    clock.advance(20 * MINUTE);
    expect((await fetch(env.url)).status).toBe(200);
    clock.advance(20 * MINUTE);
    expect(await svc.service.sweepIdle()).toEqual({ warned: [], tornDown: [] });

    // Idle again: warned, and torn down at the announced time.
    clock.advance(3 * HOUR + 10 * MINUTE);
    expect((await svc.service.sweepIdle()).warned).toEqual([env.id]);
    clock.advance(30 * MINUTE);
    expect(await svc.service.sweepIdle()).toEqual({ warned: [], tornDown: [env.id] });
    expect(notifier.warnings).toHaveLength(2);
    await svc.service.settled();
    const gone = (await svc.call("GET", `/api/envs/${env.id}`)).json.env;
    expect(gone.status).toBe("destroyed");
    const conn = await connectMysql(process.env.MYSQL_URL!);
    const [dbs] = await conn.query<RowDataPacket[]>(
      "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
      [env.database],
    );
    await conn.end();
    expect(dbs).toHaveLength(0);
    const audit = (await svc.registry.auditLog(env.id)).map((a) => `${a.via}:${a.action}`);
    expect(audit).toEqual([
      "api:env.create",
      "scheduler:env.idle-warning",
      "scheduler:env.idle-warning",
      "scheduler:env.teardown-idle",
      "scheduler:env.destroy",
    ]);
  });
});
