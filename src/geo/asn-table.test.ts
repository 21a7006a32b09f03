import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsnRangeTable } from './asn-table.js';

describe('AsnRangeTable', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-asn-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  it('reads v4 and v6 ranges, quoted names, CRLF, and skips bad lines', async () => {
    const v4 = await file(
      'v4.csv',
      [
        '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."',
        '2.26.200.0,2.26.215.255,201907,"LLC ""SPUTNIK"""\r',
        'not,a,range',
        '3.0.0.0,3.0.0.255,notanumber,X',
        '8.8.8.0,8.8.8.255,15169,Google LLC',
        '9.9.9.0,9.9.9.255,19281',
        '',
      ].join('\n'),
    );
    const v6 = await file('v6.csv', '2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n2c0f:fff0::,2c0f:fff0:ffff:ffff:ffff:ffff:ffff:ffff,37125,Layer3 Limited\n');
    const table = await AsnRangeTable.fromCsv([v4, v6]);
    expect(table.size).toBe(6);
    expect(table.skipped).toBe(2);
    expect(table.lookup('1.0.0.1')).toEqual({ asn: 13335, org: 'Cloudflare, Inc.' });
    expect(table.lookup('2.26.210.1')).toEqual({ asn: 201907, org: 'LLC "SPUTNIK"' });
    expect(table.lookup('8.8.8.8')).toEqual({ asn: 15169, org: 'Google LLC' });
    expect(table.lookup('9.9.9.9')).toEqual({ asn: 19281 });
    expect(table.lookup('2001:4860:4860::8888')).toEqual({ asn: 15169, org: 'Google LLC' });
    expect(table.lookup('2c0f:fff0:1::')).toEqual({ asn: 37125, org: 'Layer3 Limited' });
  });

  it('misses between, before and after ranges, and on range edges is exact', async () => {
    const table = await AsnRangeTable.fromCsv([await file('edges.csv', '10.0.0.0,10.0.0.255,1,A\n10.0.2.0,10.0.2.255,2,B\n')]);
    expect(table.lookup('9.255.255.255')).toBeUndefined();
    expect(table.lookup('10.0.0.0')?.asn).toBe(1);
    expect(table.lookup('10.0.0.255')?.asn).toBe(1);
    expect(table.lookup('10.0.1.0')).toBeUndefined();
    expect(table.lookup('10.0.2.255')?.asn).toBe(2);
    expect(table.lookup('10.0.3.0')).toBeUndefined();
    expect(table.lookup('255.255.255.255')).toBeUndefined();
    expect(table.lookup('2001:db8::1')).toBeUndefined();
  });

  it('sorts unsorted input', async () => {
    const table = await AsnRangeTable.fromCsv([
      await file('unsorted.csv', '30.0.0.0,30.255.255.255,3,C\n10.0.0.0,10.255.255.255,1,A\n20.0.0.0,20.255.255.255,2,B\nffff::,ffff::ff,6,F\n1::,1::ff,5,E\n'),
    ]);
    expect([table.lookup('10.1.1.1')?.asn, table.lookup('20.1.1.1')?.asn, table.lookup('30.1.1.1')?.asn]).toEqual([1, 2, 3]);
    expect([table.lookup('1::7')?.asn, table.lookup('ffff::7')?.asn]).toEqual([5, 6]);
  });

  it('refuses a file with no range in it, and a missing file', async () => {
    await expect(AsnRangeTable.fromCsv([await file('empty.csv', 'hello\nworld\n')])).rejects.toThrow(/no IP range/);
    await expect(AsnRangeTable.fromCsv([join(dir, 'absent.csv')])).rejects.toThrow(/ENOENT/);
  });
});
