// Where webhooks may be sent. In production only https URLs whose host resolves to public
// addresses (no loopback, private, CGNAT, link-local, multicast or cloud metadata addresses: no
// SSRF); embedded mode, for development, also allows http and local receivers. The check runs
// when a subscription is saved and again on every delivery, after DNS resolution, with the
// connection pinned to the checked address (resolvingLookup) so a DNS answer cannot change in between.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { classifyAddress } from '../domain/ip-address.ts';

export interface UrlPolicy {
  /** http:// URLs accepted (WEBHOOK_ALLOW_HTTP; default only in embedded mode). */
  allowHttp: boolean;
  /** Hosts on loopback, private and other non-public networks accepted (WEBHOOK_ALLOW_PRIVATE_NETWORKS; default only in embedded mode). */
  allowPrivateNetworks: boolean;
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export type UrlCheck = { ok: true; url: URL } | { ok: false; message: string };

/** What can be said from the URL alone: scheme, length, credentials, a literal address. */
export function checkWebhookUrl(text: string, policy: UrlPolicy): UrlCheck {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) return { ok: false, message: `url is longer than ${MAX_WEBHOOK_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: 'url is not a valid absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, message: 'url must use https' };
  if (url.protocol === 'http:' && !policy.allowHttp) return { ok: false, message: 'url must use https (http is allowed only with WEBHOOK_ALLOW_HTTP=true)' };
  if (url.username || url.password) return { ok: false, message: 'url must not contain credentials' };
  if (!policy.allowPrivateNetworks) {
    const host = url.hostname.toLowerCase();
    const cls = classifyAddress(host);
    if (cls !== null && cls !== 'public') return { ok: false, message: refusal(host, cls) };
    if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, message: refusal(host, 'loopback') };
  }
  return { ok: true, url };
}

const refusal = (what: string, cls: string) => `url points to a ${cls} address (${what}); webhooks are delivered to public addresses only`;

export class RefusedAddressError extends Error {
  readonly code = 'EWEBHOOKADDRESS';
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** The host's addresses, all of them public unless the policy allows private networks; throws RefusedAddressError otherwise. */
export async function resolveAllowed(host: string, policy: UrlPolicy, resolve: Resolver = systemResolver): Promise<LookupAddress[]> {
  const addresses = await resolve(host);
  if (!policy.allowPrivateNetworks) {
    // One private answer refuses the host: which address a client would connect to is not ours to pick.
    for (const a of addresses) {
      const cls = classifyAddress(a.address);
      if (cls !== 'public') throw new RefusedAddressError(refusal(`${host} resolves to ${a.address}`, cls ?? 'unknown'));
    }
  }
  if (addresses.length === 0) throw new RefusedAddressError(`${host} resolves to no address`);
  return addresses;
}

/**
 * A `lookup` for node:http(s) that resolves through resolveAllowed: the socket connects to an
 * address that was checked, whatever the DNS answers a moment later (no DNS rebinding).
 */
export function resolvingLookup(policy: UrlPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return (host, options, callback) => {
    resolveAllowed(host, policy, resolve).then(
      (addresses) => {
        const family = typeof options === 'object' ? options.family : undefined;
        const wanted = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
        if (wanted.length === 0) return callback(Object.assign(new Error(`${host} has no IPv${family} address`), { code: 'ENOTFOUND' }), '', 4);
        if (typeof options === 'object' && options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
        callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  };
}
