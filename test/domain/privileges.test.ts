import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PRIVILEGE_IDS, PRIVILEGES, grantAccess, isPrivilegeId, privilegeById } from '../../src/domain/privileges.ts';

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

describe('grantee access to a route that needs a privilege', () => {
  const what = "read this vehicle's error codes";
  it('allows a grantee holding the privilege, whatever else it holds', () => {
    assert.deepEqual(grantAccess([1], 1, what), { allowed: true });
    assert.deepEqual(grantAccess([3, 1, 4], 1, what), { allowed: true });
  });

  it('answers 404 to a caller holding nothing, as for a vehicle that does not exist', () => {
    assert.deepEqual(grantAccess([], 1, what), { allowed: false, status: 404 });
  });

  it('answers 403 naming the missing privilege and what the grantee holds', () => {
    const a = grantAccess([4, 3, 3], 1, what);
    assert.equal(a.allowed, false);
    assert.equal(a.allowed === false && a.status, 403);
    assert.equal(
      a.allowed === false && a.status === 403 && a.message,
      "privilege 1 (VEHICLE_NON_LOCATION_DATA) required to read this vehicle's error codes; your address holds " +
        '3 (VEHICLE_CURRENT_LOCATION), 4 (VEHICLE_ALL_TIME_LOCATION) on this vehicle. Ask its owner to share privilege 1.',
    );
  });

  it('names a privilege the catalogue does not know by its number', () => {
    const a = grantAccess([42], 2, 'send commands');
    assert.match(a.allowed === false && a.status === 403 ? a.message : '', /^privilege 2 \(VEHICLE_COMMANDS\) required to send commands; your address holds 42 \(PRIVILEGE_42\)/);
  });
});
