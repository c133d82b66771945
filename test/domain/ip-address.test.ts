import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyAddress, isPublicAddress } from '../../src/domain/ip-address.ts';

const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const v4In = (base: string, bits: number) => {
  const b = base.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - bits);
  return fc.integer({ min: 0, max: size - 1 }).map((i) => dotted(b + i));
};
const hex4 = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
/** An IPv6 address whose first 16 bits are `first` (the rest random). */
const v6With = (first: (n: number) => number) =>
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.array(hex4, { minLength: 7, maxLength: 7 })).map(([a, rest]) => [first(a).toString(16), ...rest].join(':'));

describe('the webhook address classifier', () => {
  it('names the networks webhooks must not reach', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'cgnat'],
      ['169.254.169.254', 'metadata'],
      ['169.254.1.1', 'link-local'],
      ['224.0.0.1', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['255.255.255.255', 'reserved'],
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['::', 'unspecified'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:169.254.169.254', 'metadata'],
      ['64:ff9b::10.0.0.1', 'private'],
      ['2002:c0a8:0101::1', 'private'], // 6to4 of 192.168.1.1
      ['fd00:ec2::254', 'metadata'],
      ['fd12:3456::1', 'private'],
      ['fe80::1%eth0', 'link-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
    ];
    for (const [address, cls] of cases) assert.equal(classifyAddress(address), cls, address);
  });

  it('lets public addresses through', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '2002:0808:0808::1']) {
      assert.equal(classifyAddress(a), 'public', a);
      assert.ok(isPublicAddress(a));
    }
  });

  it('is null for host names and malformed addresses', () => {
    for (const a of ['example.com', 'localhost', '1.2.3', '::g', '', '1.2.3.4.5']) assert.equal(classifyAddress(a), null, a);
  });

  it('classifies every IPv4 and IPv6 address without throwing', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.ipV6()), (a) => typeof classifyAddress(a) === 'string' || classifyAddress(a) === null));
  });

  it('judges an IPv4-mapped or NAT64 IPv6 address by the IPv4 address it carries', () => {
    fc.assert(
      fc.property(fc.ipV4(), (a) => {
        assert.equal(classifyAddress(`::ffff:${a}`), classifyAddress(a));
        assert.equal(classifyAddress(`64:ff9b::${a}`), classifyAddress(a));
      }),
    );
  });

  it('refuses every address of the private, loopback, link-local, CGNAT and multicast ranges', () => {
    const ranges: [string, number, string][] = [
      ['10.0.0.0', 8, 'private'],
      ['172.16.0.0', 12, 'private'],
      ['192.168.0.0', 16, 'private'],
      ['127.0.0.0', 8, 'loopback'],
      ['100.64.0.0', 10, 'cgnat'],
      ['224.0.0.0', 4, 'multicast'],
    ];
    for (const [base, bits, cls] of ranges) fc.assert(fc.property(v4In(base, bits), (a) => classifyAddress(a) === cls && !isPublicAddress(a)));
    fc.assert(fc.property(v4In('169.254.0.0', 16), (a) => !isPublicAddress(a)));
    fc.assert(fc.property(v6With((n) => 0xfc00 | (n & 0x1ff)), (a) => classifyAddress(a) === 'private' || classifyAddress(a) === 'metadata'));
    fc.assert(fc.property(v6With((n) => 0xfe80 | (n & 0x3f)), (a) => classifyAddress(a) === 'link-local'));
    fc.assert(fc.property(v6With((n) => 0xff00 | (n & 0xff)), (a) => classifyAddress(a) === 'multicast'));
  });

  it('treats IPv6 outside global unicast (2000::/3) as not public, unless it carries an IPv4 address', () => {
    const tail = fc.array(hex4, { minLength: 7, maxLength: 7 });
    fc.assert(fc.property(fc.integer({ min: 0x4000, max: 0xffff }), tail, (first, rest) => classifyAddress([first.toString(16), ...rest].join(':')) !== 'public'));
    fc.assert(fc.property(fc.integer({ min: 0x0101, max: 0x1fff }), tail, (first, rest) => classifyAddress([first.toString(16), ...rest].join(':')) !== 'public'));
  });
});
