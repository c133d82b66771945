// Bearer-token authentication for the user routes; public routes never register these hooks.
//
// A failed check is remembered at `onRequest` and answered at `preParsing`, so the route-level
// rate limit (an `onRequest` hook, which runs after this scope's hooks) still counts requests with
// missing or bad tokens against the caller's IP, and the body of a rejected request is never read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../errors.ts';
import { InvalidTokenError, type AuthUser, type TokenVerifier } from '../../auth/verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser;
    /** Why authentication failed; answered before the body is parsed. */
    authError?: AppError;
  }
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9\-_.=+/]+)\s*$/i;

async function verify(verifier: TokenVerifier, header: string | undefined): Promise<AuthUser> {
  if (!header) throw new AppError(401, ErrorCode.Unauthorized, 'Missing Authorization header; send "Authorization: Bearer <token>".');
  const m = BEARER.exec(header);
  if (!m?.[1]) throw new AppError(401, ErrorCode.Unauthorized, 'Malformed Authorization header; expected "Bearer <token>".');
  try {
    return await verifier(m[1]);
  } catch (e) {
    if (e instanceof InvalidTokenError) throw new AppError(401, ErrorCode.Unauthorized, `Invalid token: ${e.message}.`);
    throw e;
  }
}

/** An `onRequest` hook that sets `req.user` or throws the 401 at once (no rate-limit accounting). */
export function authenticate(verifier: TokenVerifier) {
  return async (req: FastifyRequest) => {
    req.user = await verify(verifier, req.headers.authorization);
  };
}

/**
 * Makes everything registered in `scope` require a valid bearer token. The 401 is sent after the
 * rate limit has counted the request (per IP, as no user is known), before the body is read.
 */
export function withAuth(scope: FastifyInstance, verifier: TokenVerifier) {
  scope.addHook('onRequest', async (req) => {
    try {
      req.user = await verify(verifier, req.headers.authorization);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      req.authError = e;
    }
  });
  scope.addHook('preParsing', async (req) => {
    if (req.authError || !req.user) throw req.authError ?? new AppError(401, ErrorCode.Unauthorized, 'Authentication required.');
  });
}
