// Fault injection: rules that make the next N matching calls misbehave.

/**
 * @typedef {object} FaultRule
 * @property {'status' | 'reset' | 'delay' | 'malformed' | 'hang'} kind
 *   status: answer `status` (with `retryAfter` seconds if set); reset: destroy the connection;
 *   delay: wait `delayMs`, then answer normally; malformed: 200 with a broken JSON body;
 *   hang: never answer (the caller's timeout fires).
 * @property {number} [count] How many matching calls it affects (default 1).
 * @property {string} [path] Only calls whose path starts with this.
 * @property {string} [service] Only calls to this service.
 * @property {number} [status]
 * @property {number} [retryAfter]
 * @property {number} [delayMs]
 */

export class FaultPlan {
  constructor() {
    /** @type {Required<Pick<FaultRule, 'count'>> & FaultRule[]} */
    this.rules = [];
  }

  /** @param {FaultRule} rule */
  add(rule) {
    const kinds = ['status', 'reset', 'delay', 'malformed', 'hang'];
    if (!kinds.includes(rule.kind)) throw new Error(`unknown fault kind ${rule.kind}; one of ${kinds.join(', ')}`);
    if (rule.kind === 'status' && !(rule.status >= 100 && rule.status <= 599)) throw new Error('status fault needs a status');
    if (rule.kind === 'delay' && !(rule.delayMs >= 0)) throw new Error('delay fault needs delayMs');
    this.rules.push({ count: 1, ...rule });
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
    const i = this.rules.findIndex(
      (r) => (!r.service || r.service === service) && (!r.path || path.startsWith(r.path)),
    );
    if (i < 0) return undefined;
    const rule = this.rules[i];
    rule.count -= 1;
    if (rule.count <= 0) this.rules.splice(i, 1);
    return rule;
  }
}
