/** A point on the Earth in decimal degrees (WGS 84): north and east positive. */
export interface LatLon {
  lat: number;
  lon: number;
}

/** Mean Earth radius (IUGG), km. The sphere is off from the ellipsoid by at most ~0.5%. */
export const EARTH_RADIUS_KM = 6371.0088;

const RAD = Math.PI / 180;

/**
 * Great-circle distance between two points, in km, by the haversine formula (stable for small
 * distances, unlike the spherical law of cosines). Frankfurt–Singapore ≈ 10,260 km.
 */
export function distanceKm(a: LatLon, b: LatLon): number {
  const dLat = (b.lat - a.lat) * RAD;
  const dLon = (b.lon - a.lon) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
