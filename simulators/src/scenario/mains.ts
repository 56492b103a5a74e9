import { number, object, onlyKeys, show } from './fields.ts';
import { sensorId } from '../sensors/acoustic-sensor.ts';
import { ScenarioError } from './scenario-error.ts';

/**
 * Two sensors on one main, a correlator's pair (DOMAIN.md, "Localisation"):
 * they record in step, at the first one's rate, on the first one's pipe, and
 * a leak on either one's main is one sound both hear at their distances. The
 * registry records them on main `id`, `spacingM` apart along it.
 */
export interface MainSpec {
  readonly id: string;
  /** The first sensor (chainage origin of the pair) and the second, further along the main. */
  readonly sensors: readonly [string, string];
  /** Along the main between the two, m; undefined: drawn (100–300 m on metal, 40–120 m on plastic). */
  readonly spacingM: number | undefined;
}

const MAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u;
const SENSOR_ID = /^S-(\d{4,5})$/u;

export function parseMains(value: unknown, sensors: number): MainSpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ScenarioError('mains', `must be a list, got ${show(value)}`);
  const ids = new Set<string>();
  const paired = new Map<string, string>();
  return value.map((item, i) => {
    const at = `mains[${i}]`;
    const o = object(item, at);
    onlyKeys(o, at, ['id', 'sensors', 'spacingM']);
    if (typeof o.id !== 'string' || !MAIN_ID.test(o.id)) throw new ScenarioError(`${at}.id`, `must be a main's asset id of 1-64 of [A-Za-z0-9._-], got ${show(o.id)}`);
    if (ids.has(o.id)) throw new ScenarioError(`${at}.id`, `names main ${show(o.id)} twice`);
    ids.add(o.id);
    const mainId = o.id;
    if (!Array.isArray(o.sensors) || o.sensors.length !== 2) throw new ScenarioError(`${at}.sensors`, `must be two sensor ids, the pair on this main, got ${show(o.sensors)}`);
    // By number: "S-00001" is S-0001, as the fleet names it.
    const pair = o.sensors.map((s, j) => {
      const field = `${at}.sensors[${j}]`;
      const match = typeof s === 'string' ? SENSOR_ID.exec(s) : null;
      if (!match) throw new ScenarioError(field, `must be a sensor id such as "S-0001", got ${show(s)}`);
      const index = Number(match[1]) - 1;
      if (index < 0 || index >= sensors) throw new ScenarioError(field, `names ${show(s)}, which is not in the fleet (fleet.sensors is ${sensors})`);
      const id = sensorId(index);
      if (paired.has(id)) throw new ScenarioError(field, `${id} is already on main ${show(paired.get(id))}: a sensor listens to one main`);
      paired.set(id, mainId);
      return id;
    });
    return {
      id: mainId,
      sensors: [pair[0]!, pair[1]!] as const,
      spacingM: o.spacingM === undefined ? undefined : number(o.spacingM, `${at}.spacingM`, 0, 30, 2000),
    };
  });
}
