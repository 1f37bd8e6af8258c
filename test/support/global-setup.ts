// Starts the real local stand-ins once per test run: a throwaway MariaDB (unless MYSQL_URL
// is set), a moto server (unless AWS_ENDPOINT_URL is set) and the cached Pulumi CLI.
// Workers inherit process.env, so tests read MYSQL_URL, AWS_ENDPOINT_URL, IKOU_PULUMI_BIN.
import { startStandIns, type StandIns } from "../../scripts/standins.ts";

let standIns: StandIns | undefined;

export async function setup(): Promise<void> {
  standIns = await startStandIns({ mariadb: !process.env.MYSQL_URL, moto: !process.env.AWS_ENDPOINT_URL });
  Object.assign(process.env, standIns.env);
}

export async function teardown(): Promise<void> {
  await standIns?.stop();
}
