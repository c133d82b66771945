// Webhook delivery: BENCH_WEBHOOK_EVENTS events (default 1,000) to a local receiver that answers
// 500 to the first 2 attempts of every event, delivered by one worker as configured from the
// environment (WEBHOOK_*). Checks that every event ends with exactly one 2xx and the same
// webhook-id on all its attempts, and reports the throughput. Then BENCH_WEBHOOK_LATENCY single
// events (default 50), each committed while the worker idles, for the committed → first attempt median.
//
//   npm run bench:webhooks                                   # embedded default (PGlite in-process)
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:webhooks
//
// WEBHOOK_RETRY_SCHEDULE defaults here to 100ms,200ms,500ms,1s (the production schedule waits
// 5 s, 1 min, … between attempts); any WEBHOOK_* setting given is used as the service would.
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { count, eq } from 'drizzle-orm';
import { loadConfig } from '../src/config.ts';
import { webhookDeliveries, webhookSubscriptions } from '../src/db/schema.ts';
import { newKsuid } from '../src/domain/ids.ts';
import { newWebhookSecret } from '../src/domain/webhook-signature.ts';
import { emitEvent } from '../src/events/outbox.ts';
import { webhookWorkerFrom } from '../src/webhooks/worker.ts';
import { openBenchDatabase } from './chain-fixture.ts';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 1000);
const LATENCY_SAMPLES = Number(process.env.BENCH_WEBHOOK_LATENCY ?? 50);
const FAILURES = 2;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const cfg = loadConfig({ WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,500ms,1s', ...process.env, DEVICES_API_MODE: 'embedded' });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const { database, label, drop } = await openBenchDatabase('bench_webhooks');
  // Per webhook-id: statuses answered, and when the first attempt arrived.
  const seen = new Map<string, { codes: number[]; firstAt: number }>();
  const server = http.createServer((req, res) => {
    req.resume().on('end', () => {
      const id = String(req.headers['webhook-id']);
      const s = seen.get(id) ?? { codes: [], firstAt: performance.now() };
      seen.set(id, s);
      const code = s.codes.length < FAILURES && !id.startsWith('lat') && !latencyIds.has(id) ? 500 : 204;
      s.codes.push(code);
      res.writeHead(code).end();
    });
  });
  const latencyIds = new Set<string>();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  await database.db.insert(webhookSubscriptions).values({ id: newKsuid(), userId: 'bench', url, events: ['*'], secret: newWebhookSecret() });
  const worker = webhookWorkerFrom(database, cfg.config.webhooks);
  try {
    // 1. The backlog: EVENTS events committed (10 per transaction), then delivered with 2 failures each.
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i += 10) {
      await database.db.transaction(async (tx) => {
        for (let j = i; j < Math.min(i + 10, EVENTS); j++) {
          await emitEvent(tx, { type: 'error_codes.reported', userId: 'bench', resource: `vehicle-${j % 100}`, data: { userDeviceId: `vehicle-${j % 100}`, n: j } });
        }
      });
    }
    const committedMs = performance.now() - t0;
    const t1 = performance.now();
    worker.start();
    for (;;) {
      const [{ n }] = await database.db.select({ n: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.status, 'pending')).then((r) => r as [{ n: number }]);
      if (n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const deliveredMs = performance.now() - t1;
    const attempts = [...seen.values()].reduce((a, s) => a + s.codes.length, 0);
    const exactlyOne = [...seen.values()].filter((s) => s.codes.filter((c) => c < 300).length === 1).length;
    const [{ failed }] = (await database.db.select({ failed: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.status, 'failed'))) as [{ failed: number }];

    // 2. Latency: one event at a time, committed while the worker idles.
    const lat: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      await new Promise((r) => setTimeout(r, 30 + Math.random() * 40));
      const ev = await database.db.transaction((tx) => emitEvent(tx, { type: 'vehicle.registered', userId: 'bench', resource: `lat-${i}`, data: {} }));
      const committed = performance.now();
      latencyIds.add(ev.id);
      for (let k = 0; k < 500 && !seen.has(ev.id); k++) await new Promise((r) => setTimeout(r, 2));
      const s = seen.get(ev.id);
      if (s) lat.push(s.firstAt - committed);
    }

    console.log(`webhooks bench (${label}, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}); retry schedule ${cfg.config.webhooks.retrySchedule.join(',')} ms`);
    console.log(`  ${EVENTS} events committed in ${committedMs.toFixed(0)} ms (fan-out included)`);
    console.log(`  delivered: ${exactlyOne}/${EVENTS} with exactly one 2xx, ${failed} failed, ${attempts} attempts (${FAILURES} × 500 each first) in ${(deliveredMs / 1000).toFixed(2)} s`);
    console.log(`  throughput: ${(EVENTS / (deliveredMs / 1000)).toFixed(0)} events/s, ${(attempts / (deliveredMs / 1000)).toFixed(0)} attempts/s`);
    console.log(`  committed → first attempt: median ${median(lat).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms (${lat.length}/${LATENCY_SAMPLES} samples)`);
    const ok = exactlyOne === EVENTS && failed === 0 && lat.length === LATENCY_SAMPLES && median(lat) < 1000;
    console.log(ok ? 'ok: all delivered exactly once, median under 1 s' : 'FAIL');
    process.exitCode = ok ? 0 : 1;
  } finally {
    await worker.stop();
    server.closeAllConnections();
    server.close();
    await drop();
  }
}

await main();
