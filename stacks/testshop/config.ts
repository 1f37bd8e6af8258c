// Config of a test-env stack run by the CLI (`pulumi up -s testshop-<shop>-<env>`, e.g. a standing
// env committed as a stack file). envsvc does not use it: it hands testShopProgram its arguments.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { checkStackKeys, StackConfigError, structuredKeysOf } from "../config.ts";
import { TESTSHOP_ENV_ID, type TestShopProgramArgs, testShopStackName } from "./program.ts";

const schema = z
  .object({
    "aws:region": z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region like ap-northeast-1"),
    "ikou:testShop": z
      .object({
        shop: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "must be a shop id like sakura"),
        envId: z.string().regex(TESTSHOP_ENV_ID, "must be 2-20 of a-z, 0-9, -, start with a letter"),
        branch: z.string().min(1),
        owner: z.string().min(1),
        imageTag: z
          .string()
          .regex(/^[\w][\w.-]{0,127}$/, "must be an image tag")
          .optional(),
      })
      .strict(),
  })
  .strict();

const STRUCTURED = structuredKeysOf(schema.shape);

export function parseTestShopConfig(stack: string, raw: Record<string, string>): TestShopProgramArgs {
  const { data, problems } = checkStackKeys(schema, STRUCTURED, raw);
  const ts = data?.["ikou:testShop"];
  if (ts && stack !== testShopStackName(ts.shop, ts.envId))
    problems.push(
      `stack name "${stack}" must be ${testShopStackName(ts.shop, ts.envId)} (testshop-<shop>-<envId>)`,
    );
  if (problems.length > 0 || !data) throw new StackConfigError(stack, problems);
  return { ...data["ikou:testShop"], region: data["aws:region"] };
}

export function readTestShopConfig(): TestShopProgramArgs {
  return parseTestShopConfig(pulumi.getStack(), pulumi.runtime.allConfig());
}
