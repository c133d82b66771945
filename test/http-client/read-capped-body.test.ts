import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCappedBody } from '../../src/http-client/read-capped-body.ts';

/** A body sent in the given chunks with no content-length, recording whether it was cancelled. */
function streamed(chunks: readonly Uint8Array[]) {
  const state = { cancelled: false };
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[sent++];
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body), state };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('readCappedBody', () => {
  it('returns a body of exactly the cap as text', async () => {
    assert.equal(await readCappedBody(new Response('{"ok":true}'), 11), '{"ok":true}');
  });

  it('returns an empty string when there is no body', async () => {
    assert.equal(await readCappedBody(new Response(null, { status: 204 }), 10), '');
  });

  it('decodes a character split across chunks', async () => {
    const euro = bytes('€');
    const { response } = streamed([euro.subarray(0, 1), euro.subarray(1)]);
    assert.equal(await readCappedBody(response, 3), '€');
  });

  it('refuses a body whose declared length passes the cap, unread', async () => {
    const { response, state } = streamed([bytes('x'.repeat(20))]);
    const declared = new Response(response.body, { headers: { 'content-length': '20' } });
    assert.equal(await readCappedBody(declared, 10), null);
    assert.equal(state.cancelled, true);
  });

  it('stops reading an undeclared body once it passes the cap', async () => {
    const { response, state } = streamed([bytes('12345'), bytes('67890'), bytes('x'), bytes('never read')]);
    assert.equal(await readCappedBody(response, 10), null);
    assert.equal(state.cancelled, true);
  });
});
