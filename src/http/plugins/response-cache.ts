// Serves repeat authenticated GETs from memory. A route opts in with
// `config: { responseCache: { tables: [...] } }`, naming every table its answer is read from.
//
// Freshness: the database announces each committed write's table on CHANGE_CHANNEL (triggers in
// drizzle/0003_change_notify.sql), whichever process wrote it, and entries read from that table
// are dropped. A caller's own write on this replica drops the caller's entries before its answer
// is sent, so a client always reads its own writes here; other replicas and the chain worker
// catch up when their notification arrives (milliseconds). While the listening connection is
// down nothing is served from or stored in the cache. Entries also expire after `ttlMs`, which
// bounds staleness that no write announces (a privilege passing its expiry).
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import type { Database } from '../../db/engine.ts';
import { createResponseCache, type ReadStamp } from '../../domain/response-cache.ts';
import { hookList } from './hook-list.ts';

export const CHANGE_CHANNEL = 'devices_api_changes';

export interface ResponseCacheRouteConfig {
  /** Tables the route's answer is read from (SQL names) whose changes are announced (drizzle/0003_change_notify.sql). */
  tables: readonly string[];
  /**
   * A shorter age bound for answers that also read tables whose changes are not announced (the
   * busiest write paths: a NOTIFY makes PostgreSQL commit notifying transactions one at a time).
   * A caller's own writes on this replica still show at once.
   */
  ttlMs?: number;
  /** Response headers that are part of the answer (e.g. a next-page cursor), kept with the body. */
  headers?: readonly string[];
}

interface Cached {
  body: string;
  headers: [string, string][];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    responseCache?: ResponseCacheRouteConfig;
  }
  interface FastifyRequest {
    responseCacheFill?: { key: string; stamp: ReadStamp; config: ResponseCacheRouteConfig } | null;
  }
}

export interface ResponseCachePluginOptions {
  database: Pick<Database, 'listen'>;
  /** 0 turns the cache off. */
  maxBytes: number;
  ttlMs: number;
}

const READS = new Set(['GET', 'HEAD']);
const JSON_TYPE = 'application/json; charset=utf-8';

export const responseCachePlugin = fp(async (app: FastifyInstance, opts: ResponseCachePluginOptions) => {
  if (opts.maxBytes <= 0) return;
  const cache = createResponseCache<Cached>({
    maxBytes: opts.maxBytes,
    ttlMs: opts.ttlMs,
    sizeOf: (c) => Buffer.byteLength(c.body) + c.headers.reduce((n, [k, v]) => n + k.length + v.length, 0),
  });
  let live = false;
  const listener = await opts.database.listen(CHANGE_CHANNEL, {
    onNotify: (table) => cache.tableChanged(table || '*'),
    onLive: (now) => {
      // Whatever happened while not listening is unknown: start empty either way.
      cache.tableChanged('*');
      live = now;
    },
  });
  app.addHook('onClose', async () => listener.close());

  const lookups = app.hasDecorator('metrics')
    ? new Counter({ name: 'http_response_cache_lookups_total', help: 'Response cache lookups by result', labelNames: ['result'] as const, registers: [app.metrics] })
    : null;
  const hits = lookups?.labels('hit');
  const misses = lookups?.labels('miss');

  app.decorateRequest('responseCacheFill', null);

  const lookup = (config: ResponseCacheRouteConfig): preHandlerHookHandler =>
    function responseCacheLookup(req: FastifyRequest, reply: FastifyReply, done) {
      if (!live || !req.user || req.method !== 'GET') return done();
      const key = `${req.user.id}\n${req.user.address ?? ''}\n${req.url}`;
      const hit = cache.get(key);
      if (hit !== undefined) {
        hits?.inc();
        for (const [k, v] of hit.headers) reply.header(k, v);
        reply.type(JSON_TYPE).send(hit.body);
        return;
      }
      misses?.inc();
      req.responseCacheFill = { key, stamp: cache.begin(), config };
      done();
    };

  const fill: onSendHookHandler = (req, reply, payload, done) => {
    const f = req.responseCacheFill;
    if (f && live && reply.statusCode === 200 && typeof payload === 'string') {
      const headers: [string, string][] = [];
      for (const h of f.config.headers ?? []) {
        const v = reply.getHeader(h);
        if (typeof v === 'string') headers.push([h, v]);
      }
      cache.set(f.key, req.user.id, f.config.tables, { body: payload, headers }, f.stamp, f.config.ttlMs);
    }
    done(null, payload);
  };

  const ownWrite: onSendHookHandler = (req, _reply, payload, done) => {
    if (req.user) cache.ownerChanged(req.user.id);
    done(null, payload);
  };

  app.addHook('onRoute', (route) => {
    const methods = hookList(route.method);
    const config = route.config?.responseCache;
    if (config) {
      if (!methods.every((m) => READS.has(m))) throw new Error(`responseCache on ${methods.join(',')} ${route.url}: only GET routes can be cached`);
      route.preHandler = [...hookList(route.preHandler), lookup(config)];
      route.onSend = [...hookList(route.onSend), fill];
    } else if (!methods.every((m) => READS.has(m))) {
      route.onSend = [...hookList(route.onSend), ownWrite];
    }
  });
});
