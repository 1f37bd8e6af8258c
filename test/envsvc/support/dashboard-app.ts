// The dashboard router on a real port, in front of the in-memory service double; its sessions are
// kept in a real registry on a fresh database, as the service keeps them.
import express from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Actor } from "../../../envsvc/core/model.ts";
import { SessionStore } from "../../../envsvc/http/session.ts";
import { uiRouter } from "../../../envsvc/http/ui.ts";
import { MysqlRegistry } from "../../../envsvc/ports/registry.ts";
import { freshDatabase, type TestDatabase } from "../../support/db.ts";
import { InMemoryEnvServiceDouble } from "./in-memory-env-service.ts";

export const ALICE: Actor = {
  userId: "alice",
  name: "Alice",
  role: "member",
  via: "api",
  tokenId: "tok-a11ce",
};
export const BOB: Actor = { userId: "bob", name: "Bob", role: "member", via: "api", tokenId: "tok-b0b" };
export const ALICE_TOKEN = "tok-alice-3f9a1c";
export const BOB_TOKEN = "tok-bob-77d2e0";

export interface DashboardApp {
  url: string;
  service: InMemoryEnvServiceDouble;
  db: TestDatabase;
  logged: string[];
  close(): Promise<void>;
}

export async function startDashboardApp(
  opts: { clock?: () => number; pollBusyMs?: number } = {},
): Promise<DashboardApp> {
  const service = new InMemoryEnvServiceDouble(opts.clock);
  service.tokens.set(ALICE_TOKEN, ALICE);
  service.tokens.set(BOB_TOKEN, BOB);
  const logged: string[] = [];
  const db = await freshDatabase("dashboard");
  const registry = await MysqlRegistry.open(db.url);
  const app = express();
  app.use(
    "/",
    uiRouter({
      service,
      authenticate: (t) => service.authenticate(t),
      sessions: new SessionStore(registry, { clock: opts.clock }),
      clock: opts.clock,
      pollBusyMs: opts.pollBusyMs ?? 200,
      pollIdleMs: 1000,
      log: { error: (_o, m) => logged.push(m) },
    }),
  );
  const server: Server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    service,
    db,
    logged,
    close: async () => {
      await new Promise((r) => server.close(() => r(undefined)));
      await registry.close();
      await db.drop();
    },
  };
}
