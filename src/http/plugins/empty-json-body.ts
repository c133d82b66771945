// In the scopes where a POST without a body is a normal request (the SDK's "get the payload"
// calls, firmware updates), an empty application/json body, or none at all, reads as {} instead
// of Fastify's 400. Call it before the scope's routes: it attaches to routes as they are added.
import type { FastifyInstance, preValidationHookHandler } from 'fastify';
import { hookList } from './hook-list.ts';

// Without a content-type the body is never parsed and reaches validation as undefined.
const absentBodyAsObject: preValidationHookHandler = (req, _reply, done) => {
  if (req.body === undefined || req.body === null) req.body = {};
  done();
};

export function acceptEmptyJsonBody(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    void json(req, text, done);
  });
  app.addHook('onRoute', (route) => {
    if (route.schema?.body) route.preValidation = [...hookList(route.preValidation), absentBodyAsObject];
  });
}
