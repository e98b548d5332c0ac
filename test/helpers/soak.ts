/**
 * Long loops run at two sizes. By default (CI, `npm test`) each runs the count that still proves
 * its property, so that its file ends within a quarter of its timeout on an idle machine and a
 * loaded one cannot push it over; `SOAK=1` runs the long count, for a soak before a release or
 * after a change to the code the loop exercises. Each loop says why its smaller count suffices.
 */
export const SOAK = process.env.SOAK === '1';

/** `soak` under `SOAK=1`, else `normal`. */
export function soakOr<T>(normal: T, soak: T): T {
  return SOAK ? soak : normal;
}
