import { newTally, preparedChunks } from "./runner/chunk-source.ts";
import { listInputs } from "./runner/input/location.ts";
import { stageChunk } from "./runner/sink/stage-plan.ts";
import { eccube4 } from "./runner/sources/eccube4.ts";
import { WHOLE } from "./runner/core/shard.ts";
const [file] = await listInputs(process.argv[2]!);
const rows = Number(process.argv[3]);
let n = 0, chunks = 0, maxRows = 0;
for await (const c of preparedChunks({ adapter: eccube4, file: file!, entity: "orders", shard: WHOLE, committed: [], limits: { rows, bytes: 4 << 20 }, tally: newTally(file!.name, "orders") })) { n += c.read; chunks++; maxRows = Math.max(maxRows, c.read); const s = stageChunk(c); if (chunks % 5 === 0) console.log(chunks, c.read, (process.memoryUsage().heapUsed/1e6).toFixed(0), "MB tsv", Object.values(s.tables).reduce((a,t)=>a+(t?.tsv.length??0),0)); }
console.log(n, chunks, maxRows, (process.resourceUsage().maxRSS / 1024).toFixed(0));
