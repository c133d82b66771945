// Liveness, readiness (every dependency answers) — public and unauthenticated.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

/** Resolves when the dependency is usable (optionally to a one-line summary: "ok: <summary>"); rejects with the reason it is not. */
export type ReadinessCheck = () => Promise<void | string>;

const CHECK_TIMEOUT_MS = 2000;

async function runCheck(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const summary = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return typeof summary === 'string' && summary ? `ok: ${summary}` : 'ok';
  } catch (e: any) {
    return `down: ${String(e?.message ?? e).slice(0, 200)}`;
  } finally {
    clearTimeout(timer);
  }
}

// Probes are never rate limited; leaving them out of the limiter also spares them its hook.
const unlimited = { rateLimit: false as const };

export const healthRoutes: FastifyPluginAsyncTypebox<{ checks: Record<string, ReadinessCheck> }> = async (app, { checks }) => {
  app.get(
    '/health',
    {
      config: unlimited,
      schema: { tags: ['operations'], operationId: 'getHealth', summary: 'The process is up', description: 'Liveness: answers as long as the process runs, without touching any dependency. Never rate limited.', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }, { $id: 'Health' }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  const Ready = Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.String()) }, { $id: 'Readiness' });
  app.get(
    '/ready',
    {
      config: unlimited,
      schema: { tags: ['operations'], operationId: 'getReadiness', summary: 'Every dependency (database, blob store, chain) answers and the chain workers keep up', description: 'Readiness: runs every dependency check (each bounded by a timeout) and answers 503 with the failing ones named when any is down or a chain worker is stuck, failing or behind. Point load balancers here. Never rate limited.', security: [], response: { 200: Ready, 503: Ready } },
    },
    async (_req, reply) => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((n) => runCheck(checks[n]!)));
      const out = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
      const ok = results.every((r) => r === 'ok' || r.startsWith('ok: '));
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: out });
    },
  );
};
