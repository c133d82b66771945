// A typed client for devices-api: every path, parameter, body and answer is checked against the
// types generated from the service's OpenAPI document (src/schema.ts); openapi-fetch sends the
// requests with the platform's fetch.
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };
/** The named request and answer schemas, e.g. `Schemas['UserDevice']`. */
export type Schemas = components['schemas'];
export type DevicesApiClient = Client<paths>;

export interface DevicesApiClientOptions extends ClientOptions {
  /** Where the service answers, e.g. http://localhost:8080. */
  baseUrl: string;
  /** A bearer token, or a function returning the current one; omit for the public routes only. */
  token?: string | (() => string | Promise<string>);
}

export function createDevicesApiClient({ token, ...options }: DevicesApiClientOptions): DevicesApiClient {
  const client = createClient<paths>(options);
  if (token !== undefined) {
    const auth: Middleware = {
      async onRequest({ request }) {
        request.headers.set('authorization', `Bearer ${typeof token === 'function' ? await token() : token}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}

export type TransactionRequest = Schemas['TransactionRequest'];

/**
 * Polls GET /v1/transactions/{requestId} until the relayed transaction is Confirmed or Failed
 * (a 202 from a mint, claim, pair or unpair answers with its requestId).
 */
export async function waitForTransaction(
  client: DevicesApiClient,
  requestId: string,
  { timeoutMs = 60_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<TransactionRequest> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { data, error } = await client.GET('/v1/transactions/{requestId}', { params: { path: { requestId } } });
    if (error) throw new Error(`transaction ${requestId}: ${error.message}`);
    if (data.status === 'Confirmed' || data.status === 'Failed') return data;
    if (Date.now() > deadline) throw new Error(`transaction ${requestId} still ${data.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
