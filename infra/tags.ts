// Names and tags every component derives from the shop, so two shops can never collide and
// every bill line and resource is traceable to a client.

export interface ShopIdentity {
  /** Stack name, e.g. `shop-sakura`. */
  shop: string;
  env: string;
  owner: string;
}

export const TAG_SHOP = "ikou:shop";
export const TAG_ENV = "ikou:env";
export const TAG_OWNER = "ikou:owner";

export function shopTags(id: ShopIdentity, extra: Record<string, string> = {}): Record<string, string> {
  return { [TAG_SHOP]: id.shop, [TAG_ENV]: id.env, [TAG_OWNER]: id.owner, ...extra };
}

/** `ikou-<shop>-<parts>`: stable across runs, so renames never replace live resources by accident. */
export function shopName(id: ShopIdentity, ...parts: string[]): string {
  return ["ikou", id.shop, ...parts].join("-");
}
