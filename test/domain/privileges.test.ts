import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PRIVILEGE_IDS, PRIVILEGES, isPrivilegeId, privilegeById } from '../../src/domain/privileges.ts';

describe('privilege catalogue', () => {
  it('lists DIMO’s vehicle privileges 1–8 in id order', () => {
    assert.deepEqual(PRIVILEGE_IDS, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(
      PRIVILEGES.map((p) => [p.id, p.name]),
      [
        [1, 'VEHICLE_NON_LOCATION_DATA'],
        [2, 'VEHICLE_COMMANDS'],
        [3, 'VEHICLE_CURRENT_LOCATION'],
        [4, 'VEHICLE_ALL_TIME_LOCATION'],
        [5, 'VEHICLE_VIN_CREDENTIAL'],
        [6, 'VEHICLE_LIVE_LOCATION'],
        [7, 'VEHICLE_RAW_DATA'],
        [8, 'VEHICLE_APPROXIMATE_LOCATION'],
      ],
    );
  });

  it('describes every privilege in one sentence', () => {
    for (const p of PRIVILEGES) assert.match(p.description, /^[A-Z].{10,}\.$/, p.name);
  });

  it('finds privileges by number or bigint id and knows no others', () => {
    assert.equal(privilegeById(3)?.name, 'VEHICLE_CURRENT_LOCATION');
    assert.equal(privilegeById(8n)?.name, 'VEHICLE_APPROXIMATE_LOCATION');
    for (const id of [0, 9, -1, 1.5, Number.NaN, 2n ** 256n - 1n, -3n]) {
      assert.equal(privilegeById(id), undefined, String(id));
      assert.equal(isPrivilegeId(id), false, String(id));
    }
    assert.equal(isPrivilegeId(1), true);
  });

  it('cannot be changed by a caller', () => {
    assert.throws(() => (PRIVILEGES as Privilege[]).push({ id: 9, name: 'X', description: 'X.' }), TypeError);
    assert.throws(() => {
      (PRIVILEGES[0] as { name: string }).name = 'X';
    }, TypeError);
  });
});

type Privilege = (typeof PRIVILEGES)[number];
