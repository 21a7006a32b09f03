import { describe, expect, it } from 'vitest';
import type { IpRuleConfig } from '../config/security-schema.js';
import { compileIpRules, needsGeo } from './ip-rules.js';

const rules: IpRuleConfig[] = [
  { action: 'block', cidr: '203.0.113.0/24' },
  { action: 'challenge', country: 'CN' },
  { action: 'block', asn: 64500 },
  { action: 'allow', ip: '203.0.113.7', note: 'office' },
  { action: 'block', cidr: '2001:db8::/32' },
];

describe('IP access rules', () => {
  const match = compileIpRules(rules);

  it('lets an allow rule beat an earlier block', () => {
    expect(match({ ip: '203.0.113.7' })?.rule.action).toBe('allow');
    expect(match({ ip: '203.0.113.7' })?.index).toBe(3);
    expect(match({ ip: '203.0.113.8' })).toMatchObject({ index: 0, rule: { action: 'block' } });
  });

  it('matches by country and ASN, first match wins among the others', () => {
    expect(match({ ip: '198.51.100.1', country: 'CN' })?.rule.action).toBe('challenge');
    expect(match({ ip: '198.51.100.1', country: 'DE', asn: 64500 })?.index).toBe(2);
    expect(match({ ip: '198.51.100.1', country: 'CN', asn: 64500 })?.index).toBe(1);
    expect(match({ ip: '198.51.100.1', country: 'DE' })).toBeUndefined();
  });

  it('matches IPv6 networks and IPv4-mapped addresses', () => {
    expect(match({ ip: '2001:db8:1::5' })?.index).toBe(4);
    expect(match({ ip: '::ffff:203.0.113.9' })?.index).toBe(0);
    expect(match({ ip: '2001:db9::1' })).toBeUndefined();
  });

  it('says when a geo lookup is needed', () => {
    expect(needsGeo(rules)).toBe(true);
    expect(needsGeo([{ action: 'block', cidr: '10.0.0.0/8' }])).toBe(false);
    expect(compileIpRules([])({ ip: '10.0.0.1' })).toBeUndefined();
  });
});
