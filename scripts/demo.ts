// `npm run demo`: the main job on a local default. Starts a throwaway MariaDB (unless MYSQL_URL
// is set), generates a realistic EC-CUBE 4 export set (CP932, ~100k order rows, a few bad rows),
// imports it with `ikou import`, and prints the report summary.
import { execFile } from "node:child_process";
import path from "node:path";
import { parseArgs } from "node:util";
import { generateEccube4 } from "./generate-eccube4.ts";
import { localJobEnv as jobEnv } from "../lib/job-contract.ts";
import { startStandIns } from "./standins.ts";

const { values } = parseArgs({
  options: { orders: { type: "string", default: "100000" }, out: { type: "string", default: "out/demo" } },
});
const outDir = path.resolve(values.out);
const standIns = await startStandIns({ mariadb: !process.env.MYSQL_URL, moto: false, pulumi: false });
try {
  const db = standIns.env.MYSQL_URL ?? process.env.MYSQL_URL!;
  const inputDir = path.join(outDir, "input");
  const gen = await generateEccube4({ dir: inputDir, orders: Number(values.orders), seed: 1, badRows: true });
  process.stdout.write(
    `generated ${gen.rows.customers} customers, ${gen.rows.products} product rows, ${gen.rows.orders} order rows (CP932) in ${inputDir}; ${gen.bad.length} deliberately bad rows\n`,
  );
  const ikou = path.resolve("bin/ikou.ts");
  const args = [
    "tsx",
    ikou,
    "import",
    "--source",
    "eccube4",
    "--input",
    inputDir,
    "--db",
    db,
    "--out",
    path.join(outDir, "result"),
  ];
  const code = await new Promise<number>((resolve) => {
    const child = execFile("npx", args, { maxBuffer: 1 << 24, env: jobEnv() }, (err) =>
      resolve(err ? Number((err as { code?: number }).code ?? 1) : 0),
    );
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
  });
  process.exitCode = code;
} finally {
  await standIns.stop();
}
