/**
 * The one error class every failure of mp-request rejects with. The fields
 * come from the Rust core (kind, user message, retryability); this class only
 * gives them a JS shape.
 */

/**
 * @typedef {object} RequestErrorFields
 * @property {string} kind One of network, timeout, service, init, http, unauthorized, rate_limited, offline, cancelled, invalid.
 * @property {string} message What a user reads (zh-CN by default).
 * @property {string} [detail] What a developer reads: the platform's errMsg or what was invalid.
 * @property {number | null} [code] errCode (cloud) or errno (wx.request), when the platform gave one.
 * @property {number | null} [statusCode] HTTP status, when the backend answered.
 * @property {boolean} [retryable] Whether another attempt could succeed.
 * @property {number} [attempts] Attempts made before giving up.
 * @property {string | null} [route] cloud, http or mock: the route of the last attempt.
 * @property {boolean} [queued] The mutation went to the offline queue (`offline: 'queue'`).
 * @property {number} [queueId] Its id there (see `client.pending()`).
 * @property {object} [explain] Why it went as it did (`debug: true`).
 */

export class RequestError extends Error {
  /**
   * @param {RequestErrorFields} fields
   * @param {unknown} [cause] The raw platform failure, if any.
   */
  constructor(fields, cause) {
    super(fields.message);
    this.name = 'RequestError';
    /** @type {string} */
    this.kind = fields.kind;
    /** @type {string} */
    this.detail = fields.detail || '';
    /** @type {number | null} */
    this.code = fields.code ?? null;
    /** @type {number | null} */
    this.statusCode = fields.statusCode ?? null;
    /** @type {boolean} */
    this.retryable = Boolean(fields.retryable);
    /** @type {number} */
    this.attempts = fields.attempts || 0;
    /** @type {string | null} */
    this.route = fields.route ?? null;
    /** @type {boolean} */
    this.queued = Boolean(fields.queued);
    if (fields.explain !== undefined) {
      /** @type {object | undefined} */
      this.explain = fields.explain;
    }
    if (fields.queueId !== undefined) {
      /** @type {number | undefined} */
      this.queueId = fields.queueId;
    }
    if (cause !== undefined) {
      /** @type {unknown} */
      this.cause = cause;
    }
  }

  /**
   * True for errors of this library, also across realms and bundle copies
   * (where `instanceof` fails).
   * @param {unknown} value
   * @returns {value is RequestError}
   */
  static is(value) {
    return typeof value === 'object' && value !== null && /** @type {any} */ (value).isRequestError === true;
  }
}

/** Brand checked by `RequestError.is`. */
Object.defineProperty(RequestError.prototype, 'isRequestError', { value: true });

/**
 * An `invalid` error raised by the shim itself: only where the engine cannot
 * be asked (the wasm is not loaded yet, or the client was destroyed).
 * @param {string} detail
 * @param {unknown} [cause]
 * @returns {RequestError}
 */
export function invalidError(detail, cause) {
  return new RequestError({ kind: 'invalid', message: `请求参数无效：${detail}`, detail }, cause);
}

/**
 * Wraps what the engine threw. The engine throws plain field objects; anything
 * else means the input could not even be handed to it.
 * @param {unknown} thrown
 * @returns {RequestError}
 */
export function toRequestError(thrown) {
  if (RequestError.is(thrown)) return thrown;
  if (typeof thrown === 'object' && thrown !== null && typeof (/** @type {any} */ (thrown).kind) === 'string') {
    return new RequestError(/** @type {RequestErrorFields} */ (thrown));
  }
  return invalidError(thrown instanceof Error ? thrown.message : String(thrown), thrown);
}
