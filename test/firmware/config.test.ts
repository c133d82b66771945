import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connectorKey,
  DEFAULT_CONNECTOR_TIMEOUT_MS,
  parseFirmwareConnectors,
} from '../../src/firmware/config.ts';

function problemsOf(json: string): string[] {
  const r = parseFirmwareConnectors(json);
  assert.equal(r.ok, false, `expected ${json} to be rejected`);
  return r.ok ? [] : r.problems;
}

describe('FIRMWARE_CONNECTORS parsing', () => {
  it('treats an unset or blank setting as no connectors at all', () => {
    for (const v of [undefined, '', '   ']) {
      const r = parseFirmwareConnectors(v);
      assert.ok(r.ok);
      assert.equal(r.connectors.size, 0);
    }
  });

  it('reads each manufacturer under its lower-cased name, with a default timeout', () => {
    const r = parseFirmwareConnectors(
      JSON.stringify({
        AutoPi: { baseUrl: 'https://cloud.autopi.example/dimo/', token: 'tok-a', timeoutMs: 2500 },
        ' Smart  Cars ': { baseUrl: 'http://127.0.0.1:9000', token: 'tok-b' },
      }),
    );
    assert.ok(r.ok);
    assert.deepEqual([...r.connectors.keys()].sort(), ['autopi', 'smart cars']);
    assert.deepEqual(r.connectors.get('autopi'), { baseUrl: 'https://cloud.autopi.example/dimo', token: 'tok-a', timeoutMs: 2500 });
    assert.deepEqual(r.connectors.get('smart cars'), { baseUrl: 'http://127.0.0.1:9000', token: 'tok-b', timeoutMs: DEFAULT_CONNECTOR_TIMEOUT_MS });
    assert.equal(r.connectors.get(connectorKey('AUTOPI'))?.token, 'tok-a');
  });

  it('rejects text that is not a JSON object, without quoting it', () => {
    const secret = 'sk-live-123';
    const problems = problemsOf(`{"AutoPi": {"token": "${secret}", `);
    assert.match(problems[0]!, /not valid JSON/);
    assert.ok(!problems.join().includes(secret));
    assert.match(problemsOf('[]')[0]!, /must be a JSON object/);
    assert.match(problemsOf('"x"')[0]!, /must be a JSON object/);
  });

  it('accepts only http and https base URLs', () => {
    for (const baseUrl of ['ftp://cloud.example', 'file:///etc/passwd', 'javascript:alert(1)']) {
      const problems = problemsOf(JSON.stringify({ AutoPi: { baseUrl, token: 't' } }));
      assert.match(problems.join(), /must use http or https/, baseUrl);
    }
    assert.match(problemsOf(JSON.stringify({ AutoPi: { baseUrl: 'not a url', token: 't' } })).join(), /not a valid URL/);
    assert.match(problemsOf(JSON.stringify({ AutoPi: { token: 't' } })).join(), /baseUrl: required/);
  });

  it('rejects base URLs carrying credentials, a query or a fragment', () => {
    const userinfo = problemsOf(JSON.stringify({ AutoPi: { baseUrl: 'https://user:pw@cloud.example', token: 't' } }));
    assert.match(userinfo.join(), /must not contain credentials/);
    assert.ok(!userinfo.join().includes('pw@'));
    assert.match(problemsOf(JSON.stringify({ AutoPi: { baseUrl: 'https://cloud.example/?k=1', token: 't' } })).join(), /query or fragment/);
    assert.match(problemsOf(JSON.stringify({ AutoPi: { baseUrl: 'https://cloud.example/#x', token: 't' } })).join(), /query or fragment/);
  });

  it('requires a token that is safe to put in a header, and never echoes it', () => {
    assert.match(problemsOf(JSON.stringify({ AutoPi: { baseUrl: 'https://c.example' } })).join(), /token: required/);
    assert.match(problemsOf(JSON.stringify({ AutoPi: { baseUrl: 'https://c.example', token: '' } })).join(), /token: required/);
    const problems = problemsOf(JSON.stringify({ AutoPi: { baseUrl: 'https://c.example', token: 'abc\r\nX-Evil: 1' } }));
    assert.match(problems.join(), /visible ASCII/);
    assert.ok(!problems.join().includes('X-Evil'));
  });

  it('requires the timeout to be a whole number of milliseconds within range', () => {
    for (const timeoutMs of [0, -1, 1.5, 600_000, '5000', null]) {
      const problems = problemsOf(JSON.stringify({ AutoPi: { baseUrl: 'https://c.example', token: 't', timeoutMs } }));
      assert.match(problems.join(), /timeoutMs/, String(timeoutMs));
    }
  });

  it('rejects unknown fields, so a misspelt one is not silently ignored', () => {
    assert.match(
      problemsOf(JSON.stringify({ AutoPi: { baseURL: 'https://c.example', token: 't' } })).join(),
      /unknown field "baseURL"/,
    );
  });

  it('rejects a manufacturer configured twice under different casing, and blank names', () => {
    const json = '{"AutoPi": {"baseUrl": "https://a.example", "token": "t"}, "autopi": {"baseUrl": "https://b.example", "token": "t"}}';
    assert.match(problemsOf(json).join(), /more than once/);
    assert.match(problemsOf(JSON.stringify({ ' ': { baseUrl: 'https://a.example', token: 't' } })).join(), /blank/);
  });

  it('lists every problem at once, naming the manufacturer', () => {
    const problems = problemsOf(
      JSON.stringify({
        AutoPi: { baseUrl: 'ftp://a.example', token: 't' },
        Hashdog: { baseUrl: 'https://h.example', token: '', timeoutMs: 0 },
        Ruptela: 'https://r.example',
      }),
    );
    assert.equal(problems.length, 4);
    assert.ok(problems.some((p) => p.includes('"AutoPi"')));
    assert.equal(problems.filter((p) => p.includes('"Hashdog"')).length, 2);
    assert.ok(problems.some((p) => p.includes('"Ruptela"')));
  });
});
