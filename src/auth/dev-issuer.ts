// The embedded mode's token issuer: an ES256 key kept in the data directory, so `devices-api
// token` and the server agree without any setup. Its tokens are trusted only in embedded mode.
import fs from 'node:fs';
import path from 'node:path';
// jose's subpath modules, not its root: `devices-api token` loads these few instead of all 177.
import { SignJWT } from 'jose/jwt/sign';
import { exportJWK } from 'jose/key/export';
import { importJWK } from 'jose/key/import';
import { generateKeyPair } from 'jose/key/generate/keypair';
import type { JWK, CryptoKey } from 'jose';

export const DEV_ISSUER = 'devices-api-dev';
export const DEV_AUDIENCE = 'devices-api';
const KEY_FILE = 'dev-issuer-key.json';

export interface DevIssuer {
  publicKey: CryptoKey;
  issue(claims: { sub: string; address?: string; ttlSeconds: number }): Promise<string>;
}

async function readOrCreateJwk(dataDir: string): Promise<JWK> {
  const file = path.join(dataDir, KEY_FILE);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
  } catch (e: any) {
    if (e.code !== 'ENOENT') throw new Error(`cannot read the dev issuer key ${file}: ${e.message}`);
  }
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', kid: 'dev-1' };
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // Exclusive create: if the server and the CLI race, one key wins and both read it.
    fs.writeFileSync(file, JSON.stringify(jwk), { flag: 'wx', mode: 0o600 });
    return jwk;
  } catch (e: any) {
    if (e.code === 'EEXIST') return JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
    throw e;
  }
}

export async function loadDevIssuer(dataDir: string): Promise<DevIssuer> {
  const jwk = await readOrCreateJwk(dataDir);
  const privateKey = (await importJWK(jwk, 'ES256')) as CryptoKey;
  const { d: _d, ...pub } = jwk;
  const publicKey = (await importJWK(pub, 'ES256')) as CryptoKey;
  return {
    publicKey,
    issue: async ({ sub, address, ttlSeconds }) => {
      const jwt = new SignJWT(address ? { ethereum_address: address } : {})
        .setProtectedHeader({ alg: 'ES256', kid: jwk.kid ?? 'dev-1', typ: 'JWT' })
        .setSubject(sub)
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
      return jwt.sign(privateKey);
    },
  };
}
