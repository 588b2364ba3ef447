/**
 * Managed sockets: the Rust engines decide (the request engine which sockets
 * exist and what may be sent; the socket engine when to connect, reconnect,
 * beat, queue and pause); this file only opens SocketTasks, forwards their
 * events, and keeps one timer per socket. Every frame is reported to the
 * socket engine (a sign of life); only small text frames starting with `{`,
 * and frames starting `{"$mp"`, cross into the wasm, as only those can be
 * control frames (pongs, acks, echoed pings, the library's own frames). The
 * engine answers `deliver` for the caller's frames, which go to listeners as
 * they were received; what a service pushed to the library goes to the
 * request engine (`live`). Part of the sockets' own file
 * (sockets-chunk.js): it imports nothing of the client's that has identity.
 */
import { failed, field } from './outcome.js';
import { describe, say } from './report.js';

/** @typedef {'open' | 'message' | 'close' | 'error' | 'reconnecting' | 'state'} SocketEventName */

/**
 * @typedef {object} SocketTaskLike The part of WechatMiniprogram.SocketTask used here.
 * @property {(o: { data: string, fail?: (e: any) => void }) => void} send
 * @property {(o?: { code?: number, reason?: string }) => void} close
 * @property {(f: () => void) => void} onOpen
 * @property {(f: (e: { data: unknown }) => void) => void} onMessage
 * @property {(f: (e: { code: number, reason: string }) => void) => void} onClose
 * @property {(f: (e: { errMsg: string }) => void) => void} onError
 */

/**
 * @typedef {object} SocketTarget
 * @property {'cloud' | 'http' | 'mock'} route
 * @property {string} service
 * @property {string} path
 * @property {string} [url]
 * @property {Record<string, string>} [header] Sent with the opening handshake.
 */

/**
 * How sockets connect, per route. `wanted` says whether the connect is still
 * wanted (a transport that waits first, for the cloud init, checks it before opening).
 * @typedef {Record<string, (target: SocketTarget, wanted?: () => boolean) => Promise<SocketTaskLike>>} SocketTransports
 */

/** @typedef {import('mp-request-sockets-glue').Sockets} SocketMachines The socket engine. */

/**
 * Sockets are shared by two engines: the request engine validates, shares
 * and counts them when `client.socket()` is called (synchronously, so bad
 * options throw there); the socket engine runs their machines. The socket
 * engine may be a module loaded on the first `client.socket()`: until it is
 * ready, what the caller does is kept in order and handed to it then.
 * @param {object} deps
 * @param {any} deps.engine The request engine.
 * @param {() => Promise<SocketMachines>} deps.machines Makes the socket engine (once).
 * @param {() => number} deps.now
 * @param {SocketTransports} deps.transports
 * @param {(call: () => ArrayLike<any>) => void} deps.run Runs a socket engine call (unless the client is gone) and executes its commands.
 * @param {{ invalidate: (names: string) => void, ignored: () => void, opened: () => void }} deps.live
 *   The request engine's side of what services push: an invalidation (its `names`, as the socket engine
 *   wrote them), a frame ignored, a socket (re)opened.
 * @param {(line: string) => void} [deps.log]
 * @param {boolean} deps.online The network's state now.
 * @param {boolean} deps.hidden The app's state now.
 * @param {{ invalidError: (detail: string) => Error, toRequestError: (thrown: unknown) => Error }} deps.errors
 *   The client's own (this file may be loaded apart from it: one RequestError class for the app).
 */
export function createSocketDriver({ engine, machines: makeMachines, now, transports, run, live: requests, log, online: onlineNow, hidden: hiddenNow, errors }) {
  const { invalidError, toRequestError } = errors;
  /** @type {Map<number, { id: number, target: SocketTarget, epoch: number, task?: SocketTaskLike, timer?: ReturnType<typeof setTimeout>, holders: Set<ManagedSocket>, acked: boolean, frame?: unknown, failed?: boolean }>} */
  const live = new Map();
  /** The socket engine, once made. @type {SocketMachines | undefined} */
  let machines;
  /**
   * Calls waiting for it, in order (`failed`: told when it cannot be made);
   * undefined when none is loading.
   * @type {Array<{ call: (m: SocketMachines) => void, failed?: (error: unknown) => void }> | undefined}
   */
  let waiting;
  let online = onlineNow;
  let hidden = hiddenNow;
  let gone = false;
  /** The kept calls are being handed to the socket engine. */
  let replaying = false;
  /** Connects asked for meanwhile, carried out after them: socket → epoch. @type {Map<any, number>} */
  const connects = new Map();

  /**
   * Runs `call` on the socket engine now, or once it is ready (the first
   * call loads it). A socket engine that cannot be made fails every socket
   * waiting for it with the reason (and calls `failed`); the next call tries again.
   * @param {(m: SocketMachines) => void} call
   * @param {(error: unknown) => void} [failed]
   */
  function withMachines(call, failed) {
    if (machines) {
      call(machines);
      return;
    }
    if (waiting) {
      waiting.push({ call, failed });
      return;
    }
    const calls = (waiting = [{ call, failed }]);
    makeMachines().then(
      (made) => {
        if (gone) {
          made.free();
          return;
        }
        // The network's and the app's state now, before the calls it kept.
        made.setOnline(online, now());
        made.setHidden(hidden, now());
        // In order, including calls made while these run (a listener that sends, or destroys
        // the client). The connects they ask for wait for the end, so that a socket closed
        // meanwhile (by the caller, or by destroy()) never connects.
        replaying = true;
        try {
          for (let next = calls.shift(); next && !gone; next = calls.shift()) {
            try {
              next.call(made);
            } catch (error) {
              say('error', `socket: a call kept while the socket engine loaded could not be carried out (${describe(error)})`);
            }
          }
        } finally {
          replaying = false;
        }
        const starts = [...connects];
        connects.clear();
        if (gone) {
          made.free();
          return;
        }
        waiting = undefined;
        machines = made;
        for (const [s, epoch] of starts) if (live.get(s.id) === s) connect(s, epoch);
      },
      (error) => {
        if (gone) return;
        waiting = undefined;
        const detail = `the socket engine could not be loaded (${describe(error)})`;
        say('error', `socket: ${detail}`);
        for (const s of [...live.values()]) {
          // It never ran: the request engine frees its slot (its key opens a new socket),
          // and its handles stay failed until they are closed.
          s.failed = true;
          for (const h of s.holders) {
            if (h.closed) {
              s.holders.delete(h);
              continue;
            }
            // Each handle lets go in the request engine (the handles' later close() finds nothing).
            engine.socketRelease(s.id);
            h.emit('error', { name: 'error', detail });
            h.emit('state', { name: 'state', state: 'failed' });
          }
          if (s.holders.size === 0) forget(s);
        }
        for (const c of calls) if (c.failed) c.failed(error);
      },
    );
  }

  /** The client went away: whoever waits for the socket engine hears so, and nothing else runs. */
  function abandonWaiting() {
    const calls = waiting;
    waiting = undefined;
    if (!calls) return;
    const destroyed = new Error('the client was destroyed');
    for (const c of calls.splice(0)) if (c.failed) c.failed(destroyed);
  }

  /** @param {(m: SocketMachines) => ArrayLike<any>} call */
  const machine = (call) => run(() => (machines && !gone ? call(machines) : []));

  /**
   * Executes socket commands one by one: one that fails (a SocketTask or a
   * listener threw in it) is reported and the others still run.
   * @param {ArrayLike<any>} commands
   */
  function dispatch(commands) {
    for (let i = 0; i < commands.length; i += 1) {
      try {
        execute(commands[i]);
      } catch (error) {
        say('error', `socket: \`${commands[i] && commands[i].type}\` could not be carried out (${describe(error)})`);
      }
    }
  }

  /** @param {any} c */
  function execute(c) {
    const s = live.get(c.socket);
    if (!s) return;
    switch (c.type) {
      case 'connect':
        if (replaying) {
          connects.set(s, c.epoch);
          return;
        }
        return connect(s, c.epoch);
      case 'closeTask':
        if (s.epoch === c.epoch && s.task) {
          const task = s.task;
          s.task = undefined;
          try {
            task.close({ code: c.code, reason: c.reason });
          } catch {
            // A task the platform already dropped.
          }
        }
        return;
      case 'transmit': {
        // A refused frame goes back to the engine, which keeps it (or names it in an error).
        // Reported after the commands at hand, as devices call `fail` later, never in the middle.
        // Once: a `fail` called twice (or after a throw) must not hand the frame back twice.
        let handedBack = false;
        const refused = (/** @type {unknown} */ detail) => {
          if (handedBack) return;
          handedBack = true;
          Promise.resolve().then(() => machine((m) => m.sendFailed(s.id, c.epoch, c.seq, c.text, detail, now())));
        };
        if (!(s.epoch === c.epoch && s.task)) {
          refused('sendSocketMessage:fail the SocketTask is gone');
          return;
        }
        try {
          s.task.send({ data: c.text, fail: (e) => refused(failed(e, 'sendSocketMessage').errMsg) });
        } catch (error) {
          refused(`sendSocketMessage:fail ${describe(error)}`);
        }
        return;
      }
      case 'deliver':
        // The frame being reported (`onMessage` sets it just before).
        for (const h of s.holders) h.emit('message', { data: s.frame });
        return;
      case 'invalidate':
        return requests.invalidate(c.names);
      case 'ignored':
        if (log) log(`socket ${s.target.route} ${s.target.path}: a frame of mp-request's ignored (${c.detail}): ${String(s.frame).slice(0, 120)}`);
        return requests.ignored();
      case 'event':
        if (log) log(`socket ${s.target.route} ${s.target.path}: ${c.event.name}${c.event.state ? ` ${c.event.state}` : ''}${c.event.detail ? ` (${c.event.detail})` : ''}`);
        // Invalidations sent while it was not open are lost: the request engine asks watched queries again.
        if (c.event.name === 'open') requests.opened();
        for (const h of s.holders) h.emit(c.event.name, c.event);
        if (c.event.name === 'state' && (c.event.state === 'closed' || c.event.state === 'failed')) {
          if (c.event.state === 'closed') forget(s);
        }
        return;
      case 'timer':
        if (s.timer !== undefined) clearTimeout(s.timer);
        s.timer = undefined;
        if (c.atMs !== undefined && c.atMs !== null) {
          s.timer = setTimeout(() => machine((m) => m.timer(s.id, now())), Math.max(0, c.atMs - now()));
        }
        return;
      default:
        throw new Error(`mp-request: unknown socket command ${c.type}`);
    }
  }

  /** @param {any} s */
  function forget(s) {
    if (s.timer !== undefined) clearTimeout(s.timer);
    live.delete(s.id);
  }

  /** @param {any} s @param {number} epoch */
  function connect(s, epoch) {
    s.epoch = epoch;
    s.task = undefined;
    const transport = transports[s.target.route];
    /** @type {Promise<SocketTaskLike>} */
    let opening;
    // Outside the try: WeChat's ES5 compile of the package turned this closure, declared
    // inside it, into an empty function (every cloud connect then looked superseded).
    const wanted = () => s.epoch === epoch && live.has(s.id);
    try {
      opening = transport ? Promise.resolve(transport(s.target, wanted)) : Promise.reject(new Error(`${s.target.route}: no socket transport in this runtime`));
    } catch (error) {
      opening = Promise.reject(error);
    }
    // With its errCode: the engine tells "not initialised" (-601034) from other failures.
    const failedToOpen = (/** @type {unknown} */ error) => failure(s, epoch, describe(error), field(error, 'errCode'));
    opening.then((task) => {
      if (s.epoch !== epoch || !live.has(s.id)) {
        closeQuietly(task, 1000, 'superseded');
        return;
      }
      try {
        s.task = task;
        listenTo(s, task, epoch);
      } catch (error) {
        // Not a SocketTask after all: the engine hears an error (and reconnects as it decides).
        s.task = undefined;
        closeQuietly(task, 1000, 'unusable');
        failedToOpen(error);
      }
    }, failedToOpen);
  }

  /**
   * A SocketTask failed (or could not be opened): the request engine hears
   * it first (a cloud socket's errCode may say the shared init is gone),
   * then the socket's machine.
   * @param {any} s @param {number} epoch @param {unknown} detail @param {unknown} errCode
   */
  function failure(s, epoch, detail, errCode) {
    run(() => {
      engine.socketFailure(s.id, detail, errCode);
      return [];
    });
    machine((m) => m.error(s.id, epoch, detail, now()));
  }

  /**
   * Forwards a SocketTask's events to the engine. The platform may call
   * them with anything (null, no data): none throws back into it.
   * @param {any} s @param {SocketTaskLike} task @param {number} epoch
   */
  function listenTo(s, task, epoch) {
    task.onOpen(() => machine((m) => m.opened(s.id, epoch, now())));
    task.onMessage((e) => {
      const data = field(e, 'data');
      s.frame = data;
      // Control frames are ASCII and at most 1024 bytes, or begin `{"$mp"` (at most 16 KB; the
      // engine ignores a longer one, cut here): nothing else is copied in.
      const text = typeof data !== 'string' ? undefined : data.length <= CONTROL_MAX ? (CONTROL_START.test(data) ? data : undefined) : data.startsWith(PUSHED_START) ? data.slice(0, PUSHED_MAX + 1) : undefined;
      machine((m) => m.message(s.id, epoch, text, now()));
      s.frame = undefined;
    });
    task.onClose((e) => machine((m) => m.closed(s.id, epoch, field(e, 'code'), field(e, 'reason'), now())));
    task.onError((e) => failure(s, epoch, field(e, 'errMsg'), field(e, 'errCode')));
  }

  return {
    dispatch,
    /**
     * @param {import('../types').SocketOptions} [options]
     * @returns {ManagedSocket}
     */
    open(options) {
      let opened;
      try {
        opened = engine.socketOpen(options);
      } catch (thrown) {
        throw toRequestError(thrown);
      }
      let s = live.get(opened.id);
      if (!s) {
        const target = { route: opened.route, service: opened.service, path: opened.path, url: opened.url, header: opened.header };
        s = { id: opened.id, target, epoch: 0, holders: new Set(), acked: opened.acked === true };
        live.set(opened.id, s);
      }
      const id = s.id;
      const config = opened.config;
      const handle = new ManagedSocket(s.id, s.acked, s.target.route, {
        invalid: invalidError,
        send: (id, data, acked) => {
          if (s.failed) throw invalidError('`send` refused: the socket failed (the socket engine could not be loaded); close it and open another');
          // Checked now, whether or not the socket engine is ready: bad data throws here.
          let text;
          try {
            text = engine.socketPayload(data, acked);
            if (machines) {
              dispatch(machines.send(id, text));
              return;
            }
          } catch (thrown) {
            throw toRequestError(thrown);
          }
          withMachines((m) => {
            try {
              dispatch(m.send(id, text));
            } catch (thrown) {
              // Refused once the socket engine was ready (the outbox was full): the caller
              // returned long ago, so the sending handle hears it as an error event.
              handle.emit('error', { name: 'error', detail: toRequestError(thrown).message, unsent: [text] });
            }
          });
        },
        state: (id) => (s.failed ? 'failed' : machines ? machines.state(id) : live.has(id) ? 'connecting' : 'closed'),
        task: (id) => {
          const socket = live.get(id);
          return socket ? socket.task : undefined;
        },
        release: (id, h) => {
          // The closing handle hears its own close (and which messages were not sent), then leaves.
          const leave = () => {
            const socket = live.get(id);
            if (!socket) return;
            socket.holders.delete(h);
            // A failed one (it never ran) is forgotten with its last handle.
            if (socket.failed && socket.holders.size === 0) forget(socket);
          };
          if (!engine.socketRelease(id)) leave();
          else if (machines) {
            dispatch(machines.close(id));
            leave();
          } else {
            withMachines((m) => {
              dispatch(m.close(id));
              leave();
            });
          }
        },
      });
      s.holders.add(handle);
      if (!opened.shared) withMachines((m) => dispatch(m.start(id, config, now())));
      return handle;
    },
    /**
     * Resolves once the socket engine is loaded (at once when it is); rejects
     * when it cannot be.
     * @returns {Promise<void>}
     */
    prepare() {
      return new Promise((resolve, reject) => withMachines(() => resolve(), reject));
    },
    /** @param {boolean} value The network is up (every socket hears it). */
    setOnline(value) {
      online = value;
      if (machines) machine((m) => m.setOnline(value, now()));
    },
    /** @param {boolean} value The app is in the background (every socket hears it). */
    setHidden(value) {
      hidden = value;
      if (machines) machine((m) => m.setHidden(value, now()));
    },
    /** Every socket is closed (the client is destroyed). */
    closeAll() {
      for (const s of [...live.values()]) {
        for (const h of [...s.holders]) h.close();
      }
    },
    /** The client is freed: the socket engine too (or once it is made). */
    free() {
      gone = true;
      if (machines) machines.free();
      machines = undefined;
      // Nothing kept for a load still running, nothing held for a socket (its timers go too).
      abandonWaiting();
      for (const s of [...live.values()]) forget(s);
    },
  };
}

/**
 * Closes a task that is not wanted (or not usable); a task that cannot be
 * closed is left to the platform.
 * @param {any} task @param {number} code @param {string} reason
 */
function closeQuietly(task, code, reason) {
  try {
    task.close({ code, reason });
  } catch {
    // Nothing more to do with it.
  }
}

/** The longest frame that may be a control frame (the engine's `MAX_CONTROL_BYTES`). */
const CONTROL_MAX = 1024;
const CONTROL_START = /^[ \t\n\r]*\{/;
/** How a longer frame of the library's begins, and its limit (the engine's `pushed::LONG_START`, `MAX_PUSHED_BYTES`). */
const PUSHED_START = '{"$mp"';
const PUSHED_MAX = 16 * 1024;

/** What `client.socket()` returns: one handle of a connection shared by key. */
export class ManagedSocket {
  /**
   * @param {number} id
   * @param {boolean} acked
   * @param {'cloud' | 'http' | 'mock'} route
   * @param {{ invalid(detail: string): Error, send(id: number, data: unknown, acked: boolean): void, state(id: number): string, task(id: number): SocketTaskLike | undefined, release(id: number, h: ManagedSocket): void }} ops
   */
  constructor(id, acked, route, ops) {
    this.id = id;
    this.acked = acked;
    /** The route it connects over. */
    this.route = route;
    this.ops = ops;
    this.closed = false;
    /** @type {Map<string, Set<(event: any) => void>>} */
    this.listeners = new Map();
  }

  /**
   * idle, connecting, open, reconnecting, paused, closed or failed.
   * @returns {any}
   */
  get state() {
    return this.closed ? 'closed' : this.ops.state(this.id);
  }

  /**
   * The current SocketTask (it changes with every reconnect), for code that
   * expects the seed's `app.globalData.socketTask`. Send through `send()`.
   * @returns {any}
   */
  get task() {
    return this.closed ? undefined : this.ops.task(this.id);
  }

  /**
   * Sends now when open, queues otherwise; throws a RequestError when refused (outbox full, closed).
   * @param {unknown} data A string, or anything JSON can send.
   */
  send(data) {
    if (this.closed) throw this.ops.invalid('`send` refused: this socket handle was closed');
    this.ops.send(this.id, data, this.acked);
  }

  /** Lets go of the connection; the last handle closes it (never to reconnect). */
  close() {
    if (this.closed) return;
    this.ops.release(this.id, this);
    this.closed = true;
  }

  /**
   * @param {SocketEventName} name
   * @param {(event: any) => void} listener
   */
  on(name, listener) {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return this;
  }

  /**
   * @param {SocketEventName} name
   * @param {(event: any) => void} listener
   */
  off(name, listener) {
    const set = this.listeners.get(name);
    if (set) set.delete(listener);
    return this;
  }

  /**
   * @param {string} name
   * @param {any} event
   */
  emit(name, event) {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        say('error', 'a socket listener threw', error);
      }
    }
  }
}

/**
 * An in-memory echo server for the devtools: pings get pongs, acked messages get acks.
 * @returns {Promise<SocketTaskLike>}
 */
export function mockSocketTask() {
  /** @type {Record<string, Array<(e: any) => void>>} */
  const on = { open: [], message: [], close: [], error: [] };
  const fire = (/** @type {string} */ kind, /** @type {any} */ e) => setTimeout(() => on[kind].forEach((f) => f(e)), 0);
  let open = true;
  fire('open', {});
  return Promise.resolve({
    /** @param {{ data: string, fail?: (e: any) => void }} o */
    send({ data, fail }) {
      if (!open) {
        if (fail) fail({ errMsg: 'sendSocketMessage:fail WebSocket is not connected' });
        return;
      }
      let reply = data;
      try {
        const m = JSON.parse(data);
        if (m && m.type === 'ping') reply = JSON.stringify({ type: 'pong', t: m.t });
        else if (m && m.type === 'msg') reply = JSON.stringify({ type: 'ack', id: m.id });
      } catch {
        // Not JSON: echoed as it is.
      }
      fire('message', { data: reply });
    },
    /** @param {{ code?: number, reason?: string }} [o] */
    close({ code = 1000, reason = '' } = {}) {
      if (!open) return;
      open = false;
      fire('close', { code, reason });
    },
    onOpen: (/** @type {any} */ f) => on.open.push(f),
    onMessage: (/** @type {any} */ f) => on.message.push(f),
    onClose: (/** @type {any} */ f) => on.close.push(f),
    onError: (/** @type {any} */ f) => on.error.push(f),
  });
}

