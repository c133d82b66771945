// An empty request body is "no body", whatever its Content-Type says: real clients send bodyless
// POSTs as `application/x-www-form-urlencoded` with Content-Length 0 (axios, so
// @dimo-network/data-sdk), as empty `application/json`, or with no type at all. A body with
// content is parsed only as JSON (or multipart where a route registers it); anything else is 415.
// Register before any route: the parsers are inherited by every scope, the hook attaches to
// routes as they are added.
import type { FastifyInstance, preValidationHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ErrorCode } from '../../errors.ts';
import { hookList } from './hook-list.ts';

const unsupported = () => new AppError(415, ErrorCode.UnsupportedMediaType, 'Unsupported Content-Type; send application/json.');

// A route with a body schema validates {} for an absent body, so its message names the missing fields.
const absentBodyAsObject: preValidationHookHandler = (req, _reply, done) => {
  if (req.body === undefined || req.body === null) req.body = {};
  done();
};

export const emptyBodyPlugin = fp(async (app: FastifyInstance) => {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    void json(req, text, done);
  });
  // Every other type (and a chunked body without a type): empty is no body, content is 415.
  // Content-Length says so up front; a chunked body is refused at its first byte.
  app.addContentTypeParser('*', (req, payload, done) => {
    const length = req.headers['content-length'];
    if (length !== undefined) return done(Number(length) === 0 ? null : unsupported(), undefined);
    let finished = false;
    const finish = (err: Error | null) => {
      if (finished) return;
      finished = true;
      payload.removeListener('data', onData).removeListener('end', onEnd).removeListener('error', onError);
      done(err, undefined);
    };
    const onData = (chunk: Buffer | string) => {
      if (chunk.length > 0) finish(unsupported());
    };
    const onEnd = () => finish(null);
    // A client that went away mid-body: its fault, not the server's.
    const onError = (err: Error & { statusCode?: number }) => finish(Object.assign(err, { statusCode: err.statusCode ?? 400 }));
    payload.on('data', onData).on('end', onEnd).on('error', onError);
  });
  app.addHook('onRoute', (route) => {
    if (route.schema?.body) route.preValidation = [...hookList(route.preValidation), absentBodyAsObject];
  });
});
