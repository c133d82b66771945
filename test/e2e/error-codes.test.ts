import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { errorCodeQueries } from '../../src/db/schema.ts';
import { importDtcTitles } from '../../src/services/dtc-import.ts';

const UNKNOWN_ID = '2BcdEfGhIjKlMnOpQrStUvWxYz0';

describe('vehicle error codes over HTTP', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;

  const register = async (token: string, deviceDefinitionId = 'ford_bronco_2021'): Promise<string> => {
    const r = await t.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId, countryCode: 'USA' } });
    assert.equal(r.status, 201, r.text);
    return r.json.userDevice.id as string;
  };
  const submit = (id: string, body: unknown, token = alice) => t.request('POST', `/v1/user/devices/${id}/error-codes`, { token, body });
  const history = (id: string, query = '', token = alice) => t.request('GET', `/v1/user/devices/${id}/error-codes${query}`, { token });
  const clear = (id: string, token = alice) => t.request('POST', `/v1/user/devices/${id}/error-codes/clear`, { token });
  const codesOf = (r: { json: any }) => (r.json.errorCodes as { code: string }[]).map((c) => c.code);

  before(async () => {
    t = await createTestApp();
    alice = await t.token('alice');
    bob = await t.token('bob');
  });
  after(() => t.close());

  describe('submitting', () => {
    it('describes each code offline with its system, definer and subsystem', async () => {
      const id = await register(alice);
      const r = await submit(id, { errorCodes: ['P0420', 'U0100', 'P1234'] });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.clearedAt, null);
      const [p0420, u0100, p1234] = r.json.errorCodes;
      assert.match(p0420.description, /catalyst/i);
      assert.equal(p0420.system, 'Powertrain');
      assert.equal(p0420.definedBy, 'SAE');
      assert.equal(u0100.system, 'Network');
      assert.match(u0100.description, /communication/i);
      assert.equal(p1234.definedBy, 'Manufacturer');
      assert.match(p1234.description, /Ford/);
      for (const c of r.json.errorCodes) assert.ok(c.subsystem.length > 0);
      assert.ok(!('explanation' in p0420), 'no explanation without an enrichment provider');
    });

    it('normalises case and failure-type bytes, drops blanks and keeps duplicates once, in order', async () => {
      const id = await register(alice);
      const r = await submit(id, { errorCodes: ['p0279-1c', '', '  ', 'P0300', 'P02791C', 'p0300'] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(codesOf(r), ['P0279-1C', 'P0300']);
      assert.match(r.json.errorCodes[0].description, /injector/i);
    });

    it("accepts the data-sdk's wrapped body", async () => {
      const id = await register(alice);
      const r = await submit(id, { queryDeviceErrorCodes: { errorCodes: ['P0301'] } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(codesOf(r), ['P0301']);
      assert.match(r.json.errorCodes[0].description, /misfire/i);
    });

    it('answers an empty list with 200 and stores nothing', async () => {
      const id = await register(alice);
      for (const errorCodes of [[], ['', '   ']]) {
        const r = await submit(id, { errorCodes });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json, { errorCodes: [], clearedAt: null });
      }
      assert.deepEqual((await history(id)).json.queries, []);
    });

    it('accepts 100 codes and rejects 101 (blanks counted) with a 400', async () => {
      const id = await register(alice);
      const hundred = Array.from({ length: 100 }, (_, i) => `P0${(0x100 + i).toString(16).toUpperCase()}`);
      const ok = await submit(id, { errorCodes: hundred });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.errorCodes.length, 100);
      const tooMany = await submit(id, { errorCodes: [...hundred, ''] });
      assert.equal(tooMany.status, 400);
      assert.match(tooMany.json.message, /Too many error codes/);
    });

    it('rejects codes that are not SAE J2012 codes with a 400 naming the code, storing nothing', async () => {
      const id = await register(alice);
      for (const bad of ['P01067X', 'Z0100', 'P4100', 'P010', 'P0106-1G']) {
        const r = await submit(id, { errorCodes: ['P0100', bad] });
        assert.equal(r.status, 400, `${bad}: ${r.text}`);
        assert.equal(r.json.error, 'BAD_REQUEST');
        assert.ok(r.json.message.includes(`"${bad}"`), r.json.message);
      }
      assert.deepEqual((await history(id)).json.queries, []);
    });

    it('rejects entries that are not strings with a 400 naming the entry', async () => {
      const id = await register(alice);
      for (const bad of [7, null, { code: 'P0100' }, ['P0100']]) {
        const r = await submit(id, { errorCodes: ['P0100', bad] });
        assert.equal(r.status, 400, r.text);
        assert.match(r.json.message, /errorCodes\[1\] must be a string/);
      }
    });

    it('ignores unknown fields, at the top and inside the wrapped form', async () => {
      const id = await register(alice);
      for (const body of [{ errorCodes: ['P0100'], vehicleId: 'x' }, { queryDeviceErrorCodes: { errorCodes: ['P0100'], extra: true } }]) {
        const r = await submit(id, body);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json.errorCodes.map((c: { code: string }) => c.code), ['P0100']);
      }
    });

    it('rejects both body forms at once, a missing list and a non-object body', async () => {
      const id = await register(alice);
      const cases: [unknown, RegExp][] = [
        [{ errorCodes: ['P0100'], queryDeviceErrorCodes: { errorCodes: ['P0101'] } }, /either/i],
        [{}, /errorCodes/],
        [{ queryDeviceErrorCodes: {} }, /errorCodes/],
        [['P0100'], /object/],
      ];
      for (const [body, message] of cases) {
        const r = await submit(id, body);
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
        assert.match(r.json.message, message);
      }
      assert.deepEqual((await history(id)).json.queries, []);
    });

    it('uses imported titles over the bundled ones, make-specific ones only for that make', async () => {
      await importDtcTitles(t.database.db, [
        { code: 'P0440', make: null, description: 'Imported EVAP title for every make' },
        { code: 'P1456', make: 'ford', description: 'Imported Ford-only title' },
      ]);
      const ford = await register(alice, 'ford_bronco_2021');
      const toyota = await register(alice, 'toyota_camry_2020');
      const f = await submit(ford, { errorCodes: ['P0440', 'P1456-1C'] });
      assert.equal(f.json.errorCodes[0].description, 'Imported EVAP title for every make');
      assert.match(f.json.errorCodes[1].description, /^Imported Ford-only title \(/);
      const ty = await submit(toyota, { errorCodes: ['P0440', 'P1456'] });
      assert.equal(ty.json.errorCodes[0].description, 'Imported EVAP title for every make');
      assert.doesNotMatch(ty.json.errorCodes[1].description, /Imported/);
    });
  });

  describe('history', () => {
    it('lists queries newest first with ids, codes, requestedAt and clearedAt', async () => {
      const id = await register(alice);
      for (const code of ['P0101', 'P0102', 'P0103']) assert.equal((await submit(id, { errorCodes: [code] })).status, 200);
      const r = await history(id);
      assert.equal(r.status, 200);
      assert.deepEqual(
        r.json.queries.map((q: any) => q.errorCodes[0].code),
        ['P0103', 'P0102', 'P0101'],
      );
      const [q] = r.json.queries;
      assert.match(q.id, /^[0-9A-Za-z]{27}$/);
      assert.ok(!Number.isNaN(Date.parse(q.requestedAt)));
      assert.equal(q.clearedAt, null);
      assert.equal(r.json.nextCursor, undefined);
    });

    it('pages with limit and nextCursor', async () => {
      const id = await register(alice);
      for (const code of ['P0111', 'P0112', 'P0113']) await submit(id, { errorCodes: [code] });
      const first = await history(id, '?limit=2');
      assert.deepEqual(
        first.json.queries.map((q: any) => q.errorCodes[0].code),
        ['P0113', 'P0112'],
      );
      assert.equal(first.json.nextCursor, first.json.queries[1].id);
      const second = await history(id, `?limit=2&cursor=${first.json.nextCursor}`);
      assert.deepEqual(
        second.json.queries.map((q: any) => q.errorCodes[0].code),
        ['P0111'],
      );
      assert.equal(second.json.nextCursor, undefined);
    });

    it("rejects a cursor that is not one of this vehicle's queries, and a bad limit", async () => {
      const id = await register(alice);
      const other = await register(alice);
      await submit(other, { errorCodes: ['P0100'] });
      const otherQuery = (await history(other)).json.queries[0].id;
      assert.equal((await history(id, `?cursor=${otherQuery}`)).status, 400);
      assert.equal((await history(id, '?cursor=not-a-ksuid')).status, 400);
      assert.equal((await history(id, '?limit=0')).status, 400);
      assert.equal((await history(id, '?limit=501')).status, 400);
    });

    it('goes with the vehicle when the vehicle is deleted', async () => {
      const id = await register(alice);
      await submit(id, { errorCodes: ['P0100'] });
      await submit(id, { errorCodes: ['P0200'] });
      assert.equal((await t.request('DELETE', `/v1/user/devices/${id}`, { token: alice })).status, 204);
      const rows = await t.database.db.select().from(errorCodeQueries).where(eq(errorCodeQueries.userDeviceId, id));
      assert.deepEqual(rows, []);
      assert.equal((await history(id)).status, 404);
    });
  });

  describe('clearing', () => {
    it('clears the most recent query only and says when it was cleared', async () => {
      const id = await register(alice);
      await submit(id, { errorCodes: ['P0121'] });
      await submit(id, { errorCodes: ['P0122', 'P0123'] });
      const r = await clear(id);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(codesOf(r), ['P0122', 'P0123']);
      assert.ok(!Number.isNaN(Date.parse(r.json.clearedAt)));
      const [latest, older] = (await history(id)).json.queries;
      assert.equal(latest.clearedAt, r.json.clearedAt);
      assert.equal(older.clearedAt, null);
    });

    it('answers 409 when the most recent query is already cleared, until new codes arrive', async () => {
      const id = await register(alice);
      await submit(id, { errorCodes: ['P0131'] });
      assert.equal((await clear(id)).status, 200);
      const again = await clear(id);
      assert.equal(again.status, 409);
      assert.equal(again.json.error, 'CONFLICT');
      await submit(id, { errorCodes: ['P0132'] });
      const next = await clear(id);
      assert.equal(next.status, 200);
      assert.deepEqual(codesOf(next), ['P0132']);
    });

    it('lets exactly one of two simultaneous clears win', async () => {
      const id = await register(alice);
      await submit(id, { errorCodes: ['P0141'] });
      const statuses = (await Promise.all([clear(id), clear(id)])).map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 409]);
    });

    it('answers 404 when nothing was ever submitted', async () => {
      const id = await register(alice);
      const r = await clear(id);
      assert.equal(r.status, 404);
      assert.match(r.json.message, /nothing to clear/);
    });
  });

  describe('access', () => {
    it("answers 404 on all three routes for another user's vehicle and changes nothing", async () => {
      const id = await register(alice);
      await submit(id, { errorCodes: ['P0151'] });
      const posted = await submit(id, { errorCodes: ['P0152'] }, bob);
      const listed = await history(id, '', bob);
      const cleared = await clear(id, bob);
      for (const r of [posted, listed, cleared]) {
        assert.equal(r.status, 404, r.text);
        assert.equal(r.json.error, 'NOT_FOUND');
      }
      const [only, ...rest] = (await history(id)).json.queries;
      assert.equal(rest.length, 0);
      assert.equal(only.errorCodes[0].code, 'P0151');
      assert.equal(only.clearedAt, null);
    });

    it('answers 404 for an unknown vehicle and 400 for a malformed id on all three routes', async () => {
      for (const r of [await submit(UNKNOWN_ID, { errorCodes: ['P0100'] }), await history(UNKNOWN_ID), await clear(UNKNOWN_ID)]) {
        assert.equal(r.status, 404, r.text);
      }
      for (const r of [await submit('not-a-ksuid', { errorCodes: ['P0100'] }), await history('not-a-ksuid'), await clear('not-a-ksuid')]) {
        assert.equal(r.status, 400, r.text);
        assert.match(r.json.message, /userDeviceId/);
      }
    });

    it('answers 401 without a token', async () => {
      const id = await register(alice);
      assert.equal((await t.request('POST', `/v1/user/devices/${id}/error-codes`, { body: { errorCodes: ['P0100'] } })).status, 401);
      assert.equal((await t.request('GET', `/v1/user/devices/${id}/error-codes`)).status, 401);
    });
  });
});
