// Assertions shared by the HTTP tests: the one error shape, and the stub catalog for apps whose
// tests never reach a definition lookup (loading the real vPIC data costs ~1.5 s and ~350 MB).
import assert from 'node:assert/strict';
import type { DefinitionCatalog } from '../../src/definitions/catalog.ts';

export interface Response {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

/**
 * Asserts `res` is an error with `status` in the API's one shape `{code, message, error, requestId}`:
 * `code` equals the status, `requestId` equals the `x-request-id` header. Returns the body.
 */
export function assertError(res: Response, status: number, opts: { error?: string; message?: RegExp } = {}) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.ok(res.json && typeof res.json === 'object', `error body is not JSON: ${res.text}`);
  assert.deepEqual(Object.keys(res.json).sort(), ['code', 'error', 'message', 'requestId']);
  assert.equal(res.json.code, status);
  assert.equal(typeof res.json.message, 'string');
  assert.ok(res.json.message.length > 0, 'empty error message');
  assert.match(res.json.error, /^[A-Z][A-Z_]*$/);
  assert.equal(res.json.requestId, res.headers.get('x-request-id'));
  if (opts.error) assert.equal(res.json.error, opts.error);
  if (opts.message) assert.match(res.json.message, opts.message);
  return res.json as { code: number; message: string; error: string; requestId: string };
}

/** A catalog that knows no definitions, for apps whose tests never register vehicles. */
export const emptyCatalog: DefinitionCatalog = {
  ready: async () => {},
  decodeVin: async () => null,
  findById: async () => null,
  close: async () => {},
};
