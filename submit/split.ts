// The split stage: one pass over the exports that cuts each file into N shard files by the
// runner's own rule (a group goes where crc32 of its first row's shard key mod N says, so a
// customer and their orders stay together), copying each record's bytes unchanged (same encoding,
// same quoting) behind the file's own header. Each import child then reads 1/N of the input
// instead of parsing all of it (README: filtering costs each child a full parse). The price: a
// shard file's line numbers are not the client's, so rejects and the runner's line notes cite the
// shard file (kept beside the exports with a manifest), which is why the stage is opt-in (--split).
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { readerOf, type SourceAdapter } from "../runner/core/records.ts";
import { shardHash } from "../runner/core/shard.ts";
import { readCsvBatches } from "../runner/input/csv-records.ts";
import { listInputs, parseS3Url, s3Client, type InputFile } from "../runner/input/location.ts";
import { classify } from "../runner/job/classify.ts";
import { csvDialect, newTally } from "../runner/parse/chunk-source.ts";

export interface SplitManifest {
  shards: number;
  input: string;
  files: {
    name: string;
    entity: string;
    bytes: number;
    records: number;
    perShard: { records: number; bytes: number }[];
  }[];
}

/** Pulls bytes of a second read of the file up to a given offset. */
class ByteCursor {
  private buf: Buffer = Buffer.alloc(0);
  private at = 0; // file offset of buf[0]
  private readonly it: AsyncIterator<Buffer>;
  constructor(stream: Readable) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** The bytes from the cursor up to `end` (or to the end of the file), in the order read. */
  async *until(end: number = Infinity): AsyncGenerator<Buffer> {
    for (;;) {
      const want = end - this.at;
      if (want <= 0) return;
      if (this.buf.length === 0) {
        const next = await this.it.next();
        if (next.done) return;
        this.buf = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
        continue;
      }
      const take = Math.min(want, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      this.at += take;
      yield out;
    }
  }
}

export interface ShardSink {
  writer(index: number, fileName: string): Writable;
  /** Waits until everything written is stored. */
  close(): Promise<void>;
  writeManifest(manifest: SplitManifest): Promise<string>;
}

export function localSink(root: string): ShardSink {
  const open: Promise<void>[] = [];
  return {
    writer(index, fileName) {
      const file = path.join(root, String(index), fileName);
      const dir = path.dirname(file);
      const pass = new PassThrough();
      open.push(
        mkdir(dir, { recursive: true }).then(
          () =>
            new Promise<void>((resolve, reject) => {
              const out = createWriteStream(file);
              pass.pipe(out).on("finish", resolve).on("error", reject);
            }),
        ),
      );
      return pass;
    },
    close: async () => void (await Promise.all(open)),
    async writeManifest(m) {
      const file = path.join(root, "manifest.json");
      await mkdir(root, { recursive: true });
      await writeFile(file, `${JSON.stringify(m, null, 2)}\n`);
      return file;
    },
  };
}

export function s3Sink(rootUrl: string): ShardSink {
  const { bucket, prefix } = parseS3Url(rootUrl, "split output");
  const base = prefix.replace(/\/?$/, "/");
  const uploads: Promise<unknown>[] = [];
  return {
    writer(index, fileName) {
      const body = new PassThrough();
      uploads.push(
        (async () => {
          const { Upload } = await import("@aws-sdk/lib-storage");
          // One part in flight per shard file: N files × 5 MB of buffer, whatever N.
          await new Upload({
            client: await s3Client(),
            queueSize: 1,
            partSize: 5 << 20,
            params: {
              Bucket: bucket,
              Key: `${base}${index}/${fileName}`,
              Body: body,
              ChecksumAlgorithm: "SHA256",
            },
          }).done();
        })(),
      );
      return body;
    },
    close: async () => void (await Promise.all(uploads)),
    async writeManifest(m) {
      const { PutObjectCommand } = await import("@aws-sdk/client-s3");
      const key = `${base}manifest.json`;
      await (
        await s3Client()
      ).send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: JSON.stringify(m, null, 2),
          ContentType: "application/json",
        }),
      );
      return `s3://${bucket}/${key}`;
    },
  };
}

async function write(w: Writable, chunk: Buffer): Promise<void> {
  if (!w.write(chunk)) await new Promise<void>((r) => w.once("drain", () => r()));
}

const baseName = (name: string) => name.split("/").pop()!;

async function splitFile(
  adapter: SourceAdapter,
  file: InputFile,
  entity: SplitManifest["files"][number]["entity"],
  shards: number,
  sink: ShardSink,
): Promise<SplitManifest["files"][number]> {
  const reader = readerOf(adapter, entity as Parameters<typeof readerOf>[1]);
  const name = baseName(file.name);
  const writers = Array.from({ length: shards }, (_, i) => sink.writer(i, name));
  const perShard = writers.map(() => ({ records: 0, bytes: 0 }));
  const bytes = new ByteCursor(await file.open());
  const rows = await file.open();
  const stats = newTally(file.name, "customers").encoding;
  let current = -1; // shard of the record whose bytes are not yet copied
  let key: string | undefined;
  let records = 0;
  const flushTo = async (end?: number) => {
    for await (const part of bytes.until(end)) {
      if (current < 0) {
        // The header (and a BOM): every shard file starts with it.
        for (const w of writers) await write(w, part);
      } else {
        perShard[current]!.bytes += part.length;
        await write(writers[current]!, part);
      }
    }
  };
  for await (const batch of readCsvBatches(rows, file.name, csvDialect(adapter), stats)) {
    for (const item of batch) {
      if (item.kind === "header") continue;
      await flushTo(item.row.offset);
      const k = reader.groupKey(item.row);
      // As the runner groups: an unparseable record with no key joins the group before it.
      if (k !== key && !(item.problem?.malformed && k === "" && key !== undefined)) {
        key = k;
        current = item.problem?.malformed && k === "" ? 0 : shardHash(reader.shardKey(item.row)) % shards;
      }
      perShard[current]!.records++;
      records++;
    }
  }
  await flushTo();
  for (const w of writers) w.end();
  rows.destroy();
  return { name, entity, bytes: file.size, records, perShard };
}

export async function splitExports(opts: {
  adapter: SourceAdapter;
  input: string;
  shards: number;
  sink: ShardSink;
}): Promise<{ manifest: SplitManifest; manifestFile: string }> {
  const files = await classify(opts.adapter, await listInputs(opts.input));
  const manifest: SplitManifest = { shards: opts.shards, input: opts.input, files: [] };
  for (const { file, entity } of files)
    manifest.files.push(await splitFile(opts.adapter, file, entity, opts.shards, opts.sink));
  await opts.sink.close();
  return { manifest, manifestFile: await opts.sink.writeManifest(manifest) };
}
