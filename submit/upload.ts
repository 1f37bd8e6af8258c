// Step 1 of a run: the client's exports into the shop's bucket under raw/<run>/. Multipart through
// @aws-sdk/lib-storage with a SHA-256 per part (S3 rejects a part whose bytes do not match), then
// the object's checksum as S3 reports it is compared with the one computed here. An object that
// already holds the same bytes (same size and SHA-256, from an earlier submit) is not sent again.
import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../lib/errors.ts";

/** lib-storage's part size; the composite checksum below must be computed with the same one. */
export const PART_SIZE = 8 << 20;

export interface LocalExport {
  name: string;
  path: string;
  size: number;
  /** Hex SHA-256 of the whole file: what decides "unchanged" on a re-submit. */
  sha256: string;
  /** What S3 reports as ChecksumSHA256 once the object is stored (composite when multipart). */
  s3Checksum: string;
}

/** The .csv files of a directory (or one file), as the runner lists them; none is an error. */
export async function listExports(input: string): Promise<string[]> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new UsageError(`--input ${input}: no such file or directory`);
  if (!info.isDirectory()) return [input];
  const files = (await readdir(input))
    .filter((f) => f.toLowerCase().endsWith(".csv"))
    .sort()
    .map((f) => path.join(input, f));
  if (files.length === 0) throw new UsageError(`--input ${input}: no .csv files in that directory`);
  return files;
}

/** One read of the file: the whole-file digest and the per-part digests S3's checksum is built from. */
export async function hashExport(file: string, partSize = PART_SIZE): Promise<LocalExport> {
  const whole = createHash("sha256");
  const parts: Buffer[] = [];
  let part = createHash("sha256");
  let inPart = 0;
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    size += chunk.length;
    for (let at = 0; at < chunk.length;) {
      const take = Math.min(partSize - inPart, chunk.length - at);
      part.update(chunk.subarray(at, at + take));
      inPart += take;
      at += take;
      if (inPart === partSize) {
        parts.push(part.digest());
        part = createHash("sha256");
        inPart = 0;
      }
    }
  }
  if (inPart > 0 || parts.length === 0) parts.push(part.digest());
  const sha256 = whole.digest();
  // Below one part lib-storage sends a single PutObject: S3 then reports the plain digest.
  const s3Checksum =
    size <= partSize
      ? sha256.toString("base64")
      : `${createHash("sha256").update(Buffer.concat(parts)).digest("base64")}-${parts.length}`;
  return { name: path.basename(file), path: file, size, sha256: sha256.toString("hex"), s3Checksum };
}

/** A run is named by what it imports: the same exports submitted again are the same run. */
export function runIdOf(exports: readonly LocalExport[]): string {
  const h = createHash("sha256");
  for (const e of [...exports].sort((a, b) => a.name.localeCompare(b.name)))
    h.update(`${e.name}\t${e.sha256}\n`);
  return `r${h.digest("hex").slice(0, 12)}`;
}

export interface UploadOutcome {
  name: string;
  key: string;
  size: number;
  action: "uploaded" | "unchanged";
}

async function head(s3: S3Client, bucket: string, key: string) {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === "NotFound" || e.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

/** S3 writes a composite checksum as `<digest>-<parts>`; some implementations leave the suffix off. */
export function sameChecksum(stored: string | undefined, expected: string): boolean {
  if (!stored) return false;
  const [digest, parts] = stored.split("-");
  const [want, wantParts] = expected.split("-");
  return digest === want && (parts === undefined || parts === wantParts);
}

export class ChecksumMismatchError extends Error {
  readonly code = "CHECKSUM_MISMATCH";
}

export async function uploadExports(
  s3: S3Client,
  exports: readonly LocalExport[],
  where: { bucket: string; keyPrefix: string },
  onFile?: (o: UploadOutcome) => void,
): Promise<UploadOutcome[]> {
  const out: UploadOutcome[] = [];
  for (const e of exports) {
    const key = `${where.keyPrefix}${e.name}`;
    const before = await head(s3, where.bucket, key);
    let action: UploadOutcome["action"] = "unchanged";
    if (before?.ContentLength !== e.size || before.Metadata?.sha256 !== e.sha256) {
      await new Upload({
        client: s3,
        partSize: PART_SIZE,
        queueSize: 4,
        leavePartsOnError: false,
        params: {
          Bucket: where.bucket,
          Key: key,
          Body: createReadStream(e.path),
          ChecksumAlgorithm: "SHA256",
          Metadata: { sha256: e.sha256 },
          ContentType: "text/csv",
        },
      }).done();
      const after = await head(s3, where.bucket, key);
      if (after?.ContentLength !== e.size || !sameChecksum(after.ChecksumSHA256, e.s3Checksum)) {
        // Left in place, its sha256 metadata would make the next submit skip it as unchanged.
        await s3.send(new DeleteObjectCommand({ Bucket: where.bucket, Key: key }));
        throw new ChecksumMismatchError(
          `s3://${where.bucket}/${key}: stored ${after?.ContentLength} bytes with SHA-256 ${after?.ChecksumSHA256}, sent ${e.size} bytes with ${e.s3Checksum}`,
        );
      }
      action = "uploaded";
    }
    const outcome = { name: e.name, key, size: e.size, action };
    onFile?.(outcome);
    out.push(outcome);
  }
  return out;
}
