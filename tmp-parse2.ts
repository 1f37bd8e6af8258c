import { newTally, preparedChunks } from "./runner/chunk-source.ts";
import { listInputs } from "./runner/input/location.ts";
import { eccube4 } from "./runner/sources/eccube4.ts";
import { WHOLE } from "./runner/core/shard.ts";
const [file] = await listInputs(process.argv[2]!);
let i = 0;
for await (const c of preparedChunks({ adapter: eccube4, file: file!, entity: "orders", shard: WHOLE, committed: [], limits: { rows: 5000, bytes: 8 << 20 }, tally: newTally(file!.name, "orders") })) {
  if (i++ % 4 === 0) { (globalThis as any).gc(); console.log(i, c.read, "live heap MB", (process.memoryUsage().heapUsed / 1e6).toFixed(0), "ext", (process.memoryUsage().external/1e6).toFixed(0), "ab", (process.memoryUsage().arrayBuffers/1e6).toFixed(0)); }
}
