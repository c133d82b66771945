// GET /v1/events/stream without a chain: events of API writes arrive on the writer's stream, and
// closing the server ends open streams instead of waiting for them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.ts';

describe('event stream', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t?.close());

  it('sends a committed event to its user, and ends the stream when the server closes', async () => {
    const token = await t.token('stream-user');
    const res = await fetch(`${t.url}/v1/events/stream`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const r = await t.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
    assert.equal(r.status, 201, r.text);

    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (text.includes('\n\n') && text.includes('event: vehicle.registered')) break;
    }
    assert.match(text, /id: msg_[0-9A-Za-z]{27}\nevent: vehicle\.registered\ndata: \{"type":"vehicle\.registered","timestamp":"[^"]+","data":\{/);

    const again = await fetch(`${t.url}/v1/events/stream`, { headers: { authorization: `Bearer ${token}` } });
    const reader = again.body!.getReader();
    await reader.read(); // the retry line: the stream is open
    await t.app.close(); // would hang if open streams kept the server waiting
    for (;;) if ((await reader.read()).done) break;
  });
});
