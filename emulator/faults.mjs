// Fault injection: rules that make the next N matching calls misbehave.

/**
 * @typedef {object} FaultRule
 * @property {'status' | 'reset' | 'delay' | 'malformed' | 'hang' | 'flap'} kind
 *   status: answer `status` (with `retryAfter` seconds if set); reset: destroy the connection;
 *   delay: wait `delayMs`, then answer normally; malformed: 200 with a broken JSON body;
 *   hang: never answer (the caller's timeout fires);
 *   flap: a backend that goes down and up: in the first `downMs` of every `periodMs` (counted
 *   from when it was added) matching calls get `status`, the rest of the period they pass.
 * @property {boolean} [after] status, reset, hang, malformed: the service handles the call first, then its
 *   answer is lost or cut off (the failure a POST's retry must not turn into a second order).
 * @property {number} [count] How many matching calls it affects (default 1; flap: unlimited).
 * @property {string} [path] Only calls whose path starts with this.
 * @property {string} [service] Only calls to this service.
 * @property {number} [status]
 * @property {number} [retryAfter]
 * @property {number} [delayMs]
 * @property {number} [periodMs]
 * @property {number} [downMs]
 */

export class FaultPlan {
  constructor() {
    /** @type {Required<Pick<FaultRule, 'count'>> & FaultRule[]} */
    this.rules = [];
  }

  /** @param {FaultRule} rule */
  add(rule) {
    const kinds = ['status', 'reset', 'delay', 'malformed', 'hang', 'flap'];
    if (!kinds.includes(rule.kind)) throw new Error(`unknown fault kind ${rule.kind}; one of ${kinds.join(', ')}`);
    if ((rule.kind === 'status' || rule.kind === 'flap') && !(rule.status >= 100 && rule.status <= 599)) {
      throw new Error(`${rule.kind} fault needs a status`);
    }
    if (rule.kind === 'delay' && !(rule.delayMs >= 0)) throw new Error('delay fault needs delayMs');
    if (rule.after && !['status', 'reset', 'hang', 'malformed'].includes(rule.kind)) throw new Error('only status, reset, hang and malformed faults can come after');
    if (rule.kind === 'flap' && !(rule.periodMs > 0 && rule.downMs >= 0 && rule.downMs <= rule.periodMs)) {
      throw new Error('flap fault needs periodMs > 0 and 0 <= downMs <= periodMs');
    }
    const count = rule.kind === 'flap' ? Infinity : 1;
    this.rules.push({ count, ...rule, addedAt: Date.now() });
  }

  clear() {
    this.rules.length = 0;
  }

  /**
   * Takes the first rule matching this call, spending one of its count.
   * @param {string} service
   * @param {string} path
   * @returns {FaultRule | undefined}
   */
  take(service, path) {
    const now = Date.now();
    const i = this.rules.findIndex(
      (r) => (!r.service || r.service === service) && (!r.path || path.startsWith(r.path)) &&
        (r.kind !== 'flap' || (now - r.addedAt) % r.periodMs < r.downMs),
    );
    if (i < 0) return undefined;
    const rule = this.rules[i];
    if (rule.kind === 'flap') return { ...rule, kind: 'status' };
    rule.count -= 1;
    if (rule.count <= 0) this.rules.splice(i, 1);
    return rule;
  }
}
