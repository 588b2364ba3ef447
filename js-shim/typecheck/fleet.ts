// The hand-written types of the fleet module (types/fleet.d.ts, shipped as
// node/mp_request_fleet.d.ts) agree with what wasm-bindgen generated.
import * as generated from '../../pkg-fleet/mp_request_fleet';
import type * as declared from '../types/fleet';

export function fleetTypesAgree(): string {
  const fleet: declared.Fleet = new generated.Fleet(60_000, 60);
  fleet.add('{}', Date.now());
  const check: typeof declared.checkReport = generated.checkReport;
  const summarise: typeof declared.summarise = generated.summarise;
  return `${check('{}')}${summarise([], 60_000)}${fleet.summary()}`;
}
