// TRUST_PROXY: which hops may name the client in X-Forwarded-For. Trusting any hop would let every
// client choose its own address (and with it its anonymous rate-limit key), so the setting is
// either how many proxies stand in front (a hop count) or their addresses.
import { isIP } from 'node:net';

/** false: nobody (the socket's address is the client); a number: that many proxies in front; a list: proxies by address or CIDR. */
export type TrustProxy = false | number | string[];

export type TrustProxyResult = { ok: true; value: TrustProxy } | { ok: false; problem: string };

export function parseTrustProxy(raw: string | undefined): TrustProxyResult {
  const v = raw?.trim() ?? '';
  if (v === '' || v === '0' || v.toLowerCase() === 'false') return { ok: true, value: false };
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return hops <= 10 ? { ok: true, value: hops } : { ok: false, problem: `TRUST_PROXY hop count must be at most 10, got ${v}` };
  }
  if (v.toLowerCase() === 'true') {
    return { ok: false, problem: 'TRUST_PROXY=true would let any client pick its address; give the number of proxies in front (e.g. 1) or their addresses/CIDRs' };
  }
  const entries = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = entries.filter((e) => !isAddressOrCidr(e));
  if (bad.length) return { ok: false, problem: `TRUST_PROXY must be a hop count or a comma-separated list of IP addresses/CIDRs; not an address or CIDR: ${bad.map((b) => `"${b}"`).join(', ')}` };
  return { ok: true, value: entries };
}

function isAddressOrCidr(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(entry) !== 0;
  const family = isIP(entry.slice(0, slash));
  const bits = entry.slice(slash + 1);
  return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
