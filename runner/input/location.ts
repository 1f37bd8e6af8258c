// Where exports come from: a local directory (or file) or an S3 prefix, streamed either way.
import type { S3Client } from "@aws-sdk/client-s3";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

export interface InputFile {
  /** Shown in rejects and reports: the file name, or the S3 key. */
  name: string;
  size: number;
  /** Changes when the file changes: a resumed run must read the same bytes. */
  fingerprint: string;
  open(fromByte?: number): Promise<Readable>;
}

// The SDK is loaded only for s3:// inputs: it costs tens of MB in every thread that imports it.
const s3Sdk = () => import("@aws-sdk/client-s3");

export async function s3Client(): Promise<S3Client> {
  const { S3Client } = await s3Sdk();
  // AWS_ENDPOINT_URL points the SDK at moto locally; path-style keeps bucket names out of DNS.
  const endpoint = process.env.AWS_ENDPOINT_URL;
  return new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "ap-northeast-1",
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
}

export async function listInputs(location: string): Promise<InputFile[]> {
  return location.startsWith("s3://") ? listS3(location) : listLocal(location);
}

async function listLocal(location: string): Promise<InputFile[]> {
  const info = await stat(location).catch(() => {
    throw new Error(`input ${location}: no such file or directory`);
  });
  const paths = info.isDirectory()
    ? (await readdir(location))
        .filter((f) => f.toLowerCase().endsWith(".csv"))
        .sort()
        .map((f) => path.join(location, f))
    : [location];
  if (paths.length === 0) throw new Error(`input ${location}: no .csv files in that directory`);
  return Promise.all(
    paths.map(async (p) => {
      const s = await stat(p);
      return {
        name: path.basename(p),
        size: s.size,
        fingerprint: `${s.size}:${s.mtimeMs}`,
        open: async (fromByte = 0) => createReadStream(p, { start: fromByte, highWaterMark: 1 << 18 }),
      };
    }),
  );
}

/** s3://bucket/prefix → its parts; `what` names the option in the error (`input`, `--out`). */
export function parseS3Url(url: string, what: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`${what} ${url}: expected s3://bucket/prefix`);
  return { bucket: m[1]!, prefix: m[2]! };
}

async function listS3(location: string): Promise<InputFile[]> {
  const { bucket, prefix } = parseS3Url(location, "input");
  const s3 = await s3Client();
  const { GetObjectCommand, ListObjectsV2Command } = await s3Sdk();
  const files: InputFile[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const obj of page.Contents ?? []) {
      if (!obj.Key?.toLowerCase().endsWith(".csv")) continue;
      const key = obj.Key;
      files.push({
        name: key,
        size: obj.Size ?? 0,
        fingerprint: `${obj.Size}:${obj.ETag}`,
        open: async (fromByte = 0) => {
          const res = await s3.send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: key,
              ...(fromByte ? { Range: `bytes=${fromByte}-` } : {}),
            }),
          );
          return res.Body as Readable;
        },
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (files.length === 0) throw new Error(`input ${location}: no .csv objects under that prefix`);
  return files.sort((a, b) => a.name.localeCompare(b.name));
}
