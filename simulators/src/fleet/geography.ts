import { gaussian } from '../random/distributions.ts';
import type { Rng } from '../random/prng.ts';

/** Hiroshima city centre: the demo fleet's service area. */
export const HIROSHIMA = { lat: 34.39, lon: 132.45 } as const;

const KM_PER_DEG_LAT = 111.32;
const KM_PER_DEG_LON = KM_PER_DEG_LAT * Math.cos((HIROSHIMA.lat * Math.PI) / 180);
/** District centres sit on a ring this far from the city centre; the first district is the centre itself. */
const DISTRICT_RING_KM = 6;
/** Spread of devices around their district centre. */
const DEVICE_SPREAD_KM = 1.2;

export interface LatLon {
  readonly lat: number;
  readonly lon: number;
}

/** Centre of the district at `index` of `count`, fixed by position so every run places it alike. */
export function districtCentre(index: number, count: number): LatLon {
  if (index === 0 || count <= 1) return HIROSHIMA;
  const angle = (2 * Math.PI * (index - 1)) / (count - 1);
  return {
    lat: HIROSHIMA.lat + (DISTRICT_RING_KM * Math.sin(angle)) / KM_PER_DEG_LAT,
    lon: HIROSHIMA.lon + (DISTRICT_RING_KM * Math.cos(angle)) / KM_PER_DEG_LON,
  };
}

/** A device position scattered around its district centre, rounded to ~1 m. */
export function placeNear(centre: LatLon, rng: Rng): LatLon {
  const round = (x: number) => Math.round(x * 1e5) / 1e5;
  return {
    lat: round(centre.lat + (DEVICE_SPREAD_KM * gaussian(rng)) / KM_PER_DEG_LAT),
    lon: round(centre.lon + (DEVICE_SPREAD_KM * gaussian(rng)) / KM_PER_DEG_LON),
  };
}
