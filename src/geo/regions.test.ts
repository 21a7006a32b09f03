import { describe, expect, it } from 'vitest';
import { COUNTRIES } from './countries.js';
import { distanceKm } from './distance.js';
import { REGIONS, countryLocation, knownCountries, normalizeRegion, regionInfo, regionOfCountry } from './regions.js';

// ISO 3166-1 alpha-2, all 249 officially assigned codes, plus XK (Kosovo).
const ISO_3166_1 = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF
GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL
NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST
SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`.split(/\s+/);

describe('regions', () => {
  it('has the 13 Cloudflare load-balancing regions', () => {
    expect(REGIONS.map((r) => r.code).sort()).toEqual(['EEU', 'ENAM', 'ME', 'NAF', 'NEAS', 'NSAM', 'OC', 'SAF', 'SAS', 'SEAS', 'SSAM', 'WEU', 'WNAM']);
    expect(new Set(REGIONS.map((r) => r.name)).size).toBe(13);
  });

  it('accepts our names and Cloudflare codes, any case', () => {
    expect(normalizeRegion('WEU')).toBe('eu-west');
    expect(normalizeRegion('weu')).toBe('eu-west');
    expect(normalizeRegion('eu-west')).toBe('eu-west');
    expect(normalizeRegion(' AP-SOUTHEAST ')).toBe('ap-southeast');
    expect(normalizeRegion('SEAS')).toBe('ap-southeast');
    expect(normalizeRegion('OC')).toBe('oceania');
    expect(normalizeRegion('europe')).toBeUndefined();
    expect(normalizeRegion('')).toBeUndefined();
    for (const r of REGIONS) {
      expect(normalizeRegion(r.code)).toBe(r.name);
      expect(regionInfo(r.code)).toBe(r);
    }
  });

  it('covers every ISO 3166-1 country (plus XK), each with a known region and a point', () => {
    expect(ISO_3166_1).toHaveLength(249);
    const known = new Set(REGIONS.map((r) => r.name));
    expect(knownCountries()).toEqual([...ISO_3166_1, 'XK'].sort());
    for (const iso2 of knownCountries()) {
      const region = regionOfCountry(iso2);
      expect(region && known.has(region), iso2).toBe(true);
      const loc = countryLocation(iso2);
      expect(loc, iso2).toBeDefined();
      expect(Math.abs(loc!.lat) <= 90 && Math.abs(loc!.lon) <= 180, iso2).toBe(true);
    }
  });

  it('uses every region', () => {
    const used = new Set(Object.values(COUNTRIES).map(([r]) => r));
    expect(used.size).toBe(13);
  });

  it('maps well-known countries as Cloudflare does', () => {
    const expected: Record<string, string> = {
      US: 'us-east',
      CA: 'us-east',
      MX: 'us-west',
      BR: 'sa-south',
      AR: 'sa-south',
      CO: 'sa-north',
      GB: 'eu-west',
      DE: 'eu-west',
      FR: 'eu-west',
      PL: 'eu-east',
      RU: 'eu-east',
      AE: 'me',
      SA: 'me',
      EG: 'af-north',
      NG: 'af-north',
      ZA: 'af-south',
      KE: 'af-south',
      IN: 'ap-south',
      SG: 'ap-southeast',
      ID: 'ap-southeast',
      JP: 'ap-northeast',
      CN: 'ap-northeast',
      KR: 'ap-northeast',
      AU: 'oceania',
      NZ: 'oceania',
    };
    for (const [iso2, region] of Object.entries(expected)) expect(regionOfCountry(iso2), iso2).toBe(region);
    expect(regionOfCountry('de')).toBe('eu-west');
    expect(regionOfCountry('ZZ')).toBeUndefined();
    expect(countryLocation('zz')).toBeUndefined();
  });

  it('places each country within reach of its region hub', () => {
    // A net for typos in the table (a flipped sign puts a country on another continent): every
    // point lies within 7,000 km of its region's hub; only Pitcairn, alone mid-Pacific, is further.
    for (const iso2 of knownCountries()) {
      if (iso2 === 'PN') continue;
      const own = regionInfo(regionOfCountry(iso2)!)!;
      const d = distanceKm(countryLocation(iso2)!, own.location);
      expect(d, `${iso2} is ${Math.round(d)} km from the ${own.name} hub`).toBeLessThan(7_000);
    }
  });
});
