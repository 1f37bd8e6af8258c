// Starts and stops the local stand-ins through the shell scripts beside this file, so tests,
// the demo and the benchmark share one way of bringing them up.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const scriptsDir = fileURLToPath(new URL(".", import.meta.url));

export interface StandIns {
  env: Record<string, string>;
  stop(): Promise<void>;
}

function parseEnvLines(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

async function script(name: string, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run("bash", [`${scriptsDir}${name}`, ...args], { maxBuffer: 1 << 20 });
  if (stderr.trim()) process.stderr.write(stderr);
  return stdout;
}

export async function startStandIns(want: {
  mariadb?: boolean;
  moto?: boolean;
  pulumi?: boolean;
}): Promise<StandIns> {
  const env: Record<string, string> = {};
  const stops: Array<() => Promise<unknown>> = [];
  const started = await Promise.all([
    want.mariadb ? script("mariadb.sh", "start") : Promise.resolve(""),
    want.moto ? script("moto.sh", "start") : Promise.resolve(""),
    want.pulumi === false ? Promise.resolve("") : script("pulumi-cli.sh"),
  ]);
  const [db, moto, pulumiBin] = started;
  if (db) {
    const e = parseEnvLines(db);
    Object.assign(env, { MYSQL_URL: e.MYSQL_URL! });
    stops.push(() => script("mariadb.sh", "stop", e.IKOU_STATE!));
  }
  if (moto) {
    const e = parseEnvLines(moto);
    // moto accepts any credentials, but the SDK insists on having some.
    Object.assign(env, {
      AWS_ENDPOINT_URL: e.AWS_ENDPOINT_URL!,
      AWS_ACCESS_KEY_ID: "moto",
      AWS_SECRET_ACCESS_KEY: "moto",
      AWS_REGION: "ap-northeast-1",
    });
    stops.push(() => script("moto.sh", "stop", e.IKOU_STATE!));
  }
  if (pulumiBin?.trim()) env.IKOU_PULUMI_BIN = pulumiBin.trim();
  return { env, stop: async () => void (await Promise.allSettled(stops.map((s) => s()))) };
}
