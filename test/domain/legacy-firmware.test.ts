import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { legacyFirmwareFields } from '../../src/domain/legacy-firmware.ts';

describe('legacyFirmwareFields', () => {
  it('is all null (but the version) while the cloud has offered no release', () => {
    assert.deepEqual(legacyFirmwareFields(null, undefined), { isUpdated: null, shouldUpdate: null, releaseVersion: null });
    assert.deepEqual(legacyFirmwareFields('1.0', undefined), { isUpdated: null, shouldUpdate: null, releaseVersion: '1.0' });
  });

  it('says updated when the device runs the release of the newest task', () => {
    assert.deepEqual(legacyFirmwareFields('1.5', { status: 'Succeeded', toVersion: '1.5' }), { isUpdated: true, shouldUpdate: false, releaseVersion: '1.5' });
  });

  it('says should update when behind and no update is under way', () => {
    assert.deepEqual(legacyFirmwareFields('1.4', { status: 'Failed', toVersion: '1.5' }), { isUpdated: false, shouldUpdate: true, releaseVersion: '1.4' });
    for (const status of ['Pending', 'InProgress']) {
      assert.deepEqual(legacyFirmwareFields('1.4', { status, toVersion: '1.5' }), { isUpdated: false, shouldUpdate: false, releaseVersion: '1.4' });
    }
  });

  it('does not guess when the running version is unknown', () => {
    assert.deepEqual(legacyFirmwareFields(null, { status: 'Failed', toVersion: '1.5' }), { isUpdated: null, shouldUpdate: null, releaseVersion: null });
  });
});
