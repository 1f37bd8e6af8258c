// Reads shared by the Shopify files: keys, addresses (customer, billing, shipping) and names.
import type { Cells } from "../../core/cells.ts";
import type { SourceRow, Value } from "../../core/records.ts";

export const field = (row: SourceRow, name: string): string => (row.fields[name] ?? "").trim();
export const unquote = (v: string): string => (v.startsWith("'") ? v.slice(1) : v);
export const emailKey = (row: SourceRow): string => field(row, "Email").toLowerCase();

export function customerKey(row: SourceRow): string {
  const id = unquote(field(row, "Customer ID"));
  return id !== "" ? id : `email:${emailKey(row)}`;
}

export interface AddressHeaders {
  company: string;
  address1: string;
  address2: string;
  city: string;
  province: string;
  country: string;
  zip: string;
  phone: string;
}

const addressHeaders = (prefix: string): AddressHeaders => ({
  company: `${prefix}Company`,
  address1: `${prefix}Address1`,
  address2: `${prefix}Address2`,
  city: `${prefix}City`,
  province: `${prefix}Province`,
  country: `${prefix}Country`,
  zip: `${prefix}Zip`,
  phone: `${prefix}Phone`,
});

export const CURRENT_CUSTOMER_ADDRESS: AddressHeaders = {
  ...addressHeaders("Default Address "),
  province: "Default Address Province Code",
  country: "Default Address Country Code",
};
export const OLD_CUSTOMER_ADDRESS: AddressHeaders = {
  ...addressHeaders(""),
  province: "Province Code",
  country: "Country Code",
};
export const BILLING = addressHeaders("Billing ");
export const SHIPPING = addressHeaders("Shipping ");

export const anySet = (c: Cells, headers: readonly string[]): boolean => headers.some((h) => c.raw(h) !== "");

/** Shopify's ISO 3166-2 form for Japan is `JP-13` [unconfirmed]; anything else leaves the id null. */
function japanesePrefectureId(country: string | null, province: string | null): number | null {
  if (country !== "JP" || province === null) return null;
  const m = /^JP-(\d{2})$/.exec(province);
  const id = m ? Number(m[1]) : 0;
  return id >= 1 && id <= 47 ? id : null;
}

export function readAddress(c: Cells, h: AddressHeaders, phoneFallback?: string): Record<string, Value> {
  const country = c.str(h.country, 2)?.toUpperCase() ?? null;
  const province = c.str(h.province, 32);
  const phoneField = phoneFallback && c.raw(h.phone) === "" ? phoneFallback : h.phone;
  return {
    company_name: c.str(h.company, 255),
    postal_code: c.str(h.zip, 16, { stripApostrophe: true }),
    prefecture_id: japanesePrefectureId(country, province),
    prefecture_name: province,
    country_code: country,
    city: c.str(h.city, 255),
    address1: c.str(h.address1, 255),
    address2: c.str(h.address2, 255),
    phone: c.str(phoneField, 32, { stripApostrophe: true }),
  };
}

/**
 * Orders carry one `… Name` cell. Split on the last space ("Bella Barrett" → first "Bella",
 * last "Barrett"); a name without a space goes to last_name whole. Japanese "山田 太郎" comes out
 * reversed (first 山田): the export does not say which order the customer typed.
 */
export function splitName(c: Cells, header: string): { first_name: string | null; last_name: string | null } {
  const full = c.str(header, 255);
  if (full === null) return { first_name: null, last_name: null };
  const at = full.lastIndexOf(" ");
  if (at < 0) return { first_name: null, last_name: full };
  return { first_name: full.slice(0, at).trim() || null, last_name: full.slice(at + 1) };
}

const addressColumns = (h: AddressHeaders): string[] => Object.values(h);

/**
 * What each reader maps, plus what only restates a mapped column (`Billing Street` is Address1 and
 * Address2, `Province` names the code's region). Everything else — Note Attributes, Risk Level,
 * SEO fields, Option names… — goes to the entity's `extra`.
 */
export const MAPPED_COLUMNS = {
  customers: new Set([
    "Customer ID",
    "First Name",
    "Last Name",
    "Email",
    "Accepts Email Marketing",
    "Accepts Marketing",
    "Phone",
    "Total Spent",
    "Total Orders",
    "Tags",
    "Note",
    ...addressColumns(CURRENT_CUSTOMER_ADDRESS),
    ...addressColumns(OLD_CUSTOMER_ADDRESS),
    "Province",
    "Country",
  ]),
  products: new Set([
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Type",
    "Tags",
    "Published",
    "Status",
    "Option1 Value",
    "Option2 Value",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Qty",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Barcode",
    "Variant Taxable",
    "Variant Requires Shipping",
    "Image Src",
    "Image Position",
  ]),
  orders: new Set([
    "Name",
    "Id",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Cancelled at",
    "Payment Method",
    "Notes",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Lineitem discount",
    "Billing Name",
    "Billing Street",
    "Billing Province Name",
    "Shipping Name",
    "Shipping Street",
    "Shipping Province Name",
    ...addressColumns(BILLING),
    ...addressColumns(SHIPPING),
  ]),
} as const;
