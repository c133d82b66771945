// In the scopes where a POST without a body is a normal request (the SDK's "get the payload"
// calls, firmware updates), an empty application/json body reads as {} instead of Fastify's 400.
import type { FastifyInstance } from 'fastify';

export function acceptEmptyJsonBody(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    void json(req, text, done);
  });
}
