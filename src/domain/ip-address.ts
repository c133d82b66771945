// Which kind of network an IP address belongs to, so that webhook URLs cannot reach the service's
// own network (SSRF): only `public` addresses are delivered to in production. Tunnelling prefixes
// (IPv4-mapped, NAT64, 6to4) are judged by the IPv4 address they carry.
import { isIPv4, isIPv6 } from 'node:net';

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'metadata'
  | 'multicast'
  | 'reserved';

type V4Rule = [base: number, bits: number, cls: AddressClass];

const v4 = (s: string): number => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);

// First match wins: the metadata address sits inside link-local.
const V4_RULES: V4Rule[] = (
  [
    ['169.254.169.254', 32, 'metadata'],
    ['0.0.0.0', 8, 'unspecified'],
    ['127.0.0.0', 8, 'loopback'],
    ['10.0.0.0', 8, 'private'],
    ['172.16.0.0', 12, 'private'],
    ['192.168.0.0', 16, 'private'],
    ['100.64.0.0', 10, 'cgnat'],
    ['169.254.0.0', 16, 'link-local'],
    ['224.0.0.0', 4, 'multicast'],
    ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
    ['192.0.2.0', 24, 'reserved'], // documentation
    ['192.88.99.0', 24, 'reserved'], // 6to4 relay anycast
    ['198.18.0.0', 15, 'reserved'], // benchmarking
    ['198.51.100.0', 24, 'reserved'],
    ['203.0.113.0', 24, 'reserved'],
    ['240.0.0.0', 4, 'reserved'], // future use, and the broadcast address
  ] as const
).map(([base, bits, cls]) => [v4(base), bits, cls]);

function classifyV4Int(n: number): AddressClass {
  for (const [base, bits, cls] of V4_RULES) {
    if (Math.floor(n / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits))) return cls;
  }
  return 'public';
}

/** The 128-bit value of an IPv6 address (zone id, if any, dropped). */
function v6ToBigInt(address: string): bigint {
  let s = address.split('%')[0]!.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = v4(dotted[1]!);
    s = s.slice(0, dotted.index) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

type V6Rule = [prefix: bigint, bits: number, cls: AddressClass | 'v4-low32' | 'v4-6to4'];

const v6 = (s: string) => v6ToBigInt(s);

const V6_RULES: V6Rule[] = [
  [v6('::'), 128, 'unspecified'],
  [v6('::1'), 128, 'loopback'],
  [v6('::ffff:0:0'), 96, 'v4-low32'], // IPv4-mapped
  [v6('64:ff9b::'), 96, 'v4-low32'], // NAT64
  [v6('64:ff9b:1::'), 48, 'reserved'], // local-use NAT64
  [v6('::'), 96, 'reserved'], // IPv4-compatible (deprecated)
  [v6('2002::'), 16, 'v4-6to4'],
  [v6('2001::'), 32, 'reserved'], // Teredo: tunnels to anywhere
  [v6('2001:db8::'), 32, 'reserved'], // documentation
  [v6('2001:10::'), 28, 'reserved'], // ORCHID
  [v6('2001:20::'), 28, 'reserved'], // ORCHIDv2
  [v6('3fff::'), 20, 'reserved'], // documentation
  [v6('100::'), 64, 'reserved'], // discard-only
  [v6('fd00:ec2::254'), 128, 'metadata'], // AWS instance metadata over IPv6
  [v6('fc00::'), 7, 'private'], // unique local
  [v6('fe80::'), 10, 'link-local'],
  [v6('fec0::'), 10, 'reserved'], // site-local (deprecated)
  [v6('ff00::'), 8, 'multicast'],
];

function classifyV6Int(n: bigint): AddressClass {
  for (const [prefix, bits, cls] of V6_RULES) {
    const shift = BigInt(128 - bits);
    if (n >> shift !== prefix >> shift) continue;
    if (cls === 'v4-low32') return classifyV4Int(Number(n & 0xffffffffn));
    if (cls === 'v4-6to4') return classifyV4Int(Number((n >> 80n) & 0xffffffffn));
    return cls;
  }
  // Only 2000::/3 is global unicast; the rest is unassigned.
  return n >> 125n === 1n ? 'public' : 'reserved';
}

/** The class of an IP address (IPv6 with or without brackets); null when `address` is not an IP address. */
export function classifyAddress(address: string): AddressClass | null {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(a)) return classifyV4Int(v4(a));
  if (isIPv6(a)) return classifyV6Int(v6ToBigInt(a));
  return null;
}

/** An address a webhook may be delivered to when private networks are refused. */
export const isPublicAddress = (address: string): boolean => classifyAddress(address) === 'public';
