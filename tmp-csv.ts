import { parse } from "csv-parse";
import iconv from "iconv-lite";
import { createReadStream } from "node:fs";
const f = process.argv[2]!;
for (const opts of [{ info: true, raw: true }, { raw: true }, {}]) {
  const t0 = performance.now();
  let n = 0;
  const p = createReadStream(f, { highWaterMark: 1 << 20 }).pipe(iconv.decodeStream("cp932")).pipe(parse({ relax_column_count: true, ...opts }));
  for await (const _ of p) n++;
  console.log(JSON.stringify(opts), n, ((performance.now() - t0) / 1000).toFixed(2), "s");
}
let t0 = performance.now();
let chars = 0;
for await (const s of createReadStream(f, { highWaterMark: 1 << 20 }).pipe(iconv.decodeStream("cp932"))) chars += (s as string).length;
console.log("decode only", ((performance.now() - t0) / 1000).toFixed(2), "s", chars);
