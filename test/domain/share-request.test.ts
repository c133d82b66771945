import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deriveShares, parseExpiresAt, parseGrantee, parsePrivilegeIds, type ShareRequest } from '../../src/domain/share-request.ts';

const now = new Date('2030-01-01T00:00:00Z');
const B = '0x' + 'b'.repeat(40);
const at = (s: number) => new Date(now.getTime() + s * 1000);
const req = (id: string, o: Partial<ShareRequest>): ShareRequest => ({
  id,
  action: 'grant',
  grantee: B,
  privileges: [1],
  expires: now.getTime() / 1000 + 3600,
  status: 'Confirmed',
  createdAt: at(-100),
  updatedAt: at(-99),
  ...o,
});

describe('share request parsing', () => {
  it('accepts known privilege ids from a query or a body, sorted without repeats', () => {
    assert.deepEqual(parsePrivilegeIds('3,1,3'), { ok: true, value: [1, 3] });
    assert.deepEqual(parsePrivilegeIds([8, '2']), { ok: true, value: [2, 8] });
  });

  it('refuses unknown, empty or malformed privilege lists', () => {
    for (const bad of ['99', '', '1,x', [], [0], '1.5', null]) assert.equal(parsePrivilegeIds(bad).ok, false, JSON.stringify(bad));
    fc.assert(fc.property(fc.integer({ min: 9, max: 1e6 }), (id) => !parsePrivilegeIds(String(id)).ok));
  });

  it('takes addresses in any case and nothing else as grantee', () => {
    assert.deepEqual(parseGrantee('0x' + 'AB'.repeat(20)), { ok: true, value: '0x' + 'ab'.repeat(20) });
    for (const bad of ['0x12', 'b'.repeat(40), 42, undefined]) assert.equal(parseGrantee(bad).ok, false);
  });

  it('wants expiresAt in RFC 3339, in the future and within the maximum', () => {
    assert.deepEqual(parseExpiresAt('2030-01-02T00:00:00Z', now, 365), { ok: true, value: Date.parse('2030-01-02T00:00:00Z') / 1000 });
    assert.equal(parseExpiresAt('2030-01-01T02:00:00+02:00', now, 365).ok, false); // == now
    assert.equal(parseExpiresAt('2031-01-02T00:00:00Z', now, 365).ok, false);
    assert.equal(parseExpiresAt('2030-01-02', now, 365).ok, false);
  });
});

describe('deriveShares', () => {
  const exp = now.getTime() / 1000 + 3600;
  const held = [{ grantee: B, privilege: 1, expiry: new Date(exp * 1000) }];

  it('is Active while the chain holds the grant, Pending or Failed by its request otherwise', () => {
    assert.deepEqual(deriveShares([req('a', {})], held, now).map((s) => s.status), ['Active']);
    assert.deepEqual(deriveShares([req('a', { status: 'Submitted' })], [], now).map((s) => s.status), ['Pending']);
    assert.deepEqual(deriveShares([req('a', { status: 'Failed' })], [], now).map((s) => s.status), ['Failed']);
  });

  it('is Revoked once the privileges are gone before their expiry (a revocation or a transfer)', () => {
    const revoke = req('r', { action: 'revoke', expires: 0, createdAt: at(-50), updatedAt: at(-49) });
    assert.deepEqual(deriveShares([req('a', {}), revoke], [], now).map((s) => [s.requestId, s.status]), [['a', 'Revoked']]);
    assert.deepEqual(deriveShares([req('a', {})], [], now).map((s) => s.status), ['Revoked']);
  });

  it('is Expired after its expiry, and drops ended shares after 30 days', () => {
    const later = new Date(now.getTime() + 7200_000);
    assert.deepEqual(deriveShares([req('a', {})], held, later).map((s) => s.status), ['Expired']);
    assert.deepEqual(deriveShares([req('a', {})], held, new Date(now.getTime() + 31 * 86_400_000)), []);
  });

  it('lists privileges granted on chain without a request, with no requestId', () => {
    const [s] = deriveShares([], held, now);
    assert.deepEqual(s && [s.status, s.requestId, s.privileges.map((p) => p.id)], ['Active', null, [1]]);
  });
});
