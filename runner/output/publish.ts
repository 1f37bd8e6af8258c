// Where a Batch job's rejects and report end up: the container's disk is gone when the task
// ends, so an s3:// --out uploads the files the run wrote locally.
import { createReadStream } from "node:fs";
import path from "node:path";
import { parseS3Url, s3Client } from "../input/location.ts";

export function isS3(location: string): boolean {
  return location.startsWith("s3://");
}

/** Uploads files (streamed, multipart when large) under s3://bucket/prefix/; returns their URLs. */
export async function publishFiles(files: readonly string[], target: string): Promise<string[]> {
  const { bucket, prefix: raw } = parseS3Url(target, "--out");
  const prefix = raw.replace(/\/?$/, "/").replace(/^\/$/, "");
  const { Upload } = await import("@aws-sdk/lib-storage");
  const client = await s3Client();
  const urls: string[] = [];
  for (const file of files) {
    const key = `${prefix}${path.basename(file)}`;
    await new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(file) } }).done();
    urls.push(`s3://${bucket}/${key}`);
  }
  return urls;
}
