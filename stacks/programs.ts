// Which program a stack runs, by its name: `shop-<id>` (a client shop's migration), `platform-<region>`
// (the shared test-env platform and envsvc), `testshop-<shop>-<env>` (one test env).
import * as pulumi from "@pulumi/pulumi";
import { platformProgram } from "./platform/program.ts";
import { shopProgram } from "./program.ts";
import { readTestShopConfig } from "./testshop/config.ts";
import { testShopProgram } from "./testshop/program.ts";

export type StackKind = "shop" | "platform" | "testshop";

export function stackKindOf(stack: string): StackKind | undefined {
  if (stack.startsWith("shop-")) return "shop";
  if (stack.startsWith("platform-")) return "platform";
  if (stack.startsWith("testshop-")) return "testshop";
  return undefined;
}

export async function stackProgram(): Promise<Record<string, unknown>> {
  const stack = pulumi.getStack();
  switch (stackKindOf(stack)) {
    case "shop":
      return shopProgram();
    case "platform":
      return platformProgram();
    case "testshop":
      return testShopProgram(readTestShopConfig())();
    default:
      throw new Error(`stack "${stack}" is none of shop-<id>, platform-<region>, testshop-<shop>-<env>`);
  }
}
