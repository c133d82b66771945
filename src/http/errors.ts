// The response shape of every error `{code, message, error, requestId}` (code+message are what the
// original API sent), and the per-route error responses for the OpenAPI document.
import { Type } from 'typebox';

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
