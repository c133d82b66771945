// Registering vehicles: by definition id and from a VIN decoded offline, with the validation,
// duplicate-VIN and ordering rules of API.md §1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/http-assert.ts';
import { userDevices } from '../../src/db/schema.ts';

const HONDA_VIN = '1HGCM82633A004352'; // 2003 Honda Accord
const ALICE_ADDR = '0x1111111111111111111111111111111111111111';

describe('registering vehicles', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  before(async () => {
    t = await createTestApp();
    alice = await t.token('alice', ALICE_ADDR);
    bob = await t.token('bob');
  });
  after(() => t.close());

  const register = (token: string, body: unknown) => t.request('POST', '/v1/user/devices', { token, body });
  const fromVin = (token: string, body: unknown) => t.request('POST', '/v1/user/devices/fromvin', { token, body });

  describe('POST /v1/user/devices', () => {
    it('registers a vehicle by definition id and answers 201 with the full record', async () => {
      const r = await register(alice, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' });
      assert.equal(r.status, 201, r.text);
      const d = r.json.userDevice;
      assert.match(d.id, /^[0-9A-Za-z]{27}$/);
      assert.equal(d.vin, null);
      assert.equal(d.vinConfirmed, false);
      assert.equal(d.countryCode, 'USA');
      assert.equal(d.deviceDefinition.definitionId, 'ford_bronco_2021');
      assert.equal(d.deviceDefinition.deviceDefinitionId, 'ford_bronco_2021');
      assert.deepEqual(d.deviceDefinition.type, { type: 'Vehicle', make: 'Ford', model: 'Bronco', year: 2021 });
      assert.equal(d.nft, null);
      assert.equal(d.aftermarketDevice, null);
      assert.deepEqual(d.privilegedUsers, []);
      assert.deepEqual(d.integrations, []);
      assert.ok(!Number.isNaN(Date.parse(d.createdAt)));
      assert.match(d.createdAt, /Z$/);
    });

    it('accepts a lower-case country code and stores it upper-case', async () => {
      const r = await register(alice, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'deu' });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.userDevice.countryCode, 'DEU');
      const [row] = await t.database.db.select().from(userDevices).where(eq(userDevices.id, r.json.userDevice.id));
      assert.equal(row?.countryCode, 'DEU');
    });

    it('answers 400 for a country code that is not ISO 3166-1 alpha-3', async () => {
      for (const countryCode of ['XXX', 'US', 'USAA', '123', '', 'U S']) {
        assertError(await register(alice, { deviceDefinitionId: 'ford_bronco_2021', countryCode }), 400, { message: /countryCode/ });
      }
    });

    it('answers 404 for an unknown definition', async () => {
      for (const deviceDefinitionId of ['ford_notamodel_2021', 'ford_bronco_1900', 'nosuchmake_bronco_2021', 'not-a-slug']) {
        assertError(await register(alice, { deviceDefinitionId, countryCode: 'USA' }), 404, { error: 'NOT_FOUND', message: /definition/i });
      }
    });

    it('ignores unknown fields: neither stored nor echoed, and they change nothing', async () => {
      const r = await register(alice, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA', userId: 'bob', vinConfirmed: true, tag: 'acc-xyz' });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.userDevice.vinConfirmed, false);
      assert.doesNotMatch(r.text, /acc-xyz|userId/);
    });

    it('answers 400 naming a field of the wrong type', async () => {
      assertError(await register(alice, { deviceDefinitionId: { slug: 'ford_bronco_2021' }, countryCode: 'USA' }), 400, { message: /deviceDefinitionId/ });
      assertError(await register(alice, []), 400);
      assertError(await register(alice, 'null'), 400);
    });
  });

  describe('canProtocol (what the original\'s clients send)', () => {
    const me = async (token: string, id: string) => (await t.request('GET', '/v1/user/devices/me', { token })).json.userDevices.find((d: any) => d.id === id);

    it('stores every ELM327 protocol number on POST /v1/user/devices and returns it in metadata, also on /me', async () => {
      const carol = await t.token('carol-can');
      for (const canProtocol of ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C']) {
        const r = await register(carol, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA', canProtocol });
        assert.equal(r.status, 201, r.text);
        assert.deepEqual(r.json.userDevice.metadata, { powertrainType: 'ICE', canProtocol });
        assert.equal((await me(carol, r.json.userDevice.id)).metadata.canProtocol, canProtocol);
      }
    });

    it('leaves canProtocol out of metadata when not sent', async () => {
      const r = await register(alice, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(r.json.userDevice.metadata, { powertrainType: 'ICE' });
    });

    it('returns the fromvin canProtocol in /me metadata', async () => {
      const dave = await t.token('dave-can');
      // Unminted duplicates are allowed, so another user's record of this VIN is no obstacle.
      const r = await fromVin(dave, { vin: HONDA_VIN, countryCode: 'USA', canProtocol: '7' });
      assert.equal(r.status, 201, r.text);
      assert.equal((await me(dave, r.json.userDevice.id)).metadata.canProtocol, '7');
    });

    it('answers 400 naming canProtocol for anything but 1–9 and A–C, on both routes, and stores nothing', async () => {
      const erin = await t.token('erin-can');
      for (const canProtocol of ['Z', '0', '10', 'a', 'D', '', ' 6', '6 ', '66', 6, null, true, ['6'], { p: '6' }]) {
        assertError(await register(erin, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA', canProtocol }), 400, { message: /canProtocol/ });
        assertError(await fromVin(erin, { vin: HONDA_VIN, countryCode: 'USA', canProtocol }), 400, { message: /canProtocol/ });
      }
      assert.deepEqual((await t.request('GET', '/v1/user/devices/me', { token: erin })).json.userDevices, []);
    });
  });

  describe('POST /v1/user/devices/fromvin', () => {
    it('decodes the VIN offline and stores it upper-case with the canProtocol', async () => {
      const r = await fromVin(bob, { vin: ` ${HONDA_VIN.toLowerCase()} `, countryCode: 'usa', canProtocol: '6' });
      assert.equal(r.status, 201, r.text);
      const d = r.json.userDevice;
      assert.equal(d.vin, HONDA_VIN);
      assert.equal(d.vinConfirmed, false);
      assert.equal(d.countryCode, 'USA');
      assert.equal(d.deviceDefinition.definitionId, 'honda_accord_2003');
      assert.equal(d.deviceDefinition.make.name, 'Honda');
      assert.equal(d.metadata.canProtocol, '6');
    });

    it('answers 400 for a VIN with I, O or Q, naming the letter', async () => {
      for (const [vin, letter] of [['1HGCM82633A00435I', 'I'], ['1HGCM8263OA004352', 'O'], ['QHGCM82633A004352', 'Q']] as const) {
        const e = assertError(await fromVin(alice, { vin, countryCode: 'USA' }), 400);
        assert.match(e.message, new RegExp(`"${letter}"`));
      }
    });

    it('answers 400 for a VIN of the wrong length or with other characters', async () => {
      for (const vin of ['1HGCM82633A00435', '1HGCM82633A0043521', '', '1HGCM82633A00435-']) {
        assertError(await fromVin(alice, { vin, countryCode: 'USA' }), 400, { message: /VIN|vin/ });
      }
    });

    it('answers 424 for a well-formed VIN that vPIC cannot decode', async () => {
      const e = assertError(await fromVin(alice, { vin: '00000000000000000', countryCode: 'USA' }), 424, { error: 'FAILED_DEPENDENCY' });
      assert.match(e.message, /unable to decode vin/);
    });

    it('answers 400 for a bad country even with a good VIN', async () => {
      assertError(await fromVin(alice, { vin: HONDA_VIN, countryCode: 'XXX' }), 400, { message: /countryCode/ });
    });

    it('ignores unknown fields', async () => {
      const r = await fromVin(alice, { vin: HONDA_VIN, countryCode: 'USA', tokenId: 5, analyticsTag: 'acc-xyz' });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.userDevice.nft, null);
      assert.doesNotMatch(r.text, /acc-xyz/);
    });
  });

  describe('duplicate VINs', () => {
    const VIN = '1FTFW1ET5DFC10312'; // decodes to a Ford F-150

    it("answers 409 for a VIN on another user's minted vehicle, and 201 with the existing record for its owner", async () => {
      const mine = await fromVin(alice, { vin: VIN, countryCode: 'USA' });
      assert.equal(mine.status, 201, mine.text);
      await t.database.db.update(userDevices).set({ tokenId: 424242n, ownerAddress: ALICE_ADDR }).where(eq(userDevices.id, mine.json.userDevice.id));

      assertError(await fromVin(bob, { vin: VIN, countryCode: 'USA' }), 409, { error: 'CONFLICT', message: new RegExp(VIN) });
      assertError(await fromVin(bob, { vin: VIN.toLowerCase(), countryCode: 'USA' }), 409);

      const again = await fromVin(alice, { vin: VIN, countryCode: 'USA' });
      assert.equal(again.status, 201, again.text);
      assert.equal(again.json.userDevice.id, mine.json.userDevice.id);
      assert.equal(again.json.userDevice.nft.tokenId, 424242);
      const rows = await t.database.db.select().from(userDevices).where(eq(userDevices.vin, VIN));
      assert.equal(rows.length, 1);
    });

    it("allows an unminted duplicate for another user as a new record", async () => {
      const vin = '5YJ3E1EA7KF317000'; // Tesla Model 3
      const a = await fromVin(alice, { vin, countryCode: 'USA' });
      assert.equal(a.status, 201, a.text);
      const b = await fromVin(bob, { vin, countryCode: 'USA' });
      assert.equal(b.status, 201, b.text);
      assert.notEqual(b.json.userDevice.id, a.json.userDevice.id);
      const againB = await fromVin(bob, { vin, countryCode: 'USA' });
      assert.equal(againB.json.userDevice.id, b.json.userDevice.id, 'the same user again gets the existing record');
      const rows = await t.database.db.select().from(userDevices).where(eq(userDevices.vin, vin));
      assert.equal(rows.length, 2);
    });
  });

  describe('ordering', () => {
    it('lists vehicles registered in quick succession newest first', async () => {
      const token = await t.token('orderly');
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await register(token, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' });
        assert.equal(r.status, 201, r.text);
        ids.push(r.json.userDevice.id);
      }
      const me = await t.request('GET', '/v1/user/devices/me', { token });
      assert.deepEqual(me.json.userDevices.map((d: any) => d.id), ids.reverse());
    });
  });
});
