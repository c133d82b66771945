// The enrichment wiring end to end: a real app and a local chat-completions stand-in that answers
// well, wrongly, with errors, or never. The client's own behaviour is tested in test/dtc.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { createTestApp, testConfig, type TestApp } from '../helpers/app.ts';
import { dtcEnrichments } from '../../src/db/schema.ts';
import { dtcEnricherFrom } from '../../src/runtime.ts';
import { MAX_ENRICH_IN_FLIGHT } from '../../src/services/error-codes.ts';

type Behaviour = (res: ServerResponse) => void;

const completion = (content: string) => JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] });
const answer = (content: string): Behaviour => (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(completion(content));

/** What the stand-in does per code (read from the prompt); unlisted codes get a good answer. */
const BEHAVIOURS: Record<string, Behaviour> = {
  P0301: (res) => res.writeHead(500).end('{"error":"overloaded"}'),
  P0302: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [ not json'),
  P0303: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"wrong shape"}'),
  P0304: (res) => res.destroy(),
  P0305: () => {
    // never answers: the request must come back without this explanation
  },
};

async function startEndpoint() {
  const prompts: { code: string; make: string; authorization: string | undefined }[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    res.shouldKeepAlive = false;
    open.add(res);
    res.on('close', () => open.delete(res));
    let raw = '';
    req.setEncoding('utf8').on('data', (d: string) => (raw += d));
    req.on('end', () => {
      const user: string = JSON.parse(raw).messages.find((m: { role: string }) => m.role === 'user').content;
      const code = /Code: (\S+)/.exec(user)?.[1] ?? '';
      const make = /Make: (.+)/.exec(user)?.[1] ?? '';
      prompts.push({ code, make, authorization: req.headers.authorization });
      // P06xx codes all hang, for the in-flight cap.
      const behaviour = code.startsWith('P06') ? BEHAVIOURS.P0305! : BEHAVIOURS[code];
      (behaviour ?? answer(`Explanation of ${code} for a ${make}.`))(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`,
    prompts,
    /** Drops requests left hanging, so nothing outlives the test that caused it. */
    hangUp: () => {
      for (const res of open) res.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('error codes with the enrichment provider', () => {
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let t: TestApp;
  let alice: string;

  const register = async (deviceDefinitionId = 'ford_bronco_2021'): Promise<string> => {
    const r = await t.request('POST', '/v1/user/devices', { token: alice, body: { deviceDefinitionId, countryCode: 'USA' } });
    assert.equal(r.status, 201, r.text);
    return r.json.userDevice.id as string;
  };
  const submit = (id: string, errorCodes: string[]) => t.request('POST', `/v1/user/devices/${id}/error-codes`, { token: alice, body: { errorCodes } });
  const explanations = (r: { json: any }) =>
    Object.fromEntries((r.json.errorCodes as { code: string; explanation?: string }[]).map((c) => [c.code, c.explanation]));

  before(async () => {
    endpoint = await startEndpoint();
    // Configured exactly as the service is: from environment variables, through the runtime.
    const env = { DTC_ENRICH_URL: endpoint.url, DTC_ENRICH_KEY: 'test-key', DTC_ENRICH_TIMEOUT_MS: '3000' };
    const dtcEnricher = dtcEnricherFrom(testConfig(env));
    assert.ok(dtcEnricher, 'URL and key configure an enricher');
    t = await createTestApp({ env, deps: { dtcEnricher } });
    alice = await t.token('alice');
  });
  afterEach(() => endpoint.hangUp());
  after(async () => {
    endpoint.hangUp();
    await t.close();
    await endpoint.close();
  });

  it('is off unless both the URL and the key are set', () => {
    assert.equal(dtcEnricherFrom(testConfig({})), undefined);
    assert.equal(dtcEnricherFrom(testConfig({ DTC_ENRICH_URL: 'http://127.0.0.1:9/' })), undefined);
    assert.equal(dtcEnricherFrom(testConfig({ DTC_ENRICH_KEY: 'k' })), undefined);
  });

  it('adds an explanation per code, asking once per base code with the key and the make', async () => {
    const id = await register();
    const r = await submit(id, ['P0420', 'P0420-1C']);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(explanations(r), {
      P0420: 'Explanation of P0420 for a Ford.',
      'P0420-1C': 'Explanation of P0420 for a Ford.',
    });
    assert.match(r.json.errorCodes[0].description, /catalyst/i, 'the offline description is still there');
    assert.deepEqual(endpoint.prompts.filter((p) => p.code === 'P0420'), [{ code: 'P0420', make: 'Ford', authorization: 'Bearer test-key' }]);
  });

  it('answers from the cache the next time, without calling the provider', async () => {
    const id = await register();
    await submit(id, ['P0171']);
    const calls = endpoint.prompts.length;
    const again = await submit(id, ['P0171']);
    assert.equal(again.status, 200);
    assert.equal(explanations(again).P0171, 'Explanation of P0171 for a Ford.');
    assert.equal(endpoint.prompts.length, calls);
    const [row] = await t.database.db
      .select()
      .from(dtcEnrichments)
      .where(and(eq(dtcEnrichments.code, 'P0171'), eq(dtcEnrichments.make, 'ford')));
    assert.equal(row?.text, 'Explanation of P0171 for a Ford.');
  });

  it('uses a cached explanation only for the make it was written for', async () => {
    await t.database.db.insert(dtcEnrichments).values({ code: 'P0455', make: 'toyota', text: 'Cached Toyota text.' });
    const toyota = await register('toyota_camry_2020');
    const ford = await register('ford_bronco_2021');
    const before = endpoint.prompts.length;
    assert.equal(explanations(await submit(toyota, ['P0455'])).P0455, 'Cached Toyota text.');
    assert.equal(endpoint.prompts.length, before, 'a cache hit never reaches the provider');
    assert.equal(explanations(await submit(ford, ['P0455'])).P0455, 'Explanation of P0455 for a Ford.');
  });

  it('still answers 200 with every description when the provider fails, answers wrongly or never answers', async () => {
    const id = await register();
    const codes = ['P0300', 'P0301', 'P0302', 'P0303', 'P0304', 'P0305'];
    const r = await submit(id, codes);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.json.errorCodes.map((c: { code: string }) => c.code),
      codes,
    );
    for (const c of r.json.errorCodes) assert.match(c.description, /misfire/i);
    assert.deepEqual(explanations(r), {
      P0300: 'Explanation of P0300 for a Ford.',
      P0301: undefined,
      P0302: undefined,
      P0303: undefined,
      P0304: undefined,
      P0305: undefined,
    });
    // Failures are not cached as "no explanation": the next request asks again.
    const cached = await t.database.db.select({ code: dtcEnrichments.code }).from(dtcEnrichments).where(eq(dtcEnrichments.make, 'ford'));
    assert.ok(cached.some((c) => c.code === 'P0300'));
    assert.ok(!cached.some((c) => codes.slice(1).includes(c.code)));
  });

  it('keeps explanations out of the stored history', async () => {
    const id = await register();
    assert.ok(explanations(await submit(id, ['P0128'])).P0128);
    const h = await t.request('GET', `/v1/user/devices/${id}/error-codes`, { token: alice });
    assert.equal(h.json.queries[0].errorCodes[0].code, 'P0128');
    assert.ok(!('explanation' in h.json.queries[0].errorCodes[0]));
  });

  it('does not call the provider for an empty list', async () => {
    const id = await register();
    const before = endpoint.prompts.length;
    assert.deepEqual((await submit(id, ['', ' '])).json, { errorCodes: [], clearedAt: null });
    assert.equal(endpoint.prompts.length, before);
  });

  // Last: the calls it leaves hanging hold the cap until they time out.
  it('never has more provider calls in flight than the cap, and still answers every code', async () => {
    const id = await register();
    const codes = Array.from({ length: MAX_ENRICH_IN_FLIGHT + 8 }, (_, i) => `P06${i.toString(16).toUpperCase().padStart(2, '0')}`);
    const r = await submit(id, codes);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.errorCodes.length, codes.length);
    const asked = endpoint.prompts.filter((p) => p.code.startsWith('P06')).length;
    assert.ok(asked > 0 && asked <= MAX_ENRICH_IN_FLIGHT, `${asked} calls reached the provider`);
  });
});
