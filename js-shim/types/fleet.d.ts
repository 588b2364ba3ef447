/**
 * Fleet reports' backend side, for Node: `require('mp-request/fleet')` (docs/fleet.md). It checks, merges and
 * summarises the reports clients send with `report: { path }`, with the code the clients wrote them with.
 */

/** Reports merged per time window, the last `windows` windows kept. */
export class Fleet {
  /** Windows of `windowMs` (1000..86400000), the last `windows` (1..10080) kept; throws on other values. */
  constructor(windowMs: number, windows: number);
  /** Checks report `text` and merges it into the window of `nowMs` (your server's clock); throws an Error saying why a report is refused. */
  add(text: string, nowMs: number): void;
  /** The fleet view as JSON text: `total`, the `series` of windows, and `paths` slowest first. */
  summary(): string;
  /** Frees the wasm memory it holds (or let FinalizationRegistry do it). */
  free(): void;
}

/** Why report `text` would be refused, or undefined when it is a valid report. */
export function checkReport(text: string): string | undefined;

/** The fleet view of `reports` merged as one window of `windowMs`; throws on the first refused report. */
export function summarise(reports: string[], windowMs: number): string;
