// Starts the real local stand-ins once per test run: a throwaway MariaDB (unless MYSQL_URL
// is set), a moto server (unless AWS_ENDPOINT_URL is set) and the cached Pulumi CLI.
// Workers inherit process.env, so tests read MYSQL_URL, AWS_ENDPOINT_URL, IKOU_PULUMI_BIN.
// It also compiles the job (`npm run build` → dist/) once, before any test runs the compiled entry:
// a rebuild while another test's job loads its files from dist/ could hand it a half-written file.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startStandIns, type StandIns } from "../../scripts/standins.ts";

let standIns: StandIns | undefined;

export async function setup(): Promise<void> {
  const build = promisify(execFile)(process.execPath, [
    "node_modules/typescript/bin/tsc",
    "-p",
    "tsconfig.build.json",
  ]);
  standIns = await startStandIns({ mariadb: !process.env.MYSQL_URL, moto: !process.env.AWS_ENDPOINT_URL });
  Object.assign(process.env, standIns.env);
  await build;
}

export async function teardown(): Promise<void> {
  await standIns?.stop();
}
