// Bearer-token authentication for the user routes; public routes never register this hook.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../errors.ts';
import { InvalidTokenError, type AuthUser, type TokenVerifier } from '../../auth/verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser;
  }
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9\-_.=+/]+)\s*$/i;

export function authenticate(verifier: TokenVerifier) {
  return async (req: FastifyRequest) => {
    const header = req.headers.authorization;
    if (!header) throw new AppError(401, ErrorCode.Unauthorized, 'Missing Authorization header; send "Authorization: Bearer <token>".');
    const m = BEARER.exec(header);
    if (!m?.[1]) throw new AppError(401, ErrorCode.Unauthorized, 'Malformed Authorization header; expected "Bearer <token>".');
    try {
      req.user = await verifier(m[1]);
    } catch (e) {
      if (e instanceof InvalidTokenError) throw new AppError(401, ErrorCode.Unauthorized, `Invalid token: ${e.message}.`);
      throw e;
    }
  };
}

/** Registers the auth hook on an encapsulated scope; everything registered inside needs a token. */
export function withAuth(app: FastifyInstance, verifier: TokenVerifier) {
  app.decorateRequest('user', null as unknown as AuthUser);
  app.addHook('onRequest', authenticate(verifier));
}
