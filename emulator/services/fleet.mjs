// The backend side of fleet reports, as a team's own Cloud Run service would run it with
// `require('mp-request/fleet')` (here the repository's Node build, dist/node/): a report POSTed to
// REPORT_PATH is checked and merged into the window of the time it arrived (a malformed or oversized
// one is refused with 400 and never stored); VIEW_PATH answers the fleet view for the web admin.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPORT_PATH = '/api/fleet/report';
export const VIEW_PATH = '/api/fleet/view';

const require = createRequire(import.meta.url);
const FLEET_MODULE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'node', 'mp_request_fleet.js');

/**
 * @param {{ windowMs?: number, windows?: number }} [options] windows of 60 s, the last 60 kept by default
 */
export function createFleetService(options = {}) {
  const windowMs = options.windowMs ?? 60_000;
  const windows = options.windows ?? 60;
  /** @type {any} */
  let fleet;
  /** Report texts accepted, in arrival order (what a direct merge must equal). */
  const accepted = [];
  /** Reports refused, with why. */
  const refused = [];

  function fleetModule() {
    if (!existsSync(FLEET_MODULE)) return undefined;
    return require(FLEET_MODULE);
  }

  return {
    accepted,
    refused,
    /** Forgets every report. */
    reset() {
      fleet = undefined;
      accepted.length = 0;
      refused.length = 0;
    },
    /**
     * Answers the fleet paths; undefined for any other request.
     * @param {{ method: string, path: string, raw: string }} req
     * @returns {{ status: number, body: unknown } | undefined}
     */
    handle(req) {
      if (req.path !== REPORT_PATH && req.path !== VIEW_PATH) return undefined;
      const module = fleetModule();
      if (!module) return { status: 503, body: { code: 503, message: 'the fleet module is not built (make build)' } };
      fleet ??= new module.Fleet(windowMs, windows);
      if (req.path === VIEW_PATH) {
        if (req.method !== 'GET') return { status: 405, body: { code: 405, message: 'GET only' } };
        return { status: 200, body: { code: 0, message: 'ok', data: JSON.parse(fleet.summary()) } };
      }
      if (req.method !== 'POST') return { status: 405, body: { code: 405, message: 'POST only' } };
      try {
        fleet.add(req.raw, Date.now());
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        refused.push(why);
        return { status: 400, body: { code: 400, message: `report refused: ${why}` } };
      }
      accepted.push(req.raw);
      return { status: 200, body: { code: 0, message: 'ok' } };
    },
  };
}
