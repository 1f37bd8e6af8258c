import { newTally, preparedChunks } from "./runner/chunk-source.ts";
import { listInputs } from "./runner/input/location.ts";
import { stageChunk } from "./runner/sink/stage-plan.ts";
import { eccube4 } from "./runner/sources/eccube4.ts";
import { WHOLE } from "./runner/core/shard.ts";
const [file] = await listInputs(process.argv[2]!);
const t0 = performance.now();
let n = 0;
for await (const c of preparedChunks({ adapter: eccube4, file: file!, entity: "orders", shard: WHOLE, committed: [], limits: { rows: 5000, bytes: 8 << 20 }, tally: newTally(file!.name, "orders") })) { n += c.read; if (process.env.STAGE) stageChunk(c); }
const s = (performance.now() - t0) / 1000;
console.log(`${n} rows ${s.toFixed(2)}s ${(n / s).toFixed(0)} rows/s rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)}MB`);
