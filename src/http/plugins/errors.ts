// The one error handler: every failure leaves in the `{code, message, error, requestId}` shape,
// 5xx never leak internals, and database outages become 503 rather than hangs or 500s.
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ErrorCode } from '../errors.ts';
import { isDatabaseUnavailable } from '../../db/engine.ts';

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** A message that names the offending field, e.g. `body has unknown field "foo"`. */
export function describeValidation(context: string, issues: ValidationIssue[]): string {
  const parts = issues.map((v) => {
    const where = `${context}${v.instancePath.replace(/\//g, '.')}`;
    if (v.keyword === 'additionalProperties') return `${context} has unknown field "${String(v.params.additionalProperty)}"`;
    if (v.keyword === 'required') return `${where} is missing required field "${String(v.params.missingProperty)}"`;
    return `${where} ${v.message ?? 'is invalid'}`;
  });
  return [...new Set(parts)].join('; ');
}

const CLIENT_ERROR_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.BadRequest,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  416: ErrorCode.RangeNotSatisfiable,
  429: ErrorCode.RateLimited,
};

function toAppError(err: FastifyError | AppError | Error): AppError | null {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (fe.validation) {
    return new AppError(400, ErrorCode.ValidationFailed, describeValidation(fe.validationContext ?? 'request', fe.validation));
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe.code === 'FST_REQ_FILE_TOO_LARGE') {
    return new AppError(413, ErrorCode.PayloadTooLarge, 'The request body is larger than this endpoint accepts.');
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new AppError(415, ErrorCode.UnsupportedMediaType, 'Unsupported Content-Type; send application/json.');
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (err instanceof SyntaxError && fe.statusCode === 400)) {
    return new AppError(400, ErrorCode.BadRequest, 'The request body is not valid JSON.');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(fe.statusCode, CLIENT_ERROR_CODES[fe.statusCode] ?? ErrorCode.BadRequest, fe.message);
  }
  if (isDatabaseUnavailable(err)) {
    return new AppError(503, ErrorCode.ServiceUnavailable, 'The database is unavailable; try again shortly.', { 'retry-after': '5' });
  }
  return null;
}

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const known = toAppError(err);
    if (known) {
      if (known.statusCode >= 500) req.log.warn({ err }, known.message);
      return reply
        .code(known.statusCode)
        .headers(known.headers)
        .send({ code: known.statusCode, message: known.message, error: known.code, requestId: req.id });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ code: 500, message: 'Internal error.', error: ErrorCode.Internal, requestId: req.id });
  });

  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send({
      code: 404,
      message: `Route ${req.method} ${req.url.split('?')[0]} not found.`,
      error: ErrorCode.RouteNotFound,
      requestId: req.id,
    });
  });
});
