import { describe, expect, it } from 'vitest';
import { networksContain, networksOf, networkText, parseNetwork } from '../../../src/values/cidr.js';

const text = (v: string): string => {
  const p = parseNetwork(v);
  if (!p.ok) throw new Error(p.problem);
  return networkText(p.network);
};

describe('parseNetwork', () => {
  it.each([
    ['10.213.7.0/24', '10.213.7.0/24'],
    ['10.213.7.1', '10.213.7.1/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1/128'],
    ['::/0', '::/0'],
    ['::1', '::1/128'],
    ['fe80::/10', 'fe80::/10'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1/128'],
    ['::ffff:192.0.2.1', '::ffff:c000:201/128'],
  ])('%j is the network %s', (input, expected) => {
    expect(text(input)).toBe(expected);
  });

  it.each([
    [
      '10.213.7.1/24',
      /has host bits set after the \/24 prefix/,
      /write the network, 10\.213\.7\.0\/24, or one address as 10\.213\.7\.1\/32/,
    ],
    ['2001:db8::1/32', /has host bits set/, /2001:db8::\/32/],
    ['10.0.0.0/33', /an IPv4 prefix length is at most 32/, undefined],
    ['2001:db8::/129', /an IPv6 prefix length is at most 128/, undefined],
    ['10.0.0.0/', /the prefix length after "\/" must be a number from 0 to 32/, undefined],
    ['10.0.0.0/8 ', /the prefix length after "\/" must be a number/, undefined],
    ['10.0.0.0/-1', /the prefix length/, undefined],
    ['10.0.0.256/32', /"10\.0\.0\.256" is not an IPv4 or IPv6 address/, undefined],
    ['10.0.0.0/8, 0.0.0.0/0', /is not an IPv4 or IPv6 address|prefix length/, undefined],
    ['fe80::1%eth0', /is not an IPv4 or IPv6 address/, undefined],
    ['any', /"any" is not an IPv4 or IPv6 address/, undefined],
    ['', /is not an IP network/, undefined],
    ['10.0.0.0/8; accept', /prefix length/, undefined],
  ])('%j is refused', (input, problem, hint) => {
    const p = parseNetwork(input);
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.problem).toMatch(problem);
    if (hint) expect(p.hint).toMatch(hint);
  });
});

describe('networksOf (what the nftables template writes)', () => {
  it('splits by family, canonical, and leaves out networks inside another (nftables refuses overlaps)', () => {
    const list = [
      '10.1.0.0/16',
      '2001:db8::/32',
      '10.0.0.0/8',
      '192.0.2.7',
      '2001:db8:1::/48',
      '10.0.0.0/8',
      '198.51.100.0/24',
    ];
    expect(networksOf(list, 4)).toEqual(['10.0.0.0/8', '192.0.2.7/32', '198.51.100.0/24']);
    expect(networksOf(list, 6)).toEqual(['2001:db8::/32']);
    expect(networksOf(['192.0.2.0/24'], 6)).toEqual([]);
  });

  it('throws on anything that is not a network, so a template cannot write it', () => {
    expect(() => networksOf(['10.0.0.0/8', '10.0.0.0/8 } accept; #'], 4)).toThrow(/is not an IP network/);
    expect(() => networksOf([42], 4)).toThrow(/expected an IP network as a string, got 42/);
  });

  it('networksContain', () => {
    const nets = ['10.213.7.0/24', '2001:db8::/32'].map((v) => {
      const p = parseNetwork(v);
      if (!p.ok) throw new Error(p.problem);
      return p.network;
    });
    expect(networksContain(nets, '10.213.7.1')).toBe(true);
    expect(networksContain(nets, '10.213.8.1')).toBe(false);
    expect(networksContain(nets, '2001:db8:5::1')).toBe(true);
    expect(networksContain(nets, 'bastion.example.org')).toBe(false);
  });
});
