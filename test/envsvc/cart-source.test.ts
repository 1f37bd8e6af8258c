// A test env of a shop loads its exports as that shop's cart writes them: the cart is the one its
// shop stack configures for the Batch jobs.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemClock } from "../../envsvc/core/ports.ts";
import { cartSourceOf, LocalTarget } from "../../envsvc/targets/local.ts";

describe("the local target's source check", () => {
  it("takes none, an s3:// prefix or a folder of this host, and names a missing folder", async () => {
    const target = new LocalTarget({
      adminUrl: "mysql://root@127.0.0.1:1/none",
      publicUrl: () => "http://localhost",
      reviewSecret: "x",
      dataDir: os.tmpdir(),
      demoOrders: 1,
      clock: systemClock,
      log: { warn() {} },
    });
    try {
      for (const ok of ["none", "s3://exports/sakura/", os.tmpdir()]) await target.checkSource(ok);
      await expect(target.checkSource("/no/such/folder")).rejects.toMatchObject({
        code: "invalid_request",
        message: "source /no/such/folder: no such folder on the service's host",
      });
    } finally {
      await target.close();
    }
  });
});

describe("cartSourceOf", () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const stacksWith = async (files: Record<string, string>) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ikou-stacks-"));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    return dir;
  };

  it("reads the committed shop stacks: momiji migrates from Shopify, sakura from EC-CUBE 4", async () => {
    expect(await cartSourceOf("momiji")).toBe("shopify");
    expect(await cartSourceOf("shop-sakura")).toBe("eccube4");
  });

  it("takes a mapping source as configured, and EC-CUBE 4 for a shop without a stack file", async () => {
    const dir = await stacksWith({
      "Pulumi.shop-kaede.yaml": "config:\n  ikou:batch:\n    source: mapping:carts/makeshop.yaml\n",
    });
    expect(await cartSourceOf("kaede", dir)).toBe("mapping:carts/makeshop.yaml");
    expect(await cartSourceOf("unknown", dir)).toBe("eccube4");
  });

  it("refuses a stack whose source names no cart, naming the stack", async () => {
    const dir = await stacksWith({ "Pulumi.shop-ume.yaml": "config:\n  ikou:batch:\n    source: woo\n" });
    await expect(cartSourceOf("ume", dir)).rejects.toThrow(
      "shop-ume: ikou:batch.source is not a cart source",
    );
  });
});
