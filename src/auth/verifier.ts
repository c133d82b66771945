// Verifies user JWTs: production trusts the configured JWKS (issuer + audience checked);
// embedded mode also trusts the local dev issuer. `alg: none` never passes: jose refuses
// unsecured tokens when a key is required.
import { createRemoteJWKSet, decodeJwt, jwtVerify, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { parseAddress } from '../domain/address.ts';
import { LRUCache } from 'lru-cache';
import { DEV_AUDIENCE, DEV_ISSUER } from './dev-issuer.ts';

export interface AuthUser {
  id: string;
  /** Checksummed, or null when the token carries no valid `ethereum_address`. */
  address: `0x${string}` | null;
}

export class InvalidTokenError extends Error {}

export interface TrustedIssuer {
  issuer: string;
  audience: string;
  key: CryptoKey | JWTVerifyGetKey;
  /** The longest lifetime (exp − iat) accepted from this issuer; unset: any. */
  maxLifetimeSeconds?: number;
}

export type TokenVerifier = (token: string) => Promise<AuthUser>;

export function remoteIssuer(jwksUrl: string, issuer: string, audience: string): TrustedIssuer {
  return { issuer, audience, key: createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 }) };
}

export function devIssuer(publicKey: CryptoKey, maxLifetimeSeconds: number): TrustedIssuer {
  return { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, key: publicKey, maxLifetimeSeconds };
}

const CLOCK_TOLERANCE_SECONDS = 5;
// A subject becomes a database key and a log field: no NUL or other control characters.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

export interface VerifierOptions {
  /** Verified tokens remembered (bounded), so a client's repeat requests skip the signature check. */
  cacheSize?: number;
  /** Upper bound on how long a verification is reused, so a key the issuer revokes stops working soon. */
  cacheTtlMs?: number;
  now?: () => number;
}

export function createTokenVerifier(issuers: TrustedIssuer[], opts: VerifierOptions = {}): TokenVerifier {
  const now = opts.now ?? Date.now;
  const verify = createUncachedVerifier(issuers, now);
  const ttl = opts.cacheTtlMs ?? 60_000;
  const cache = new LRUCache<string, { user: AuthUser; until: number }>({ max: opts.cacheSize ?? 10_000 });
  return async (token) => {
    const hit = cache.get(token);
    if (hit && now() < hit.until) return hit.user;
    const { user, exp } = await verify(token);
    // Never past the token's own expiry.
    cache.set(token, { user, until: Math.min(now() + ttl, exp * 1000) });
    return user;
  };
}

function createUncachedVerifier(issuers: TrustedIssuer[], now: () => number): (token: string) => Promise<{ user: AuthUser; exp: number }> {
  const byIssuer = new Map(issuers.map((i) => [i.issuer, i]));
  return async (token) => {
    let iss: string | undefined;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new InvalidTokenError('the bearer token is not a well-formed JWT');
    }
    const trusted = iss === undefined ? undefined : byIssuer.get(iss);
    if (!trusted) throw new InvalidTokenError('the token was not issued by a trusted issuer');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, trusted.key as any, {
        issuer: trusted.issuer,
        audience: trusted.audience,
        algorithms: ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'EdDSA'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now()),
      }));
    } catch (e: any) {
      const reason = e?.code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : 'the token signature or claims are invalid';
      throw new InvalidTokenError(reason);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
      throw new InvalidTokenError('the token has no subject');
    }
    if (CONTROL_CHARACTER.test(payload.sub)) throw new InvalidTokenError('the token subject contains control characters');
    // A token without exp would be valid forever.
    if (typeof payload.exp !== 'number') throw new InvalidTokenError('the token has no expiry (exp)');
    const nowSeconds = now() / 1000;
    if (typeof payload.iat === 'number' && payload.iat > nowSeconds + CLOCK_TOLERANCE_SECONDS) {
      throw new InvalidTokenError('the token was issued in the future (iat)');
    }
    const max = trusted.maxLifetimeSeconds;
    if (max !== undefined && payload.exp - (payload.iat ?? nowSeconds) > max + CLOCK_TOLERANCE_SECONDS) {
      throw new InvalidTokenError(`the token lives longer than ${max} s (JWT_MAX_LIFETIME)`);
    }
    const raw = payload.ethereum_address;
    const user = { id: payload.sub, address: typeof raw === 'string' ? parseAddress(raw) : null };
    return { user, exp: payload.exp };
  };
}
