import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, webhookHeaders } from '../../src/domain/webhook-signature.ts';

describe('Standard Webhooks signatures', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const s = newWebhookSecret();
    assert.match(s, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(s.slice(6), 'base64').length, 32);
    assert.notEqual(newWebhookSecret(), s);
  });

  it('verify with the standardwebhooks package, for any body', () => {
    const secret = newWebhookSecret();
    const wh = new Webhook(secret);
    fc.assert(
      fc.property(fc.string(), fc.stringMatching(/^msg_[0-9A-Za-z]{27}$/), (text, id) => {
        const body = JSON.stringify({ type: 'vehicle.registered', timestamp: new Date().toISOString(), data: { text } });
        const headers = webhookHeaders(secret, id, new Date(), body);
        assert.deepEqual(wh.verify(body, headers), JSON.parse(body));
      }),
      { numRuns: 50 },
    );
  });

  it('carry one signature per secret, each verifying on its own', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const body = '{"type":"x","timestamp":"2026-01-01T00:00:00Z","data":{}}';
    const headers = webhookHeaders([current, previous], 'msg_1', new Date(), body);
    assert.match(headers['webhook-signature']!, /^v1,\S+ v1,\S+$/);
    for (const secret of [current, previous]) assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(newWebhookSecret()).verify(body, headers));
  });

  it('do not verify with another secret or a changed body', () => {
    const secret = newWebhookSecret();
    const body = '{"type":"x","timestamp":"2026-01-01T00:00:00Z","data":{}}';
    const headers = webhookHeaders(secret, 'msg_1', new Date(), body);
    assert.throws(() => new Webhook(newWebhookSecret()).verify(body, headers));
    assert.throws(() => new Webhook(secret).verify(body.replace('x', 'y'), headers));
  });
});
