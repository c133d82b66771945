// Every error a client can see: one enum of machine codes, one class, one response shape
// `{code, message, error, requestId}` (code+message are what the original API sent).
import { Type } from 'typebox';

export const ErrorCode = {
  BadRequest: 'BAD_REQUEST',
  ValidationFailed: 'VALIDATION_FAILED',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  RouteNotFound: 'ROUTE_NOT_FOUND',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  RequestTimeout: 'REQUEST_TIMEOUT',
  Conflict: 'CONFLICT',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  UriTooLong: 'URI_TOO_LONG',
  RangeNotSatisfiable: 'RANGE_NOT_SATISFIABLE',
  HeadersTooLarge: 'HEADERS_TOO_LARGE',
  FailedDependency: 'FAILED_DEPENDENCY',
  RateLimited: 'RATE_LIMITED',
  Internal: 'INTERNAL',
  NotImplemented: 'NOT_IMPLEMENTED',
  BadGateway: 'BAD_GATEWAY',
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
  GatewayTimeout: 'GATEWAY_TIMEOUT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    // A client error's stack is never logged or shown, and capturing it was most of what a 401
    // cost; server errors keep theirs for the log.
    const stackTraceLimit = Error.stackTraceLimit;
    if (statusCode < 500) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'AppError';
  }
}

export const badRequest = (message: string) => new AppError(400, ErrorCode.BadRequest, message);
export const notFound = (message: string) => new AppError(404, ErrorCode.NotFound, message);
export const conflict = (message: string) => new AppError(409, ErrorCode.Conflict, message);
export const unauthorized = (message: string) => new AppError(401, ErrorCode.Unauthorized, message);
export const serviceUnavailable = (message: string) => new AppError(503, ErrorCode.ServiceUnavailable, message);

export const ErrorBody = Type.Object(
  {
    code: Type.Integer({ description: 'HTTP status code' }),
    message: Type.String({ description: 'What went wrong and what to change' }),
    error: Type.String({ description: 'Machine-readable error code' }),
    requestId: Type.String(),
  },
  { $id: 'Error' },
);

/** Response schemas for the error statuses a route can answer, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, { $ref: string; description: string }> {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: 'Error#', description: STATUS_TEXT[s] ?? 'Error' }]));
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Missing or invalid token',
  403: 'Forbidden',
  404: 'Not found (or not yours)',
  408: 'Request not received in time',
  405: 'Method not allowed on this path (see Allow)',
  409: 'Conflict with the current state',
  413: 'Payload too large',
  415: 'Unsupported media type',
  416: 'Range not satisfiable',
  424: 'Failed dependency',
  429: 'Rate limited',
  501: 'Not implemented',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};
