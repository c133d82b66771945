// Every error a client can see: one enum of machine codes and one class. Services throw these;
// the HTTP layer (http/errors.ts, plugins/errors.ts) turns them into the response shape.

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
export const forbidden = (message: string) => new AppError(403, ErrorCode.Forbidden, message);
export const notFound = (message: string) => new AppError(404, ErrorCode.NotFound, message);
export const conflict = (message: string) => new AppError(409, ErrorCode.Conflict, message);
export const unauthorized = (message: string) => new AppError(401, ErrorCode.Unauthorized, message);
export const serviceUnavailable = (message: string) => new AppError(503, ErrorCode.ServiceUnavailable, message);
