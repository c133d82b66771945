import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  cachedEnricher,
  cleanExplanation,
  createDtcEnricher,
  MAX_EXPLANATION_CHARS,
  MAX_RESPONSE_BYTES,
} from '../../src/dtc/enrichment.ts';
import type { DtcEnricher, DtcExplanationCache, EnrichLogger } from '../../src/dtc/enrichment.ts';

interface Seen {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: any;
}
type Handler = (seen: Seen, res: ServerResponse) => void;

/** A stand-in for the chat-completions endpoint whose behaviour each test sets. */
async function startEndpoint() {
  const requests: Seen[] = [];
  let handler: Handler = (_seen, res) => res.end();
  const unanswered = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    // One request per connection: no pooled socket outlives the test that opened it.
    res.shouldKeepAlive = false;
    unanswered.add(res);
    res.on('close', () => unanswered.delete(res));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // kept as text
      }
      const seen = { path: req.url ?? '', headers: req.headers, body };
      requests.push(seen);
      handler(seen, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    set(h: Handler) {
      handler = h;
    },
    reset() {
      requests.length = 0;
      for (const res of unanswered) res.destroy(); // requests a "slow" handler never answered
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function completion(content: unknown): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  });
}

function answerJson(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

function recordingLogger(): EnrichLogger & { entries: { obj: Record<string, unknown>; msg: string }[] } {
  const entries: { obj: Record<string, unknown>; msg: string }[] = [];
  return { entries, warn: (obj, msg) => entries.push({ obj, msg }) };
}

const API_KEY = 'sk-test-5f2a9c';

describe('DTC enrichment client', () => {
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  before(async () => {
    endpoint = await startEndpoint();
  });
  beforeEach(() => endpoint.reset());
  after(() => endpoint.close());

  const enricher = (over: Partial<Parameters<typeof createDtcEnricher>[0]> = {}) =>
    createDtcEnricher({ url: endpoint.url, apiKey: API_KEY, timeoutMs: 2_000, ...over });

  it('returns the model text from a well-formed answer', async () => {
    endpoint.set((_s, res) => answerJson(res, completion('The manifold pressure sensor reads out of range.')));
    const text = await enricher().explain('P0106', 'MAP Sensor Range/Performance', 'Ford');
    assert.equal(text, 'The manifold pressure sensor reads out of range.');
  });

  it('sends an OpenAI chat-completions request with the key as a bearer token', async () => {
    endpoint.set((_s, res) => answerJson(res, completion('ok')));
    await enricher({ model: 'local-model' }).explain('P0106', 'MAP Sensor Range/Performance', 'Ford');
    assert.equal(endpoint.requests.length, 1);
    const seen = endpoint.requests[0]!;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.equal(seen.headers.authorization, `Bearer ${API_KEY}`);
    assert.match(String(seen.headers['content-type']), /^application\/json/);
    assert.equal(seen.body.model, 'local-model');
    assert.equal(typeof seen.body.max_tokens, 'number');
    assert.equal(typeof seen.body.temperature, 'number');
    assert.deepEqual(
      seen.body.messages.map((m: { role: string }) => m.role),
      ['system', 'user'],
    );
    const user: string = seen.body.messages[1].content;
    assert.match(user, /P0106/);
    assert.match(user, /MAP Sensor Range\/Performance/);
    assert.match(user, /Ford/);
  });

  it('uses a default model when none is configured', async () => {
    endpoint.set((_s, res) => answerJson(res, completion('ok')));
    await enricher().explain('P0106', 'MAP', null);
    assert.equal(typeof endpoint.requests[0]?.body.model, 'string');
    assert.notEqual(endpoint.requests[0]?.body.model, '');
  });

  it('gives up with null when the endpoint does not answer within the timeout', async () => {
    endpoint.set(() => {
      // never answers
    });
    const logger = recordingLogger();
    assert.equal(await enricher({ timeoutMs: 100, logger }).explain('P0106', 'MAP', 'Ford'), null);
    assert.equal(logger.entries[0]?.obj.reason, 'timeout');
  });

  it('gives up with null when the body trickles in past the timeout', async () => {
    endpoint.set((_s, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"choices": [');
      // the rest never comes
    });
    assert.equal(await enricher({ timeoutMs: 100 }).explain('P0106', 'MAP', 'Ford'), null);
  });

  it('gives up with null even when the fetch implementation ignores the abort signal', async () => {
    const stuckFetch: typeof fetch = () => new Promise<Response>(() => undefined);
    assert.equal(await enricher({ timeoutMs: 50, fetch: stuckFetch }).explain('P0106', 'MAP', 'Ford'), null);
  });

  it('returns null for server errors and refusals', async () => {
    for (const status of [500, 502, 429, 401, 400]) {
      endpoint.set((_s, res) => answerJson(res, completion('should not be used'), status));
      assert.equal(await enricher().explain('P0106', 'MAP', 'Ford'), null, `status ${status}`);
    }
  });

  it('returns null for a body that is not JSON', async () => {
    endpoint.set((_s, res) => answerJson(res, '<html>Bad gateway</html>'));
    assert.equal(await enricher().explain('P0106', 'MAP', 'Ford'), null);
    endpoint.set((_s, res) => answerJson(res, '{"choices": [{"message": {"content": "cut off'));
    assert.equal(await enricher().explain('P0106', 'MAP', 'Ford'), null);
  });

  it('returns null when the answer lacks a string message content', async () => {
    const shapes = [
      '{}',
      'null',
      '"text"',
      '[]',
      '{"choices": []}',
      '{"choices": {}}',
      '{"choices": [null]}',
      '{"choices": [{}]}',
      '{"choices": [{"message": null}]}',
      '{"choices": [{"message": {}}]}',
      '{"choices": [{"message": {"content": null}}]}',
      '{"choices": [{"message": {"content": 42}}]}',
      '{"choices": [{"message": {"content": ["part"]}}]}',
      '{"choices": [{"text": "legacy completion shape"}]}',
      '{"error": {"message": "quota exceeded"}}',
    ];
    for (const body of shapes) {
      endpoint.set((_s, res) => answerJson(res, body));
      assert.equal(await enricher().explain('P0106', 'MAP', 'Ford'), null, body);
    }
  });

  it('returns null when the content is empty or only blanks and controls', async () => {
    for (const content of ['', '   ', '\n\n\t', '\u0000\u0007\u200b']) {
      endpoint.set((_s, res) => answerJson(res, completion(content)));
      assert.equal(await enricher().explain('P0106', 'MAP', 'Ford'), null, JSON.stringify(content));
    }
  });

  it('abandons a body larger than the byte cap, declared or chunked', async () => {
    const giant = completion('x'.repeat(MAX_RESPONSE_BYTES + 10));
    endpoint.set((_s, res) => answerJson(res, giant));
    assert.equal(await enricher().explain('P0106', 'MAP', 'Ford'), null);

    endpoint.set((_s, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // no length: chunked
      res.write('{"choices":[{"message":{"content":"');
      const chunk = 'y'.repeat(16 * 1024);
      for (let i = 0; i < 8; i++) res.write(chunk);
      res.end('"}}]}');
    });
    const logger = recordingLogger();
    assert.equal(await enricher({ logger }).explain('P0106', 'MAP', 'Ford'), null);
    assert.equal(logger.entries[0]?.obj.reason, 'too_large');
  });

  it('strips control characters from the answer and collapses blanks', async () => {
    endpoint.set((_s, res) =>
      answerJson(res, completion('\u001b[31mCheck\u0007 the   sensor\r\n\r\n\r\n\r\nwiring.\u202e\u0000\t Soon. ')),
    );
    assert.equal(await enricher().explain('P0106', 'MAP', 'Ford'), 'Check the sensor\n\nwiring. Soon.');
  });

  it('caps an over-long answer', async () => {
    endpoint.set((_s, res) => answerJson(res, completion('word '.repeat(2_000))));
    const text = await enricher().explain('P0106', 'MAP', 'Ford');
    assert.ok(text !== null);
    assert.ok(Array.from(text).length <= MAX_EXPLANATION_CHARS);
    assert.ok(text.endsWith('…'));
  });

  it('does not follow redirects, so the key cannot be carried elsewhere', async () => {
    const other = await startEndpoint();
    try {
      other.set((_s, res) => answerJson(res, completion('from elsewhere')));
      endpoint.set((_s, res) => {
        res.writeHead(307, { location: other.url });
        res.end();
      });
      assert.equal(await enricher().explain('P0106', 'MAP', 'Ford'), null);
      assert.equal(other.requests.length, 0);
    } finally {
      await other.close();
    }
  });

  it('returns null when nothing listens at the URL', async () => {
    const gone = await startEndpoint();
    const url = gone.url;
    await gone.close();
    assert.equal(await createDtcEnricher({ url, apiKey: API_KEY, timeoutMs: 2_000 }).explain('P0106', 'MAP', null), null);
  });

  it('never puts the API key in its log entries', async () => {
    endpoint.set((_s, res) => answerJson(res, 'not json', 500));
    const logger = recordingLogger();
    await enricher({ logger }).explain('P0106', 'MAP', 'Ford');
    assert.ok(logger.entries.length > 0);
    assert.ok(!JSON.stringify(logger.entries).includes(API_KEY));
  });
});

describe('cleanExplanation', () => {
  it('keeps ordinary text, including non-Latin letters and emoji, unchanged', () => {
    assert.equal(cleanExplanation('Capteur de pression — vérifiez 🚗.'), 'Capteur de pression — vérifiez 🚗.');
  });

  it('removes bidi overrides, zero-width characters and lone surrogates', () => {
    assert.equal(cleanExplanation('a\u202eb\u2066c\u200bd\ufeffe\ud800f\udc00g'), 'abcdefg');
  });

  it('never cuts a surrogate pair in half when capping', () => {
    const text = cleanExplanation('🚗'.repeat(50), 10);
    assert.ok(text !== null);
    assert.equal(Array.from(text).length, 10);
    assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(text));
  });

  it('cuts at a word boundary when one is close to the cap', () => {
    assert.equal(cleanExplanation('alpha beta gamma delta', 18), 'alpha beta gamma…');
    // no blank near the cap: cut mid-word rather than lose most of the text
    assert.equal(cleanExplanation('alpha betagammadelta', 15), 'alpha betagamm…');
  });
});

/** A Map-backed cache that counts its calls. */
function memoryCache(): DtcExplanationCache & { map: Map<string, string>; gets: number } {
  const map = new Map<string, string>();
  const key = (code: string, make: string | null) => `${code}|${make ?? ''}`;
  const cache = {
    map,
    gets: 0,
    async get(code: string, make: string | null) {
      cache.gets += 1;
      return map.get(key(code, make));
    },
    async set(code: string, make: string | null, text: string) {
      map.set(key(code, make), text);
    },
  };
  return cache;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('cached DTC enrichment', () => {
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  before(async () => {
    endpoint = await startEndpoint();
  });
  beforeEach(() => endpoint.reset());
  after(() => endpoint.close());

  const remote = () => createDtcEnricher({ url: endpoint.url, apiKey: API_KEY, timeoutMs: 2_000 });
  const codeOf = (seen: Seen): string => /Code: (\S+)/.exec(seen.body.messages[1].content)?.[1] ?? '';

  it('answers a cached explanation without calling the endpoint', async () => {
    endpoint.set((_s, res) => answerJson(res, completion('from the endpoint')));
    const cache = memoryCache();
    cache.map.set('P0106|ford', 'from the cache');
    const text = await cachedEnricher(remote(), cache).explain('P0106', 'MAP', 'Ford');
    assert.equal(text, 'from the cache');
    assert.equal(endpoint.requests.length, 0);
  });

  it('stores a fetched explanation per code and normalised make, and reuses it', async () => {
    endpoint.set((_s, res) => answerJson(res, completion('fetched')));
    const cache = memoryCache();
    const cached = cachedEnricher(remote(), cache);
    assert.equal(await cached.explain('P0106', 'MAP', ' FORD '), 'fetched');
    assert.equal(cache.map.get('P0106|ford'), 'fetched');
    assert.equal(await cached.explain('P0106', 'MAP', 'Ford'), 'fetched');
    assert.equal(endpoint.requests.length, 1);
    // another make is another entry
    await cached.explain('P0106', 'MAP', 'Toyota');
    assert.equal(endpoint.requests.length, 2);
  });

  it('does not remember a failure, so a later request tries again', async () => {
    endpoint.set((_s, res) => answerJson(res, 'oops', 500));
    const cache = memoryCache();
    const cached = cachedEnricher(remote(), cache);
    assert.equal(await cached.explain('P0106', 'MAP', 'Ford'), null);
    assert.equal(cache.map.size, 0);
    endpoint.set((_s, res) => answerJson(res, completion('now it works')));
    assert.equal(await cached.explain('P0106', 'MAP', 'Ford'), 'now it works');
  });

  it('still explains when the cache fails to read or write', async () => {
    endpoint.set((_s, res) => answerJson(res, completion('fetched')));
    const broken: DtcExplanationCache = {
      get: () => Promise.reject(new Error('db down')),
      set: () => Promise.reject(new Error('db down')),
    };
    const logger = recordingLogger();
    assert.equal(await cachedEnricher(remote(), broken, logger).explain('P0106', 'MAP', 'Ford'), 'fetched');
    assert.equal(logger.entries.length, 2);
  });

  it('returns by the deadline with the explanations that finished, leaving out slow ones', async () => {
    endpoint.set((seen, res) => {
      if (codeOf(seen) === 'P0279') return; // this one never answers
      answerJson(res, completion(`about ${codeOf(seen)}`));
    });
    const cache = memoryCache();
    const found = await cachedEnricher(remote(), cache).explainWithin(
      [
        { code: 'P0106', title: 'MAP' },
        { code: 'P0279', title: 'Injector 7' },
        { code: 'P0300', title: 'Misfire' },
      ],
      'Ford',
      300,
    );
    assert.deepEqual(
      [...found].sort(([a], [b]) => a.localeCompare(b)),
      [
        ['P0106', 'about P0106'],
        ['P0300', 'about P0300'],
      ],
    );
  });

  it('lets a lookup that misses the deadline fill the cache for next time, without changing the returned map', async () => {
    const gate = deferred<string | null>();
    const slow: DtcEnricher = { explain: () => gate.promise };
    const cache = memoryCache();
    const cached = cachedEnricher(slow, cache);
    const found = await cached.explainWithin([{ code: 'P0106', title: 'MAP' }], 'Ford', 20);
    assert.equal(found.size, 0);
    gate.resolve('late text');
    await new Promise((r) => setImmediate(r));
    assert.equal(found.size, 0);
    assert.equal(cache.map.get('P0106|ford'), 'late text');
    assert.deepEqual([...(await cached.explainWithin([{ code: 'P0106', title: 'MAP' }], 'Ford', 20))], [['P0106', 'late text']]);
  });

  it('looks each code up once even when it is listed twice', async () => {
    endpoint.set((_s, res) => answerJson(res, completion('same')));
    const found = await cachedEnricher(remote(), memoryCache()).explainWithin(
      [
        { code: 'P0106', title: 'MAP' },
        { code: 'P0106', title: 'MAP' },
      ],
      null,
      2_000,
    );
    assert.deepEqual([...found], [['P0106', 'same']]);
    assert.equal(endpoint.requests.length, 1);
  });

  it('answers an empty map for no codes', async () => {
    assert.equal((await cachedEnricher(remote(), memoryCache()).explainWithin([], 'Ford', 1_000)).size, 0);
  });
});
