// What a mini-program's JavaScriptCore has and the `jsc` shell lacks, loaded
// before anything else in every jsc process of the bench (not timed):
// setTimeout returning an id, clearTimeout, setInterval, clearInterval,
// queueMicrotask, console (to stderr, so stdout stays one JSON line), and a
// minimal AbortController. A mini-program has timers and console but no
// AbortController: TanStack's query-core makes one per fetch, so an app
// using it adds a polyfill; this one is as small as such a polyfill gets
// (Node's own AbortController is JavaScript too).
//
// The shell's own setTimeout returns nothing and cannot be cancelled, and
// every pending one slows each turn of its run loop (50,000 pending 20 s
// timers made a 0 ms timer hop cost 3.5 ms instead of 7 µs). Libraries set a
// timer per request and clear it at the answer, so the timers live here: per
// delay a FIFO of deadlines (same delay, increasing deadlines: O(1) to add),
// and at most a handful of the shell's timers armed at once, for the
// earliest deadline, one callback per turn of the shell's run loop. Clearing
// only marks the entry; fired or cleared entries leave the queues when they
// reach the head.
(function () {
  'use strict';
  var g = globalThis;
  var nativeSetTimeout = g.setTimeout;
  var precise = g.preciseTime;
  var clock = function () {
    return precise() * 1000;
  };
  var seq = 0;
  /** id -> entry, for clearTimeout. */
  var live = new Map();
  /** delay (ms) -> { items: entry[], head: number } */
  var queues = new Map();
  /** Deadlines of the shell's timers in flight. */
  var armed = [];

  function arm(at) {
    for (var i = 0; i < armed.length; i += 1) if (armed[i] <= at) return;
    armed.push(at);
    nativeSetTimeout(function () {
      armed.splice(armed.indexOf(at), 1);
      fire();
    }, Math.max(0, at - clock()));
  }

  /** The earliest live deadline (dropping dead heads on the way), or Infinity. */
  function earliest() {
    var min = Infinity;
    queues.forEach(function (q, delay) {
      var items = q.items;
      while (q.head < items.length && items[q.head].fn === null) q.head += 1;
      if (q.head > 1024 && q.head * 2 > items.length) {
        items.splice(0, q.head);
        q.head = 0;
      }
      if (q.head === items.length) {
        queues.delete(delay);
        return;
      }
      if (items[q.head].at < min) min = items[q.head].at;
    });
    return min;
  }

  /**
   * Runs the earliest due callback, then arms for the next: one callback per turn of the shell's
   * run loop, so promise callbacks run between two timers, as in any host.
   */
  function fire() {
    var t = clock();
    var best = null;
    queues.forEach(function (q) {
      var items = q.items;
      while (q.head < items.length && items[q.head].fn === null) q.head += 1;
      if (q.head < items.length && (best === null || items[q.head].at < best.at)) best = items[q.head];
    });
    if (best !== null && best.at <= t + 0.5) {
      var fn = best.fn;
      var args = best.args;
      best.fn = null;
      best.args = null;
      if (best.every === undefined) live.delete(best.id);
      // An interval: this entry is done, a new one (same id) is queued.
      else schedule(best.id, fn, best.every, args, best.every);
      try {
        fn.apply(undefined, args);
      } catch (error) {
        g.console.error('uncaught in a timer: ' + (error && error.stack ? error.stack : error));
      }
    }
    var next = earliest();
    if (next !== Infinity) arm(next);
  }

  function schedule(id, fn, delay, args, every) {
    var at = clock() + delay;
    var entry = { id: id, at: at, fn: fn, args: args, every: every };
    live.set(id, entry);
    var q = queues.get(delay);
    if (q === undefined) {
      q = { items: [], head: 0 };
      queues.set(delay, q);
    }
    q.items.push(entry);
    arm(at);
    return id;
  }

  function delayOf(ms) {
    var n = Number(ms);
    return n > 0 ? n : 0;
  }

  g.setTimeout = function setTimeout(fn, ms) {
    var args = arguments.length > 2 ? Array.prototype.slice.call(arguments, 2) : [];
    return schedule((seq += 1), fn, delayOf(ms), args, undefined);
  };
  g.clearTimeout = function clearTimeout(id) {
    var entry = live.get(id);
    if (entry === undefined) return;
    entry.fn = null;
    entry.args = null;
    live.delete(id);
  };
  g.setInterval = function setInterval(fn, ms) {
    var args = arguments.length > 2 ? Array.prototype.slice.call(arguments, 2) : [];
    var delay = Math.max(1, delayOf(ms));
    return schedule((seq += 1), fn, delay, args, delay);
  };
  g.clearInterval = g.clearTimeout;
  g.queueMicrotask = function queueMicrotask(fn) {
    Promise.resolve().then(fn);
  };
  var err = function () {
    g.printErr(Array.prototype.map.call(arguments, String).join(' '));
  };
  g.console = { log: err, info: err, debug: err, warn: err, error: err, trace: err };

  function AbortSignal() {
    this.aborted = false;
    this.reason = undefined;
    this.onabort = null;
    this._listeners = [];
  }
  AbortSignal.prototype.addEventListener = function (type, listener, options) {
    if (type !== 'abort' || typeof listener !== 'function') return;
    this._listeners.push({ listener: listener, once: !!(options && options.once) });
  };
  AbortSignal.prototype.removeEventListener = function (type, listener) {
    if (type !== 'abort') return;
    this._listeners = this._listeners.filter(function (l) {
      return l.listener !== listener;
    });
  };
  AbortSignal.prototype.throwIfAborted = function () {
    if (this.aborted) throw this.reason;
  };
  function AbortController() {
    this.signal = new AbortSignal();
  }
  AbortController.prototype.abort = function (reason) {
    var signal = this.signal;
    if (signal.aborted) return;
    signal.aborted = true;
    signal.reason = reason === undefined ? new Error('This operation was aborted') : reason;
    if (reason === undefined) signal.reason.name = 'AbortError';
    var event = { type: 'abort', target: signal };
    if (typeof signal.onabort === 'function') signal.onabort(event);
    var listeners = signal._listeners;
    signal._listeners = [];
    for (var i = 0; i < listeners.length; i += 1) listeners[i].listener.call(signal, event);
  };
  if (typeof g.AbortController !== 'function') {
    g.AbortController = AbortController;
    g.AbortSignal = AbortSignal;
  }
})();
