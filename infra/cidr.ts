// Subnet carving without a dependency: the migration VPC is small and fixed-shape.

function toInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) return undefined;
  return { base: toInt(m.slice(1, 5).join(".")), prefix: Number(m[5]) };
}

/** The `index`-th subnet of `cidr` with `newBits` more prefix bits (like Terraform's cidrsubnet). */
export function cidrSubnet(cidr: string, newBits: number, index: number): string {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const prefix = parsed.prefix + newBits;
  if (prefix > 28 || index >= 2 ** newBits) throw new Error(`${cidr} has no subnet #${index} of /${prefix}`);
  const network = parsed.base - (parsed.base % 2 ** (32 - parsed.prefix));
  return `${toIp(network + index * 2 ** (32 - prefix))}/${prefix}`;
}

/** The network address of `cidr` (host bits cleared). */
export function networkOf(cidr: { base: number; prefix: number }): number {
  return cidr.base - (cidr.base % 2 ** (32 - cidr.prefix));
}

export function formatCidr(c: { base: number; prefix: number }): string {
  return `${toIp(c.base)}/${c.prefix}`;
}

/** Why `text` is not a usable network CIDR, or undefined. AWS refuses a CIDR with host bits set. */
export function cidrProblem(text: string): string | undefined {
  const c = parseCidr(text);
  if (!c) return "must be an IPv4 CIDR like 10.42.0.0/16";
  const network = networkOf(c);
  if (network !== c.base)
    return `has host bits set: ${text} is inside ${formatCidr({ base: network, prefix: c.prefix })}; write the network address`;
  return undefined;
}

/** Whether two CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y) return false;
  const prefix = Math.min(x.prefix, y.prefix);
  const size = 2 ** (32 - prefix);
  return Math.floor(x.base / size) === Math.floor(y.base / size);
}
