// GET /v1/events/stream: the caller's events as Server-Sent Events, as they commit (woken by the
// outbox's NOTIFY, src/events/stream.ts), each with `id:` = the event id so a reconnect with
// Last-Event-ID resumes from the outbox. Streams end cleanly when the server closes.
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Database } from '../../db/engine.ts';
import { AppError, ErrorCode } from '../../errors.ts';
import { eventsFor, latestSeq, listenForEvents, seqOf } from '../../events/stream.ts';
import { errorResponses } from '../errors.ts';

export interface EventRoutesOptions {
  database: Database;
  /** Open streams one user may hold (EVENTS_STREAMS_PER_USER). */
  maxStreamsPerUser: number;
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
}

/** Events read per query; a backlog is sent in pages of this many. */
const PAGE = 200;

export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, opts) => {
  const { db } = opts.database;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const wakeups = await listenForEvents(opts.database);
  const perUser = new Map<string, number>();
  const open = new Set<PassThrough>();
  // Before the server waits for its connections to end: end the streams, or shutdown would hang.
  app.addHook('preClose', async () => {
    for (const s of open) s.end();
  });
  app.addHook('onClose', async () => wakeups.close());

  app.get(
    '/v1/events/stream',
    {
      schema: {
        tags: ['events'],
        security: [{ bearerAuth: [] }],
        operationId: 'streamEvents',
        summary: 'Live stream of your events (Server-Sent Events)',
        description:
          'The events about your vehicles, devices and documents (and vehicles shared with you, while the privilege lasts) as ' +
          'Server-Sent Events, sent as they are committed: `id:` is the event id (the webhook-id of the same event), `event:` its ' +
          'type, `data:` the JSON a webhook receives, `{"type","timestamp","data"}`. Reconnect with `Last-Event-ID` to receive ' +
          'what was committed after that event (events are kept at least 24 h; an unknown id resumes from now). A comment line ' +
          'is sent every 15 s. At most EVENTS_STREAMS_PER_USER streams per user (429 beyond).',
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 100, description: 'The id of the last event received' })) }),
        response: {
          200: {
            description: 'The event stream',
            content: { 'text/event-stream': { schema: { type: 'string', description: 'id: msg_…\\nevent: <type>\\ndata: {"type","timestamp","data"}\\n\\n, repeated' } } },
          },
          ...errorResponses(400, 401, 429),
        },
      },
    },
    async (req, reply) => {
      const user = req.user;
      const count = perUser.get(user.id) ?? 0;
      if (count >= opts.maxStreamsPerUser) {
        throw new AppError(429, ErrorCode.RateLimited, `At most ${opts.maxStreamsPerUser} event streams per user are open at once; close one first.`);
      }
      const lastId = req.headers['last-event-id'];
      const resumed = lastId ? await seqOf(db, lastId.trim()) : null;
      let after = resumed ?? (await latestSeq(db));

      perUser.set(user.id, count + 1);
      const out = new PassThrough();
      open.add(out);
      let closed = false;
      let running = false;
      let again = false;
      const stop = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(out);
        const n = (perUser.get(user.id) ?? 1) - 1;
        if (n > 0) perUser.set(user.id, n);
        else perUser.delete(user.id);
        out.end();
      };

      const write = async (text: string) => {
        if (!out.write(text) && !closed) await Promise.race([once(out, 'drain'), once(out, 'close')]);
      };
      /** Sends everything after `after`; a wake-up while sending makes it look once more. */
      const pump = async (): Promise<void> => {
        if (running) {
          again = true;
          return;
        }
        running = true;
        try {
          do {
            again = false;
            const events = await eventsFor(db, user, after, PAGE);
            for (const e of events) {
              if (closed) return;
              await write(`id: ${e.id}\nevent: ${e.type}\ndata: ${e.body}\n\n`);
              after = e.seq;
            }
            if (events.length === PAGE) again = true;
          } while (again && !closed);
        } catch (err) {
          req.log.warn({ err }, 'event stream: reading the outbox failed; closing the stream');
          stop();
        } finally {
          running = false;
        }
      };
      const unsubscribe = wakeups.subscribe(() => void pump());
      const heartbeat = setInterval(() => {
        if (!closed) out.write(': heartbeat\n\n');
      }, heartbeatMs);
      req.raw.on('close', stop);
      out.on('close', stop);

      // The retry hint, and a note when the resume point is gone (pruned, or never ours to know).
      out.write(`retry: 3000\n${lastId && resumed === null ? ': Last-Event-ID not found; resuming from now\n' : ''}\n`);
      void pump();
      reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-store')
        // Proxies (nginx) must pass each event on at once.
        .header('x-accel-buffering', 'no');
      // The stream is the body; the response schema documents it, it does not serialize it.
      return reply.send(out as unknown as string);
    },
  );
};
