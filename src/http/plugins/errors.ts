// The one error handler: every failure leaves in the `{code, message, error, requestId}` shape,
// 5xx never leak internals, and database outages become 503 rather than hangs or 500s.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ErrorCode } from '../../errors.ts';
import { isDatabaseUnavailable } from '../../db/engine.ts';
import { hookList } from './hook-list.ts';

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
  408: ErrorCode.RequestTimeout,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  414: ErrorCode.UriTooLong,
  416: ErrorCode.RangeNotSatisfiable,
  431: ErrorCode.HeadersTooLarge,
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

  // A path that exists with other methods answers 405 and says which, not 404.
  const routes = createRouteTable();
  app.addHook('onRoute', (route) => routes.add(route.url, hookList(route.method)));

  app.setNotFoundHandler((req, reply) => {
    const allow = routes.methodsFor(req.url.split('?')[0] ?? '/');
    if (allow.length > 0 && !allow.includes(req.method)) {
      return reply
        .code(405)
        .header('allow', allow.join(', '))
        .send({ code: 405, message: `${req.method} is not allowed here; use ${allow.join(', ')}.`, error: ErrorCode.MethodNotAllowed, requestId: req.id });
    }
    return reply.code(404).send({
      code: 404,
      message: `Route ${req.method} ${req.url.split('?')[0]} not found.`,
      error: ErrorCode.RouteNotFound,
      requestId: req.id,
    });
  });
});

/** The registered routes as path patterns, to tell "no such path" from "not with this method". */
function createRouteTable() {
  const byPattern = new Map<string, { re: RegExp; methods: Set<string> }>();
  return {
    add(url: string, methods: string[]) {
      // The CORS preflight catch-all matches every path; it says nothing about a path's methods.
      if (url === '*' || url === '/*') return;
      let entry = byPattern.get(url);
      if (!entry) {
        const source = url
          .split(/(:[A-Za-z0-9_]+|\*)/)
          .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
          .join('');
        entry = { re: new RegExp(`^${source}/?$`), methods: new Set() };
        byPattern.set(url, entry);
      }
      for (const m of methods) entry.methods.add(m.toUpperCase());
      if (entry.methods.has('GET')) entry.methods.add('HEAD');
    },
    methodsFor(path: string): string[] {
      const methods = new Set<string>();
      for (const { re, methods: ms } of byPattern.values()) if (re.test(path)) for (const m of ms) methods.add(m);
      return [...methods].sort();
    },
  };
}

// These replies skip the route hooks, so the request id header is set here.
const send = (reply: FastifyReply, status: number, code: ErrorCode, message: string, requestId: string) =>
  reply.code(status).header('x-request-id', requestId).send({ code: status, message, error: code, requestId });

/**
 * Fastify's `frameworkErrors`: a URL the router cannot read (malformed percent-encoding) or a
 * path parameter over the router's limit. The message never repeats the URL: it may be huge.
 */
export function frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void send(reply, 414, ErrorCode.UriTooLong, 'A path segment is longer than this API accepts (256 characters).', req.id);
  } else if (err.code === 'FST_ERR_BAD_URL') {
    void send(reply, 400, ErrorCode.BadRequest, 'The URL is malformed (invalid percent-encoding).', req.id);
  } else {
    req.log.error({ err }, 'framework error');
    void send(reply, 500, ErrorCode.Internal, 'Internal error.', req.id);
  }
}

const CLIENT_ERRORS: Record<string, [number, ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: [431, ErrorCode.HeadersTooLarge, 'The request headers are larger than this server accepts (16 KiB in all).'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, ErrorCode.RequestTimeout, 'The request was not received in time.'],
  ERR_HTTP_REQUEST_HEADERS_TIMEOUT: [408, ErrorCode.RequestTimeout, 'The request headers were not received in time.'],
  HPE_INVALID_EOF_STATE: [400, ErrorCode.BadRequest, 'The request ended before its body was complete (shorter than its Content-Length).'],
};

/**
 * The server's 'clientError' listener: Node's HTTP parser refused a request (headers too large,
 * malformed, ended early) or a timeout cut it, before Fastify saw it. There is no reply object:
 * the answer is written to the socket, unless a response has already started on it.
 * `describeTimeout` (the slow-client guard) counts a timeout and gives its message.
 */
export function clientErrorHandlerWith(describeTimeout: (err: Error & { code?: string }) => string | undefined = () => undefined) {
  return function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, code, known] = CLIENT_ERRORS[err.code ?? ''] ?? [400, ErrorCode.BadRequest, 'The request is not well-formed HTTP.'];
    const message = describeTimeout(err) ?? known;
    this.log.debug({ err }, 'client error');
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const requestId = randomUUID();
      const body = JSON.stringify({ code: status, message, error: code, requestId });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}
