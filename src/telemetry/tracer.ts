// What the app and the chain workers see of tracing: a small interface, implemented by
// ./tracing.ts, which `serve` loads only when OTEL_EXPORTER_OTLP_ENDPOINT is set. Nothing here
// loads OpenTelemetry, so without a tracer the wrappers below hand back the plain function and
// tracing costs nothing.

export type SpanAttributes = Record<string, string | number | boolean | string[]>;

/** The fields of a meta_transaction_requests row the spans name. */
export interface TracedRequest {
  id: string;
  kind?: string;
  hash?: string | null;
  nonce?: bigint | null;
}

export interface Tracer {
  /** Names the active HTTP server span after its route and tags it with the request id. */
  httpRequest(requestId: string, method: string, route: string): void;
  /**
   * A transaction request was committed while serving the active HTTP request: the request's
   * span is tagged with it, and the relayer's spans for it will join that trace.
   */
  enqueued(row: TracedRequest): void;
  /**
   * Runs `fn` in a span of the transaction request's trace (a child of the POST that asked for
   * it, when this process served it). `annotate` turns the result into attributes; null means
   * nothing happened and the span is not exported (a receipt still missing, say).
   */
  inRequestSpan<T>(name: string, row: TracedRequest, fn: () => Promise<T>, annotate?: (result: T) => SpanAttributes | null): Promise<T>;
  /** One span per request around one call that serves them all (a batched broadcast). */
  inRequestSpans<T>(name: string, rows: readonly TracedRequest[], fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` in a span of its own trace (an indexer batch). */
  inSpan<T>(name: string, attributes: SpanAttributes, fn: () => Promise<T>): Promise<T>;
  /**
   * Inside an indexer batch's span, after its commit: the requests whose transactions the batch
   * applied get an `indexer.applied` span in their trace, linked both ways with the batch.
   */
  indexed(txHashes: readonly (string | null | undefined)[]): void;
  /** Ends the spans still buffered: exports them (bounded by the exporter's timeout). */
  shutdown(): Promise<void>;
}

/** `fn` run in a per-request span, or `fn` itself without a tracer. */
export function perRequest<R extends TracedRequest, T>(
  tracer: Tracer | undefined,
  name: string,
  fn: (row: R) => Promise<T>,
  annotate?: (result: T) => SpanAttributes | null,
): (row: R) => Promise<T> {
  return tracer ? (row) => tracer.inRequestSpan(name, row, () => fn(row), annotate) : fn;
}

/** Attribute names, one place (README lists them). */
export const ATTR = {
  requestId: 'devices_api.request_id',
  txRequestId: 'devices_api.tx_request.id',
  txRequestIds: 'devices_api.tx_request.ids',
  txKind: 'devices_api.tx_request.kind',
  txHash: 'devices_api.tx.hash',
  txNonce: 'devices_api.tx.nonce',
  txStatus: 'devices_api.tx_request.status',
  blockNumber: 'devices_api.block.number',
  fromBlock: 'devices_api.indexer.from_block',
  toBlock: 'devices_api.indexer.to_block',
  events: 'devices_api.indexer.events',
} as const;
