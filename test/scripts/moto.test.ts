import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";

describe("moto stand-in", () => {
  it("creates a bucket and round-trips an object through the AWS SDK v3", async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL;
    expect(endpoint, "global setup exports AWS_ENDPOINT_URL").toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const s3 = new S3Client({
      endpoint,
      region: "ap-northeast-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const Bucket = `ikou-moto-${Date.now()}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket,
        CreateBucketConfiguration: { LocationConstraint: "ap-northeast-1" },
      }),
    );
    const body = "会員ID,メールアドレス\n1,a@example.jp\n";
    await s3.send(new PutObjectCommand({ Bucket, Key: "exports/customer.csv", Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: "exports/customer.csv" }));
    expect(await got.Body!.transformToString("utf-8")).toBe(body);
  });
});
