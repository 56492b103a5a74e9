/**
 * The leak scenario's quiet PVC sensor (an accelerometer on a PVC main in a
 * quiet street, no leak). Its draws are the same on every run (the scenario's
 * clock starts at a day's midnight: FleetSchedule), and on them the shipped
 * models 2.3.x and 2.4.x (and the unshipped 2.5.0, 2.6.0 and 2.7.0) raise a false leak alert: on the nights its steady
 * background flow noise runs above its usual level its windows score as a
 * leak's (2.4.0: 0.79-0.91 at +2.2 dB against the 0.698 threshold, 8 of 12
 * in a row), and 2.4.1's night verdict on level history raises it too (that
 * night follows one 3 dB quieter than usual: its bands rise ~5 dB, as a new
 * leak's would; issue 3, sessions 12 and 13). Until a
 * model keeps it quiet, the end-to-end tests assert everything else about
 * the scenario's leak alerts without it, and the leak test's "quiet sensors
 * raise none" check for it is a known failure (`it.fails`), which a model
 * that keeps it quiet turns into a failing test to flip.
 */
export const QUIET_PVC_SENSOR = 'S-0003';

export function withoutQuietPvcSensor<T extends { readonly sourceId: string }>(alerts: readonly T[]): T[] {
  return alerts.filter((a) => a.sourceId !== QUIET_PVC_SENSOR);
}
