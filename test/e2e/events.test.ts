// Events end to end: the real app over HTTP with the relayer and indexer on a real anvil. A user's
// API writes and the chain's changes reach that user's event stream (GET /v1/events/stream) as
// they commit, and nobody else's; a reconnect with Last-Event-ID resumes exactly after that event;
// a change that is rolled back announces nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { keccak256, toBytes, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { events } from '../../src/db/schema.ts';
import { signTyped, startChainApp, until, type ChainApp, type Payload } from '../helpers/chain-app.ts';
import { uploadDoc } from './documents-helpers.ts';

const key = (label: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`events e2e ${label}`)));

interface Received {
  id: string;
  event: string;
  body: { type: string; timestamp: string; data: Record<string, any> };
}

/** An SSE client: collects the events of one stream; `next` waits (bounded) for the next of a type. */
async function openStream(url: string, token: string, lastEventId?: string) {
  const ctrl = new AbortController();
  const res = await fetch(`${url}/v1/events/stream`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: ctrl.signal,
  });
  const received: Received[] = [];
  let ended = false;
  if (res.ok) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body!) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const fields = new Map(frame.split('\n').flatMap((l) => (l.startsWith(':') ? [] : [[l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)] as const])));
            if (fields.has('data')) received.push({ id: fields.get('id')!, event: fields.get('event')!, body: JSON.parse(fields.get('data')!) });
          }
        }
      } catch {
        // aborted
      }
      ended = true;
    })();
  }
  let read = 0;
  return {
    status: res.status,
    headers: res.headers,
    received,
    ended: () => ended,
    /** The next event not yet taken; it must have type `type`. */
    async next(type: string): Promise<Received> {
      const e = await until(`event ${type}`, async () => received[read]);
      read++;
      assert.equal(e.event, type, `expected ${type}, got ${e.event}: ${JSON.stringify(e.body)}`);
      assert.equal(e.body.type, type);
      return e;
    },
    close: () => ctrl.abort(),
  };
}

describe('events end to end', () => {
  let env: ChainApp;
  const alice = key('alice');
  const carol = key('carol');
  let aliceToken: string;
  let carolToken: string;

  before(async () => {
    env = await startChainApp({ env: { EVENTS_STREAMS_PER_USER: '2' } });
    aliceToken = await env.t.token('alice', alice.address);
    carolToken = await env.t.token('carol', carol.address);
  });
  after(async () => env?.close());

  const req = (method: string, path: string, token: string, body?: unknown) => env.t.request(method, path, { token, body });

  it('streams each API and chain event to its user only, resumes after Last-Event-ID, and announces nothing for a rolled-back change', async () => {
    const stream = await openStream(env.t.url, aliceToken);
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const carolStream = await openStream(env.t.url, carolToken);

    // vehicle.registered: the /me item plus userDeviceId.
    let r = await req('POST', '/v1/user/devices', aliceToken, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' });
    assert.equal(r.status, 201, r.text);
    const id = r.json.userDevice.id as string;
    const registered = await stream.next('vehicle.registered');
    assert.match(registered.id, /^msg_[0-9A-Za-z]{27}$/);
    assert.equal(registered.body.data.userDeviceId, id);
    assert.equal(registered.body.data.id, id);
    assert.equal(registered.body.data.deviceDefinition.definitionId, 'ford_bronco_2021');
    assert.ok(!Number.isNaN(Date.parse(registered.body.timestamp)));

    // error_codes.reported / cleared.
    r = await req('POST', `/v1/user/devices/${id}/error-codes`, aliceToken, { errorCodes: ['P0101', 'P0300'] });
    assert.equal(r.status, 200, r.text);
    const reported = await stream.next('error_codes.reported');
    assert.equal(reported.body.data.userDeviceId, id);
    assert.deepEqual(reported.body.data.errorCodes.map((c: { code: string }) => c.code), ['P0101', 'P0300']);
    assert.equal(reported.body.data.clearedAt, null);
    r = await req('POST', `/v1/user/devices/${id}/error-codes/clear`, aliceToken);
    assert.equal(r.status, 200, r.text);
    const cleared = await stream.next('error_codes.cleared');
    assert.equal(cleared.body.data.id, reported.body.data.id);
    assert.ok(cleared.body.data.clearedAt);

    // document.created / deleted.
    const doc = await uploadDoc(env.t, aliceToken, { userDeviceId: id });
    assert.equal(doc.status, 201, JSON.stringify(doc.json));
    const created = await stream.next('document.created');
    assert.equal(created.body.data.id, doc.json.id);
    assert.equal(created.body.data.userDeviceId, id);
    assert.equal((await req('DELETE', `/v1/documents/${doc.json.id}`, aliceToken)).status, 204);
    assert.equal((await stream.next('document.deleted')).body.data.id, doc.json.id);

    // The stream breaks here; what happens meanwhile is read back with Last-Event-ID.
    const lastSeen = await until('document.deleted received', async () => stream.received[stream.received.length - 1]);
    stream.close();

    // vehicle.minted, from the indexer once the mint is final.
    const payload = (await req('GET', `/v1/user/devices/${id}/commands/mint`, aliceToken)).json as Payload;
    r = await req('POST', `/v1/user/devices/${id}/commands/mint`, aliceToken, { signature: await signTyped(alice, payload) });
    assert.equal(r.status, 202, r.text);
    // vehicle.deleted for an unminted one.
    r = await req('POST', '/v1/user/devices', aliceToken, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' });
    const spare = r.json.userDevice.id as string;
    assert.equal((await req('DELETE', `/v1/user/devices/${spare}`, aliceToken)).status, 204);

    const resumed = await openStream(env.t.url, aliceToken, lastSeen.id);
    assert.equal(resumed.status, 200);
    // Registered and deleted (the API) come before the mint (the chain) only if the mint is slower;
    // sort by what each is about instead of relying on that.
    const byType = new Map<string, Received>();
    await until('three events after the resume point', async () => resumed.received.length >= 3);
    for (const e of resumed.received) byType.set(e.event, e);
    assert.deepEqual([...byType.keys()].sort(), ['vehicle.deleted', 'vehicle.minted', 'vehicle.registered'].sort());
    const seenBefore = new Set(stream.received.map((e) => e.id));
    assert.ok(resumed.received.every((e) => !seenBefore.has(e.id)), 'nothing up to the resume point is sent again');
    const minted = byType.get('vehicle.minted')!;
    assert.equal(minted.body.data.userDeviceId, id);
    assert.equal(minted.body.data.nft.status, 'Confirmed');
    assert.equal(typeof minted.body.data.nft.tokenId, 'number');
    assert.equal(byType.get('vehicle.deleted')!.body.data.userDeviceId, spare);

    // A rolled-back change: deleting a minted vehicle is refused inside its transaction.
    const before = (await env.t.database.db.select().from(events)).length;
    assert.equal((await req('DELETE', `/v1/user/devices/${id}`, aliceToken)).status, 409);
    assert.equal((await env.t.database.db.select().from(events)).length, before);

    // Carol saw none of it, and Alice's events name only Alice's things.
    assert.deepEqual(carolStream.received, []);
    const rows = await env.t.database.db.select().from(events).where(eq(events.userId, 'carol'));
    assert.deepEqual(rows, []);
    resumed.close();
    carolStream.close();
  });

  it('bounds the streams one user holds open, and answers 401 without a token', async () => {
    const a = await openStream(env.t.url, aliceToken);
    const b = await openStream(env.t.url, aliceToken);
    const third = await openStream(env.t.url, aliceToken);
    assert.equal(third.status, 429);
    assert.equal((await env.t.request('GET', '/v1/events/stream')).status, 401);
    a.close();
    // The slot is free again once the server saw the close.
    await until('a stream slot freed', async () => {
      const s = await openStream(env.t.url, aliceToken);
      s.close();
      return s.status === 200;
    });
    b.close();
  });
});
