import type { RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMysql } from "../../lib/mysql.ts";
import type { Environment } from "../../envsvc/core/model.ts";
import { systemClock } from "../../envsvc/core/ports.ts";
import { PulumiStacks } from "../../envsvc/ports/pulumi-stacks.ts";
import { LocalTarget } from "../../envsvc/targets/local.ts";
import { registerReadyEnv, startTestService, type TestService } from "./support.ts";

async function databaseExists(name: string): Promise<boolean> {
  const conn = await connectMysql(process.env.MYSQL_URL!);
  try {
    const [rows] = await conn.query<RowDataPacket[]>(
      "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
      [name],
    );
    return rows.length > 0;
  } finally {
    await conn.end();
  }
}

describe("the backstop sweep", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService("reconcile");
  });
  afterAll(async () => svc?.stop());

  it("destroys a stack with no registry row and fails a ready row whose stack is gone", async () => {
    const stacks = new PulumiStacks({ backend: svc.config.backend, passphrase: svc.config.passphrase! });
    const target = new LocalTarget({
      adminUrl: process.env.MYSQL_URL!,
      publicUrl: () => svc.url,
      reviewSecret: "x",
      dataDir: svc.config.dataDir,
      demoOrders: 10,
      clock: systemClock,
      log: { warn() {} },
    });
    // A stack someone made outside the registry (or whose row was lost): a real database behind it.
    const stray = { id: "stray-aaaaaa", shop: "stray" } as Environment;
    await stacks.up("testshop-stray-stray-aaaaaa", target.program(stray), {}, { event: () => {} });
    await target.close();
    expect(await databaseExists("ts_stray_aaaaaa")).toBe(true);

    // A row that says ready, with no stack behind it.
    await registerReadyEnv(svc.registry, {
      id: "ghost-bbbbbb",
      shop: "ghost",
      operationId: "op-111111111111111111",
      url: "http://x",
      database: "ts_ghost_bbbbbb",
    });

    expect(await svc.service.reconcile()).toEqual({
      orphanStacks: ["testshop-stray-stray-aaaaaa"],
      orphanRows: ["ghost-bbbbbb"],
    });
    expect(await databaseExists("ts_stray_aaaaaa")).toBe(false);
    expect(await stacks.list()).toEqual([]);
    expect((await svc.call("GET", "/api/envs/ghost-bbbbbb")).json.env.status).toBe("failed");
    // A second pass finds nothing left to do.
    expect(await svc.service.reconcile()).toEqual({ orphanStacks: [], orphanRows: [] });
  });
});
