import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createDefinitionCatalog } from '../../src/definitions/catalog.ts';
import type { DefinitionCatalog } from '../../src/definitions/types.ts';

// One catalog for the whole file: loading vPIC takes a second or two. Its clock is a variable so
// tests can move "now" without reloading.
let clock = new Date('2025-06-01T00:00:00Z');
let catalog: DefinitionCatalog;

before(async () => {
  catalog = await createDefinitionCatalog({ now: () => clock });
  await catalog.ready();
});
after(async () => {
  await catalog.close();
});

// VINs with valid check digits: corgi's README example (Honda), a 2021 Bronco and a 2017 Model 3
// from public lists.
const HONDA = '1HGCM82633A004352';
const BRONCO = '1FMEE5DP4MLA63453';
const MODEL_3 = '5YJ3E1EA7HF000337';

describe('DefinitionCatalog.findById', () => {
  it('finds ford_bronco_2021 with vPIC names', async () => {
    const d = await catalog.findById('ford_bronco_2021');
    assert.deepEqual(d, {
      id: 'ford_bronco_2021',
      name: '2021 Ford Bronco',
      make: { id: 'ford', name: 'Ford' },
      model: 'Bronco',
      year: 2021,
      powertrainType: 'ICE',
      attributes: [{ name: 'powertrain_type', value: 'ICE' }],
    });
  });

  it('finds a model whose name has a space, and knows it is electric', async () => {
    const d = await catalog.findById('tesla_model-3_2019');
    assert.equal(d?.name, '2019 Tesla Model 3');
    assert.equal(d?.powertrainType, 'BEV');
  });

  it('matches ids case-insensitively and answers with the canonical id', async () => {
    const d = await catalog.findById('Tesla_MODEL-3_2019');
    assert.equal(d?.id, 'tesla_model-3_2019');
  });

  it('derives a powertrain only when all of the model-year agrees', async () => {
    assert.equal((await catalog.findById('toyota_mirai_2018'))?.powertrainType, 'FCEV');
    assert.equal((await catalog.findById('toyota_prius_2010'))?.powertrainType, 'HEV');
    assert.equal((await catalog.findById('ford_f-150_2021'))?.powertrainType, 'ICE');
    assert.equal((await catalog.findById('honda_accord_2003'))?.powertrainType, 'ICE');
  });

  it('rejects an unknown make and model', async () => {
    assert.equal(await catalog.findById('nope_nope_1901'), null);
    assert.equal(await catalog.findById('nope_nope_2020'), null);
  });

  it('rejects a make and model that exist only apart', async () => {
    assert.equal(await catalog.findById('ford_model-3_2020'), null);
  });

  it('rejects years before 1981 or after next year', async () => {
    assert.equal(await catalog.findById('ford_bronco_1975'), null);
    assert.equal(await catalog.findById('ford_bronco_1980'), null);
    assert.notEqual(await catalog.findById('ford_bronco_1981'), null);
    assert.notEqual(await catalog.findById('ford_bronco_2026'), null);
    assert.equal(await catalog.findById('ford_bronco_2027'), null);
  });

  it('moves the year bound with the clock', async () => {
    clock = new Date('2026-01-01T00:00:00Z');
    try {
      assert.notEqual(await catalog.findById('ford_bronco_2027'), null);
    } finally {
      clock = new Date('2025-06-01T00:00:00Z');
    }
    assert.equal(await catalog.findById('ford_bronco_2027'), null);
  });

  it('rejects malformed ids', async () => {
    for (const id of ['', 'ford', 'ford_bronco', 'ford bronco 2021', 'ford_bronco_2021_x']) {
      assert.equal(await catalog.findById(id), null, id);
    }
  });

  it('answers repeated lookups with the same frozen object', async () => {
    const a = await catalog.findById('ford_bronco_2021');
    const b = await catalog.findById('FORD_bronco_2021');
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a?.make) && Object.isFrozen(a?.attributes));
  });
});

describe('DefinitionCatalog.decodeVin', () => {
  it('decodes a 2003 Honda Accord', async () => {
    const d = await catalog.decodeVin(HONDA);
    assert.equal(d?.id, 'honda_accord_2003');
    assert.equal(d?.name, '2003 Honda Accord');
    assert.deepEqual(d?.make, { id: 'honda', name: 'Honda' });
    assert.equal(d?.powertrainType, 'ICE');
    assert.deepEqual(d?.attributes.slice(0, 2), [
      { name: 'powertrain_type', value: 'ICE' },
      { name: 'fuel_type', value: 'Gasoline' },
    ]);
  });

  it('decodes a Ford Bronco to the definition findById gives', async () => {
    const d = await catalog.decodeVin(BRONCO);
    const byId = await catalog.findById('ford_bronco_2021');
    assert.equal(d?.id, 'ford_bronco_2021');
    assert.equal(d?.name, byId?.name);
    assert.deepEqual(d?.make, byId?.make);
  });

  it('decodes a Tesla Model 3 as a battery electric vehicle', async () => {
    const d = await catalog.decodeVin(MODEL_3);
    assert.equal(d?.id, 'tesla_model-3_2017');
    assert.equal(d?.powertrainType, 'BEV');
  });

  it('tells hybrids, plug-in hybrids and fuel cells apart', async () => {
    // Check digits in these are wrong on purpose: decoding must not depend on them.
    assert.equal((await catalog.decodeVin('JTDKN3DU0A0000000'))?.powertrainType, 'HEV'); // 2010 Prius
    assert.equal((await catalog.decodeVin('1G1RA6E40EU000000'))?.powertrainType, 'PHEV'); // 2014 Volt
    assert.equal((await catalog.decodeVin('JTDBVRBD0JA000000'))?.powertrainType, 'FCEV'); // 2018 Mirai
  });

  it('trims and upper-cases the VIN', async () => {
    assert.equal((await catalog.decodeVin(` ${HONDA.toLowerCase()} `))?.id, 'honda_accord_2003');
  });

  it('decodes a VIN whose position 9 is a letter, as outside North America', async () => {
    assert.equal((await catalog.decodeVin('1HGCM826Z3A004352'))?.id, 'honda_accord_2003');
  });

  it('cannot decode a VIN with an unknown manufacturer code', async () => {
    assert.equal(await catalog.decodeVin('00000000000000000'), null);
    assert.equal(await catalog.decodeVin('ZZZ00000000000000'), null);
  });

  it('cannot decode a VIN without a model year', async () => {
    // Position 10 "0" means the year is not encoded (common outside North America).
    assert.equal(await catalog.decodeVin('1HGCM82630A004352'), null);
  });

  it('returns null for a malformed VIN', async () => {
    assert.equal(await catalog.decodeVin('1HGCM82633A00435O'), null);
    assert.equal(await catalog.decodeVin('1HGCM82633A00435'), null);
  });

  it('shares one decode between concurrent and repeated requests', async () => {
    const [a, b] = await Promise.all([catalog.decodeVin(BRONCO), catalog.decodeVin(BRONCO)]);
    assert.equal(a, b);
    assert.equal(await catalog.decodeVin(BRONCO), a);
  });
});

describe('createDefinitionCatalog', () => {
  it('reports a database it cannot load through ready() and every call', async () => {
    const broken = await createDefinitionCatalog({ dbPath: join(tmpdir(), 'no-such-vpic-database.db.gz') });
    await assert.rejects(broken.ready(), /ENOENT/);
    await assert.rejects(broken.findById('ford_bronco_2021'), /ENOENT/);
    await assert.rejects(broken.decodeVin(HONDA), /ENOENT/);
    await broken.close();
  });

  it('refuses calls once closed', async () => {
    const broken = await createDefinitionCatalog({ dbPath: join(tmpdir(), 'no-such-vpic-database.db.gz') });
    await broken.close();
    await assert.rejects(broken.ready(), /closed/);
    await assert.rejects(broken.findById('ford_bronco_2021'), /closed/);
  });
});
