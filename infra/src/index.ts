/** @suido/infra: how Suido runs. The all-in-one launcher for newcomers and tests. */
export { startAllInOne, type AllInOne } from './all-in-one/all-in-one.ts';
export { loadAllInOneConfig, type AllInOneConfig } from './all-in-one/all-in-one-config.ts';
export { prepareFleetAccess, FLEET_GATEWAY_ID } from './all-in-one/fleet-access.ts';
