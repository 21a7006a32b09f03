/**
 * IP access rules (Cloudflare's): allow, block or challenge by address, network, country or ASN.
 * An `allow` that matches beats every other rule (and, in the shield, the security level and the
 * rate limits); among the others the first match wins. Compiled once per config snapshot.
 */
import type { IpRuleConfig } from '../config/security-schema.js';
import { CidrSet } from '../geo/ip-address.js';

export interface IpRuleClient {
  ip: string;
  country?: string;
  asn?: number;
}

export interface IpRuleMatch {
  /** Index in `security.ipRules`, for logs and metrics. */
  index: number;
  rule: IpRuleConfig;
}

export type IpRuleMatcher = (client: IpRuleClient) => IpRuleMatch | undefined;

interface Compiled {
  index: number;
  rule: IpRuleConfig;
  test(client: IpRuleClient): boolean;
}

export function compileIpRules(rules: readonly IpRuleConfig[]): IpRuleMatcher {
  if (rules.length === 0) return () => undefined;
  const compiled: Compiled[] = rules.map((rule, index) => ({ index, rule, test: targetTest(rule) }));
  const allows = compiled.filter((c) => c.rule.action === 'allow');
  const others = compiled.filter((c) => c.rule.action !== 'allow');
  return (client) => {
    for (const c of allows) if (c.test(client)) return c;
    for (const c of others) if (c.test(client)) return c;
    return undefined;
  };
}

function targetTest(rule: IpRuleConfig): (client: IpRuleClient) => boolean {
  if (rule.ip !== undefined || rule.cidr !== undefined) {
    const set = new CidrSet([(rule.ip ?? rule.cidr)!]);
    return (c) => set.has(c.ip);
  }
  if (rule.country !== undefined) {
    const country = rule.country;
    return (c) => c.country === country;
  }
  const asn = rule.asn;
  return (c) => c.asn !== undefined && c.asn === asn;
}

/** Whether any rule needs the client's country or ASN (so the geo lookup runs only then). */
export function needsGeo(rules: readonly IpRuleConfig[]): boolean {
  return rules.some((r) => r.country !== undefined || r.asn !== undefined);
}
