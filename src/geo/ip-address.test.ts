import { describe, expect, it } from 'vitest';
import { CidrSet, PRIVATE_RANGES, ipv6Groups, isPrivateIp, normalizeIp, parseCidr } from './ip-address.js';

describe('normalizeIp', () => {
  it('keeps IPv4, unmaps IPv4-mapped IPv6 in every spelling', () => {
    expect(normalizeIp('203.0.113.7')).toBe('203.0.113.7');
    expect(normalizeIp(' 203.0.113.7 ')).toBe('203.0.113.7');
    expect(normalizeIp('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(normalizeIp('::FFFF:1.2.3.4')).toBe('1.2.3.4');
    expect(normalizeIp('0:0:0:0:0:ffff:0102:0304')).toBe('1.2.3.4');
    expect(normalizeIp('[::ffff:1.2.3.4]')).toBe('1.2.3.4');
  });
  it('writes IPv6 in RFC 5952 form', () => {
    expect(normalizeIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(normalizeIp('2001:0db8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1');
    expect(normalizeIp('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1'); // a single zero group stays
    expect(normalizeIp('::')).toBe('::');
    expect(normalizeIp('::1')).toBe('::1');
    expect(normalizeIp('[2001:db8::1]')).toBe('2001:db8::1');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeIp('::1.2.3.4')).toBe('::102:304'); // IPv4-compatible (deprecated) is not mapped
  });
  it('rejects what is not an address', () => {
    for (const bad of [undefined, '', 'unknown', '_hidden', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4:80', '2001:db8::1::1', ':1', '1:', '[::1', 'g::1', '12345::']) {
      expect(normalizeIp(bad), String(bad)).toBeUndefined();
    }
  });
});

describe('ipv6Groups', () => {
  it('expands :: anywhere and a dotted tail', () => {
    expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('1::2')).toEqual([1, 0, 0, 0, 0, 0, 0, 2]);
    expect(ipv6Groups('1:2:3:4:5:6:7::')).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect(ipv6Groups('::ffff:10.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]);
    expect(ipv6Groups('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
  it('refuses malformed text', () => {
    for (const bad of ['', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '1:2:3:4:5:6:7', '::1.2.3', '::1.2.3.256', '1:2:3:4:5:6:7:1.2.3.4', 'x::']) {
      expect(ipv6Groups(bad), bad).toBeUndefined();
    }
  });
});

describe('parseCidr / CidrSet', () => {
  it('parses networks and bare addresses', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('192.0.2.1')).toEqual({ address: '192.0.2.1', prefix: 32, family: 'ipv4' });
    expect(parseCidr('2001:DB8::/32')).toEqual({ address: '2001:db8::', prefix: 32, family: 'ipv6' });
    expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    expect(parseCidr('::ffff:10.0.0.0/104')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', '2001:db8::/129', '::ffff:10.0.0.0/95', 'example.com', '', '10.0.0.0/-1']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });
  it('matches v4 and v6, host bits ignored, mapped addresses as IPv4', () => {
    const set = new CidrSet(['10.1.2.3/8', '2001:db8::/32', '192.0.2.7']);
    expect(set.has('10.200.0.1')).toBe(true);
    expect(set.has('::ffff:10.200.0.1')).toBe(true);
    expect(set.has('11.0.0.1')).toBe(false);
    expect(set.has('2001:db8:ffff::1')).toBe(true);
    expect(set.has('2001:db9::1')).toBe(false);
    expect(set.has('192.0.2.7')).toBe(true);
    expect(set.has('192.0.2.8')).toBe(false);
    expect(set.has('garbage')).toBe(false);
    expect(new CidrSet([]).has('10.0.0.1')).toBe(false);
  });
  it('reports every bad entry at once', () => {
    expect(() => new CidrSet(['10.0.0.0/8', 'nope', '1.2.3.4/40'])).toThrow(/"nope", "1\.2\.3\.4\/40"/);
  });
});

describe('isPrivateIp', () => {
  const inside = [
    '0.1.2.3',
    '10.0.0.1',
    '100.64.0.1',
    '100.127.255.255',
    '127.0.0.1',
    '169.254.1.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '::',
    '::1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'febf::1',
    '::ffff:192.168.0.1',
    '::ffff:127.0.0.1',
  ];
  const outside = ['8.8.8.8', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '192.169.0.1', '169.253.0.1', '11.0.0.0', '2001:4860:4860::8888', 'fec0::1', '::2', 'garbage'];
  it('knows loopback, RFC 1918, CGNAT, link-local, ULA, unspecified', () => {
    for (const ip of inside) expect(isPrivateIp(ip), ip).toBe(true);
    for (const ip of outside) expect(isPrivateIp(ip), ip).toBe(false);
  });
  it('agrees with PRIVATE_RANGES matched by a CidrSet', () => {
    const set = new CidrSet(PRIVATE_RANGES);
    for (const ip of [...inside, ...outside]) expect(isPrivateIp(ip), ip).toBe(set.has(ip));
  });
});
