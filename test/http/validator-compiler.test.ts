// Request validation per part: query strings and path params are text and are read as their
// schema's types; a JSON body is checked as sent, so a value of the wrong JSON type is a 400
// naming the field instead of being turned into something else.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { assertError, emptyCatalog } from '../helpers/http-assert.ts';
import { insertVehicle } from '../helpers/vehicles.ts';

describe('request validation', () => {
  let t: TestApp;
  let alice: string;
  let vehicleId: string;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog });
    alice = await t.token('alice');
    for (let i = 0; i < 6; i++) vehicleId = await insertVehicle(t.database.db, { userId: 'alice' });
  });
  after(() => t.close());

  const register = (body: unknown) => t.request('POST', '/v1/user/devices', { token: alice, body });

  it('answers 400 naming a body field sent as a number where a string belongs', async () => {
    const r = await register({ deviceDefinitionId: 42, countryCode: 'USA' });
    assertError(r, 400, { error: 'VALIDATION_FAILED', message: /^body\.deviceDefinitionId must be string$/ });
  });

  it('answers 400 naming a body field sent as a boolean where a string belongs', async () => {
    const r = await register({ deviceDefinitionId: 'ford_bronco_2021', countryCode: true });
    assertError(r, 400, { error: 'VALIDATION_FAILED', message: /^body\.countryCode must be string$/ });
  });

  it('names every mistyped body field at once', async () => {
    const { message } = assertError(await register({ deviceDefinitionId: 42, countryCode: true }), 400);
    assert.match(message, /body\.deviceDefinitionId must be string/);
    assert.match(message, /body\.countryCode must be string/);
  });

  it('does not wrap a single value into the list a body field expects', async () => {
    const r = await t.request('POST', `/v1/user/devices/${vehicleId}/error-codes`, { token: alice, body: { errorCodes: 'P0106' } });
    assertError(r, 400, { error: 'VALIDATION_FAILED', message: /^body\.errorCodes must be array$/ });
  });

  it('reads a number from the query string', async () => {
    const r = await t.request('GET', '/v1/user/devices/me?limit=5', { token: alice });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.userDevices.length, 5);
    assert.equal(typeof r.json.nextCursor, 'string');
  });

  it('answers 400 naming a query parameter that is not a number', async () => {
    assertError(await t.request('GET', '/v1/user/devices/me?limit=five', { token: alice }), 400, {
      error: 'VALIDATION_FAILED',
      message: /^querystring\.limit must be integer$/,
    });
  });
});
