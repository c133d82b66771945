// Bearer-token authentication for the user routes; public routes never register these hooks.
//
// A failed check is remembered at `onRequest` and answered at `preParsing`, so the route-level
// rate limit (an `onRequest` hook, which runs after this scope's hooks) still counts requests with
// missing or bad tokens against the caller's IP, and the body of a rejected request is never read.
// The hooks take callbacks rather than being async: a request without a token costs no promise.
import type { FastifyInstance } from 'fastify';
import { AppError, ErrorCode } from '../../errors.ts';
import { InvalidTokenError, type AuthUser, type TokenVerifier } from '../../auth/verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser;
    /** Why authentication failed; answered before the body is parsed. */
    authError?: AppError;
  }
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9\-_.=+/]+)\s*$/i;

// These answers never change, so they are built once: creating the Error was a large part of a 401.
const MISSING_HEADER = new AppError(401, ErrorCode.Unauthorized, 'Missing Authorization header; send "Authorization: Bearer <token>".');
const MALFORMED_HEADER = new AppError(401, ErrorCode.Unauthorized, 'Malformed Authorization header; expected "Bearer <token>".');

/** The token in an Authorization header, or the 401 saying what is wrong with the header. */
function bearerToken(header: string | undefined): string | AppError {
  if (!header) return MISSING_HEADER;
  return BEARER.exec(header)?.[1] ?? MALFORMED_HEADER;
}

/**
 * Makes everything registered in `scope` require a valid bearer token. The 401 is sent after the
 * rate limit has counted the request (per IP, as no user is known), before the body is read.
 */
export function withAuth(scope: FastifyInstance, verifier: TokenVerifier) {
  scope.addHook('onRequest', (req, _reply, done) => {
    const token = bearerToken(req.headers.authorization);
    if (token instanceof AppError) {
      req.authError = token;
      return done();
    }
    verifier(token).then(
      (user) => {
        req.user = user;
        done();
      },
      (e: unknown) => {
        if (!(e instanceof InvalidTokenError)) return done(e as Error);
        req.authError = new AppError(401, ErrorCode.Unauthorized, `Invalid token: ${e.message}.`);
        done();
      },
    );
  });
  scope.addHook('preParsing', (req, _reply, _payload, done) => {
    if (req.user) return done();
    done(req.authError ?? new AppError(401, ErrorCode.Unauthorized, 'Authentication required.'));
  });
}
