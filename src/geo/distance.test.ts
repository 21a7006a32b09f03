import { describe, expect, it } from 'vitest';
import { distanceKm } from './distance.js';

const frankfurt = { lat: 50.11, lon: 8.68 };
const singapore = { lat: 1.35, lon: 103.82 };

describe('distanceKm', () => {
  it('Frankfurt–Singapore ≈ 10,260 km', () => {
    const d = distanceKm(frankfurt, singapore);
    expect(Math.abs(d - 10_260) / 10_260).toBeLessThan(0.02);
  });
  it('is symmetric, zero on the spot, half the circumference antipodally', () => {
    expect(distanceKm(singapore, frankfurt)).toBeCloseTo(distanceKm(frankfurt, singapore), 9);
    expect(distanceKm(frankfurt, frankfurt)).toBe(0);
    expect(distanceKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * 6371.0088, 3);
    expect(distanceKm({ lat: 90, lon: 0 }, { lat: -90, lon: 0 })).toBeCloseTo(Math.PI * 6371.0088, 3);
  });
  it('crosses the antimeridian the short way', () => {
    // Fiji (178.44 E) to Samoa (171.76 W): ~1,150 km, not ~38,000.
    expect(distanceKm({ lat: -18.14, lon: 178.44 }, { lat: -13.83, lon: -171.76 })).toBeLessThan(1_200);
  });
  it('is accurate at short range', () => {
    // 0.001° of latitude ≈ 111 m.
    expect(distanceKm({ lat: 10, lon: 10 }, { lat: 10.001, lon: 10 }) * 1000).toBeCloseTo(111.2, 0);
  });
});
