// OpenTelemetry traces (OTEL_EXPORTER_OTLP_ENDPOINT): loaded by `serve` only when tracing is on,
// and before the runtime, so the instrumentations see Fastify's `node:http` and `pg` load.
//
//  - HTTP server spans: @opentelemetry/instrumentation-http (Fastify 5 serves through node:http;
//    the Fastify plugin in src/http/plugins/tracing.ts names each span after its route and adds
//    the request id). @fastify/otel was not taken: its releases track the previous SDK line
//    (core 2 with instrumentation 0.2xx while its own peers move), and it adds a span per hook.
//  - PostgreSQL: @opentelemetry/instrumentation-pg; PGlite has no instrumentation, so its query
//    and transaction methods are wrapped here (one span per statement).
//  - The relayer's steps and the indexer's batches: manual spans through the Tracer interface.
//
// One claim in one trace: when a request enqueues a transaction (`enqueued`), the span context of
// its POST is remembered by the transaction request's id (in memory, bounded), and the relayer's
// spans for that request are children of it; the indexer batch that applies its transaction adds
// an `indexer.applied` span there too, linked with the batch span. Across processes (the
// `worker` command) the spans carry the transaction request id as an attribute instead.
import { context, propagation, trace, SpanKind, SpanStatusCode, type Attributes, type Context, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, getRPCMetadata, RPCType } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { ATTR, type SpanAttributes, type TracedRequest, type Tracer } from './tracer.ts';

export interface TracingOptions {
  serviceName: string;
  serviceVersion?: string;
  /** OTLP/HTTP traces URL (…/v1/traces) and headers; ignored when `exporter` is given. */
  tracesUrl?: string;
  headers?: Record<string, string>;
  /** Fraction of new traces kept (a parent's decision is followed). */
  sampleRatio?: number;
  /** Tests: an exporter that gets every span as it ends (SimpleSpanProcessor). */
  exporter?: SpanExporter;
  /** Wrap PGlite's query methods (the embedded database). */
  pglite?: boolean;
}

/** Spans marked so are dropped before export: they recorded that nothing happened. */
const DROP = 'devices_api.drop';
/** How many transaction requests' trace contexts are kept (oldest forgotten first). */
const REMEMBERED = 10_000;

/** Passes on every ended span except those marked DROP. */
function dropping(inner: SpanProcessor): SpanProcessor {
  return {
    onStart: (span, ctx) => inner.onStart(span, ctx),
    onEnd: (span: ReadableSpan) => {
      if (span.attributes[DROP] !== true) inner.onEnd(span);
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
  };
}

export async function startTracing(o: TracingOptions): Promise<Tracer> {
  let exporter = o.exporter;
  if (!exporter) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    exporter = new OTLPTraceExporter({ url: o.tracesUrl, headers: o.headers });
  }
  const processor = dropping(o.exporter ? new SimpleSpanProcessor({ exporter }) : new BatchSpanProcessor({ exporter }));
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName, ...(o.serviceVersion ? { 'service.version': o.serviceVersion } : {}) }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.sampleRatio ?? 1) }),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Outgoing calls are S3's and the JWKS fetch; the chain's RPC goes through fetch (not traced).
        ignoreIncomingRequestHook: (req) => req.url === '/metrics',
      }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  const tracer = trace.getTracer('devices-api', o.serviceVersion);
  if (o.pglite) await instrumentPglite(tracer);

  const requestIds = new WeakMap<Span, string>();
  // Transaction request id → the span context of the HTTP request that enqueued it, and its hash once known.
  const origins = new Map<string, { ctx: SpanContext; requestId?: string }>();
  const byHash = new Map<string, string>();
  const remember = <K, V>(m: Map<K, V>, k: K, v: V) => {
    m.delete(k);
    m.set(k, v);
    if (m.size > REMEMBERED) m.delete(m.keys().next().value as K);
  };

  function requestAttributes(row: TracedRequest): Attributes {
    const a: Attributes = { [ATTR.txRequestId]: row.id };
    if (row.kind) a[ATTR.txKind] = row.kind;
    if (row.hash) a[ATTR.txHash] = row.hash;
    if (row.nonce !== null && row.nonce !== undefined) a[ATTR.txNonce] = Number(row.nonce);
    const origin = origins.get(row.id);
    if (origin?.requestId) a[ATTR.requestId] = origin.requestId;
    return a;
  }

  /** The context a request's span starts in: under its POST when known, else a new trace. */
  function parentOf(row: TracedRequest): Context {
    if (row.hash) remember(byHash, row.hash.toLowerCase(), row.id);
    const origin = origins.get(row.id);
    return origin ? trace.setSpanContext(context.active(), origin.ctx) : trace.deleteSpan(context.active());
  }

  function ended(span: Span, err?: unknown): void {
    if (err !== undefined) {
      const e = err instanceof Error ? err : new Error(JSON.stringify(err));
      span.recordException(e);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
    }
    span.end();
  }

  async function run<T>(span: Span, ctx: Context, fn: () => Promise<T>, annotate?: (r: T) => SpanAttributes | null): Promise<T> {
    try {
      const result = await context.with(trace.setSpan(ctx, span), fn);
      if (annotate) {
        const attrs = annotate(result);
        span.setAttributes(attrs ?? { [DROP]: true });
      }
      ended(span);
      return result;
    } catch (err) {
      ended(span, err);
      throw err;
    }
  }

  return {
    httpRequest(requestId, method, route) {
      const span = trace.getActiveSpan();
      if (!span) return;
      requestIds.set(span, requestId);
      span.setAttribute(ATTR.requestId, requestId);
      span.setAttribute('http.route', route);
      span.updateName(`${method} ${route}`);
      // instrumentation-http names the span from this when the response ends.
      const rpc = getRPCMetadata(context.active());
      if (rpc?.type === RPCType.HTTP) rpc.route = route;
    },
    enqueued(row) {
      const span = trace.getActiveSpan();
      if (!span) return;
      span.setAttribute(ATTR.txRequestId, row.id);
      if (row.kind) span.setAttribute(ATTR.txKind, row.kind);
      remember(origins, row.id, { ctx: span.spanContext(), requestId: requestIds.get(span) });
    },
    inRequestSpan(name, row, fn, annotate) {
      const ctx = parentOf(row);
      return run(tracer.startSpan(name, { attributes: requestAttributes(row) }, ctx), ctx, fn, annotate);
    },
    async inRequestSpans(name, rows, fn) {
      const spans = rows.map((row) => tracer.startSpan(name, { attributes: requestAttributes(row) }, parentOf(row)));
      try {
        const result = await fn();
        for (const s of spans) ended(s);
        return result;
      } catch (err) {
        for (const s of spans) ended(s, err);
        throw err;
      }
    },
    inSpan(name, attributes, fn) {
      const ctx = trace.deleteSpan(context.active());
      return run(tracer.startSpan(name, { attributes }, ctx), ctx, fn);
    },
    indexed(hashes) {
      const batch = trace.getActiveSpan();
      const ids: string[] = [];
      for (const h of new Set(hashes.flatMap((x) => (x ? [x.toLowerCase()] : [])))) {
        const id = byHash.get(h);
        if (id === undefined) continue;
        byHash.delete(h);
        ids.push(id);
        const origin = origins.get(id);
        origins.delete(id);
        if (!origin) continue;
        const links: Link[] = batch ? [{ context: batch.spanContext() }] : [];
        const applied = tracer.startSpan('indexer.applied', { attributes: { [ATTR.txRequestId]: id, [ATTR.txHash]: h, ...(origin.requestId ? { [ATTR.requestId]: origin.requestId } : {}) }, links }, trace.setSpanContext(context.active(), origin.ctx));
        batch?.addLink({ context: applied.spanContext() });
        applied.end();
      }
      if (ids.length > 0) batch?.setAttribute(ATTR.txRequestIds, ids);
    },
    async shutdown() {
      unregister();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/**
 * A span per PGlite statement (in a transaction too), as instrumentation-pg makes for `pg`:
 * only under an active span, so the workers' idle polls make no traces of their own.
 */
async function instrumentPglite(tracer: ReturnType<typeof trace.getTracer>): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const proto = PGlite.prototype as any;
  if (proto.__traced) return;
  proto.__traced = true;
  const traced = (fn: (...a: any[]) => Promise<any>) =>
    function (this: unknown, text: string, ...rest: any[]) {
      if (!trace.getActiveSpan()) return fn.call(this, text, ...rest);
      const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'query';
      // Named and tagged as instrumentation-pg names its spans (pg.query:SELECT …).
      return tracer.startActiveSpan(`pglite.query:${operation}`, { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': text } }, async (span) => {
        try {
          return await fn.call(this, text, ...rest);
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
          throw err;
        } finally {
          span.end();
        }
      });
    };
  for (const m of ['query', 'exec'] as const) proto[m] = traced(proto[m]);
  const transaction = proto.transaction;
  proto.transaction = function (this: unknown, callback: (tx: any) => Promise<unknown>) {
    return transaction.call(this, (tx: any) => {
      tx.query = traced(tx.query);
      tx.exec = traced(tx.exec);
      return callback(tx);
    });
  };
}
