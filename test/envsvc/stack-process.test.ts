// The service's Pulumi driver: each operation in a child process, on the real engine and a file://
// backend, with the child's events, outputs and errors arriving in the service as they would in-process.
import type { RowDataPacket } from "mysql2/promise";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMysql } from "../../lib/mysql.ts";
import { procStatFields } from "../../lib/proc.ts";
import type { ProgramRef } from "../../envsvc/core/model.ts";
import { StackProcesses } from "../../envsvc/ports/stack-process.ts";
import { eventually } from "./support/gated-stacks.ts";

const MODULE = new URL("../../envsvc/ports/mysql-database.ts", import.meta.url).href;

async function userExists(name: string): Promise<boolean> {
  const conn = await connectMysql(process.env.MYSQL_URL!);
  try {
    const [rows] = await conn.query<RowDataPacket[]>("SELECT 1 FROM mysql.user WHERE User = ?", [name]);
    return rows.length > 0;
  } finally {
    await conn.end();
  }
}

/** This process's children that run the stack-process child entry. */
async function childrenRunningStackProcess(): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const ppid = Number(procStatFields(stat)[1]);
    if (ppid !== process.pid) continue;
    if ((await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes("stack-process-child"))
      found.push(pid);
  }
  return found;
}

describe("StackProcesses", () => {
  let dir: string;
  let stacks: StackProcesses;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "stack-process-"));
    stacks = new StackProcesses({ backend: dir, passphrase: "stack-process-test" });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("starts a child ahead and stops it on close", async () => {
    const before = await childrenRunningStackProcess();
    const own = new StackProcesses({ backend: dir, passphrase: "stack-process-test" });
    await eventually(async () => (await childrenRunningStackProcess()).length === before.length + 1, 20_000);
    own.close();
    await eventually(async () => (await childrenRunningStackProcess()).length === before.length, 20_000);
  });

  it("runs up and destroy in a child: events, outputs with secrets named, the resources real", async () => {
    const name = `sp_${process.pid}`;
    const program: ProgramRef = {
      module: MODULE,
      export: "mysqlDatabaseProgram",
      args: { adminUrl: process.env.MYSQL_URL!, name },
    };
    const events: string[] = [];
    const out = await stacks.up("testshop-sp-one", program, {}, { event: (l) => events.push(l) });
    expect(events).toContain("create pulumi-nodejs:dynamic:Resource db");
    expect(out.values).toMatchObject({ database: name, user: name });
    expect(out.secretKeys).toContain("password");
    expect(await userExists(name)).toBe(true);
    expect(await stacks.list()).toContain("testshop-sp-one");

    const destroyEvents: string[] = [];
    await stacks.destroy("testshop-sp-one", { event: (l) => destroyEvents.push(l) });
    expect(destroyEvents).toContain("delete pulumi-nodejs:dynamic:Resource db");
    expect(destroyEvents.at(-1)).toBe("stack testshop-sp-one removed");
    expect(await userExists(name)).toBe(false);
    expect(await stacks.list()).not.toContain("testshop-sp-one");
  }, 120_000);

  it("brings the child's error back by name and message, and refuses a module outside the project", async () => {
    const missing: ProgramRef = { module: MODULE, export: "noSuchProgram", args: {} };
    await expect(stacks.up("testshop-sp-two", missing, {}, { event: () => {} })).rejects.toThrow(
      `${MODULE} exports no function noSuchProgram`,
    );
    const outside: ProgramRef = { module: "file:///etc/passwd.ts", export: "x", args: {} };
    await expect(stacks.up("testshop-sp-two", outside, {}, { event: () => {} })).rejects.toThrow(
      "program module file:///etc/passwd.ts is not part of this project",
    );
  }, 60_000);
});
