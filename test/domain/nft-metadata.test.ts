import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  aftermarketDeviceMetadata,
  canonicalJson,
  metadataEtag,
  syntheticDeviceMetadata,
  vehicleMetadata,
} from '../../src/domain/nft-metadata.ts';
import type { NftMetadata } from '../../src/domain/nft-metadata.ts';

const BASE = 'https://devices-api.example.com';
const ONES = '0x1111111111111111111111111111111111111111';
const FA8 = '0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC';
const ZERO = '0x0000000000000000000000000000000000000000';

describe('aftermarketDeviceMetadata', () => {
  const ad = (address: string, extra: { manufacturerName?: string | null; baseUrl?: string } = {}) =>
    aftermarketDeviceMetadata({ baseUrl: BASE, tokenId: 7n, address, serial: 'SN-0001', ...extra });

  it('names the device with three words from its address', () => {
    assert.equal(ad(ONES).name, 'baby mass dust');
    assert.equal(ad(FA8).name, 'whisper garage brother');
    assert.equal(ad(ZERO).name, 'abandon abandon abandon');
  });

  it('describes the device as DIMO hardware under its name', () => {
    assert.equal(ad(FA8).description, 'whisper garage brother, a DIMO hardware device.');
  });

  it('points the image at the device image route', () => {
    assert.equal(ad(ONES).image, `${BASE}/v1/aftermarket/device/7/image`);
  });

  it('does not double the slash when the base URL ends with one', () => {
    assert.equal(ad(ONES, { baseUrl: `${BASE}//` }).image, `${BASE}/v1/aftermarket/device/7/image`);
  });

  it('lists the checksummed address then the serial, whatever case the address was stored in', () => {
    assert.deepEqual(ad(FA8.toLowerCase()).attributes, [
      { trait_type: 'Ethereum Address', value: FA8 },
      { trait_type: 'Serial Number', value: 'SN-0001' },
    ]);
  });

  it('appends the manufacturer after the original two attributes when known', () => {
    assert.deepEqual(
      ad(FA8, { manufacturerName: 'AutoPi' }).attributes.map((a) => a.trait_type),
      ['Ethereum Address', 'Serial Number', 'Manufacturer'],
    );
    assert.equal(ad(FA8, { manufacturerName: 'AutoPi' }).attributes[2]?.value, 'AutoPi');
  });

  it('omits the manufacturer when it is missing or blank', () => {
    for (const manufacturerName of [undefined, null, '', '   ']) {
      assert.equal(ad(FA8, { manufacturerName }).attributes.length, 2);
    }
  });

  it('writes token ids beyond 2^53 with every digit', () => {
    const tokenId = 2n ** 200n + 1n;
    const body = aftermarketDeviceMetadata({ baseUrl: BASE, tokenId, address: ONES, serial: 's' });
    assert.equal(body.image, `${BASE}/v1/aftermarket/device/${tokenId.toString()}/image`);
  });

  it('refuses a negative token id or a malformed address', () => {
    assert.throws(() => aftermarketDeviceMetadata({ baseUrl: BASE, tokenId: -1n, address: ONES, serial: 's' }), RangeError);
    assert.throws(() => aftermarketDeviceMetadata({ baseUrl: BASE, tokenId: 1n, address: '0x12', serial: 's' }), TypeError);
  });
});

describe('syntheticDeviceMetadata', () => {
  const sd = syntheticDeviceMetadata({
    tokenId: 3n,
    address: FA8.toLowerCase(),
    integrationTokenId: 2n,
    vehicleTokenId: 12345678901234567890n,
  });

  it('names and describes the device as a DIMO synthetic device', () => {
    assert.equal(sd.name, 'whisper garage brother');
    assert.equal(sd.description, 'whisper garage brother, a DIMO synthetic device.');
  });

  it('has no image, as in the original API', () => {
    assert.equal('image' in sd, false);
  });

  it('lists the checksummed address, then the integration and vehicle token ids as exact digits', () => {
    assert.deepEqual(sd.attributes, [
      { trait_type: 'Ethereum Address', value: FA8 },
      { trait_type: 'Integration', value: '2' },
      { trait_type: 'Vehicle', value: '12345678901234567890' },
    ]);
  });
});

describe('vehicleMetadata', () => {
  const v = (name?: string | null) =>
    vehicleMetadata({ baseUrl: BASE, tokenId: 42n, make: 'Ford', model: 'F-150', year: 2021, name });

  it('uses the owner-given name', () => {
    assert.equal(v('Big Red').name, 'Big Red');
  });

  it('falls back to "Make Model Year" when the name is missing or blank', () => {
    for (const name of [undefined, null, '', '  ']) assert.equal(v(name).name, 'Ford F-150 2021');
  });

  it('describes the vehicle by make, model and year, even when it has a name', () => {
    assert.equal(v('Big Red').description, 'Ford F-150 2021, a DIMO vehicle.');
  });

  it('points the image at the vehicle image route', () => {
    assert.equal(v().image, `${BASE}/v1/vehicle/42/image`);
  });

  it('lists make, model and year as strings in that order', () => {
    assert.deepEqual(v().attributes, [
      { trait_type: 'Make', value: 'Ford' },
      { trait_type: 'Model', value: 'F-150' },
      { trait_type: 'Year', value: '2021' },
    ]);
  });
});

describe('metadataEtag', () => {
  const body: NftMetadata = {
    name: 'baby mass dust',
    description: 'baby mass dust, a DIMO hardware device.',
    image: `${BASE}/v1/aftermarket/device/1/image`,
    attributes: [{ trait_type: 'Serial Number', value: 'x' }],
  };

  it('is a strong, quoted entity tag', () => {
    assert.match(metadataEtag(body), /^"[A-Za-z0-9_-]{22}"$/);
  });

  it('is the same for equal bodies, however their keys were ordered', () => {
    const reordered: NftMetadata = {
      attributes: [{ value: 'x', trait_type: 'Serial Number' }],
      image: body.image,
      description: body.description,
      name: body.name,
    };
    assert.equal(metadataEtag(reordered), metadataEtag(body));
    assert.equal(metadataEtag(structuredClone(body)), metadataEtag(body));
  });

  it('changes when any value changes', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        const withSerial = (s: string): NftMetadata => ({ ...body, attributes: [{ trait_type: 'Serial Number', value: s }] });
        assert.notEqual(metadataEtag(withSerial(a)), metadataEtag(withSerial(b)));
      }),
    );
  });

  it('changes when attributes are reordered, since order is part of the body', () => {
    const two = aftermarketDeviceMetadata({ baseUrl: BASE, tokenId: 1n, address: ONES, serial: 's' });
    const swapped = { ...two, attributes: [...two.attributes].reverse() };
    assert.notEqual(metadataEtag(swapped), metadataEtag(two));
  });

  it('tells apart bodies that differ only by having an image', () => {
    const { image: _image, ...noImage } = body;
    assert.notEqual(metadataEtag(noImage), metadataEtag(body));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }, 3] }), '{"a":[{"c":2,"d":1},3],"b":1}');
  });

  it('drops undefined members, so an absent image equals an undefined one', () => {
    assert.equal(canonicalJson({ a: 1, image: undefined }), canonicalJson({ a: 1 }));
  });
});
