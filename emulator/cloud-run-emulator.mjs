// A loopback server that speaks like WeChat Cloud Run: a gateway that routes by
// X-WX-SERVICE and adds the caller's identity headers, the seed's services, a
// WebSocket service, fault injection, and counts of what reached it.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { FaultPlan } from './faults.mjs';
import { createFleetService } from './services/fleet.mjs';
import { golangLfwy } from './services/golang-lfwy.mjs';

export const DEFAULT_ENV = 'prod-5g94mx7a3d07e78c';
export const DEFAULT_APPID = 'wx101090677bd5219e';

/** Header the gateway sets on its own failures; the sandbox's wx turns it into errCode. */
export const GATEWAY_ERROR_HEADER = 'x-emulator-gateway-errcode';

/**
 * Identity the mini-program sandbox declares for its simulated user. The
 * gateway turns it into X-WX-* headers and never forwards client-sent X-WX-*.
 */
export const CALLER_HEADERS = {
  openid: 'x-emulator-openid',
  appid: 'x-emulator-appid',
  resourceAppid: 'x-emulator-resource-appid',
  source: 'x-emulator-source',
};

const HTTP_SERVICES = { 'golang-lfwy': golangLfwy };
const DEFAULT_HTTP_SERVICE = 'golang-lfwy';
const WS_SERVICES = new Set(['ws']);

/**
 * @param {{ port?: number, env?: string, lifetimeMs?: number, keepAlive?: boolean, fleet?: { windowMs?: number, windows?: number } }} [options]
 *   lifetimeMs: the emulator stops by itself after this long (default 10 min);
 *   keepAlive: keep the process alive while it runs (CLI use); tests leave it false;
 *   fleet: the fleet view's windows (services/fleet.mjs).
 */
export async function startEmulator(options = {}) {
  const env = options.env || DEFAULT_ENV;
  // The default service's fleet endpoints (reports in, the fleet view out).
  const fleet = createFleetService(options.fleet);
  const faults = new FaultPlan();
  const counts = { total: 0, byPath: new Map(), byService: new Map(), handled: new Map(), replayed: 0, notModified: 0, open: 0, maxOpen: 0 };
  /**
   * Idempotency-Key (IETF httpapi draft): the first answer to a key, per service and caller, with
   * what the request was, so a repeat gets that answer instead of running again.
   * @type {Map<string, { fingerprint: string, out: { status: number, body: unknown, headers?: Record<string, string> } }>}
   */
  const idempotent = new Map();
  /** @type {Array<{ service: string, method: string, path: string, query: Record<string, string>, headers: Record<string, any> }>} */
  const log = [];
  /** pings: 'pong' answers them, 'echo' hands them back as they came (a plain echo service), 'ignore' drops them. */
  const wsStats = { connections: 0, messages: 0, pings: 0, silent: false, pingMode: 'pong', maxOpen: 0 };
  /** The headers of each connection's handshake, in order, as the service sees them (after the gateway). */
  const wsHandshakes = [];
  /** Acked messages as they arrived: which connection (1-based) saw which id. */
  const wsReceived = [];
  /** Text frames as they arrived (pings aside): which connection saw which text. */
  const wsTexts = [];
  const hanging = new Set();

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, { code: 500, message: String(error && error.message) });
    });
  });
  const wss = new WebSocketServer({ noServer: true });

  async function handle(req, res) {
    const url = new URL(req.url || '/', 'http://emulator');
    cors(req, res);
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (url.pathname.startsWith('/__emulator/')) return control(req, res, url);

    const routed = route(req.headers);
    if ('errCode' in routed) return gatewayError(res, routed.errCode, routed.errMsg);
    const { service, identity } = routed;
    counts.total += 1;
    // Calls being served at once (a client's concurrency limit shows here).
    counts.open += 1;
    counts.maxOpen = Math.max(counts.maxOpen, counts.open);
    res.once('close', () => {
      counts.open -= 1;
    });
    counts.byPath.set(url.pathname, (counts.byPath.get(url.pathname) || 0) + 1);
    counts.byService.set(service, (counts.byService.get(service) || 0) + 1);
    const headers = { ...stripCallerHeaders(req.headers), ...identity };
    /** @type {{ service: string, method: string, path: string, query: Record<string, string>, headers: Record<string, any>, body?: string }} */
    const entry = { service, method: req.method || 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers };
    log.push(entry);
    if (log.length > 200) log.shift();

    const raw = await readBody(req);
    // The body as it arrived, for tests that check what each attempt sent.
    entry.body = raw;
    const fault = faults.take(service, url.pathname);
    const lose = (/** @type {import('./faults.mjs').FaultRule} */ f) => {
      if (f.kind === 'reset') return void req.socket.destroy();
      if (f.kind === 'hang') return void hanging.add(res);
      const extra = f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {};
      return send(res, /** @type {number} */ (f.status), { code: f.status, message: 'injected fault' }, extra);
    };
    if (fault && !fault.after) {
      if (fault.kind === 'reset' || fault.kind === 'hang') return lose(fault);
      if (fault.kind === 'malformed') {
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":0,"data":{"list":[');
      }
      if (fault.kind === 'status') return lose(fault);
      if (fault.kind === 'delay') await sleep(fault.delayMs);
    }
    const key = headers['idempotency-key'];
    const scope = `${service} ${identity['x-wx-openid'] || identity['x-wx-from-openid'] || ''} ${key}`;
    const fingerprint = `${req.method} ${url.pathname}${url.search} ${raw}`;
    const first = typeof key === 'string' ? idempotent.get(scope) : undefined;
    if (first && first.fingerprint !== fingerprint) {
      return send(res, 422, { code: 422, message: 'Idempotency-Key reused for a different request' });
    }
    let out;
    if (first) {
      counts.replayed += 1;
      out = { ...first.out, headers: { ...first.out.headers, 'idempotent-replayed': 'true' } };
    } else {
      const handler = HTTP_SERVICES[service];
      counts.handled.set(url.pathname, (counts.handled.get(url.pathname) || 0) + 1);
      const method = req.method || 'GET';
      out =
        (service === DEFAULT_HTTP_SERVICE && fleet.handle({ method, path: url.pathname, raw })) ||
        handler({ method, path: url.pathname, query: url.searchParams, body: parseBody(raw), headers });
      // A change the service ran reaches the user's sockets, whether or not its answer gets back
      // (a repeat answered from an Idempotency-Key ran nothing, and pushes nothing).
      if (out.invalidate) publish(out.invalidate.userId, { $mp: 1, type: 'invalidate', paths: out.invalidate.paths });
      // Server errors are not remembered: a repeat may succeed.
      if (typeof key === 'string' && out.status < 500) idempotent.set(scope, { fingerprint, out });
    }
    if (fault && fault.after && fault.kind === 'malformed') {
      // Handled, and its answer cut off on the way: half of the JSON the service wrote.
      const text = JSON.stringify(out.body);
      return void res.writeHead(out.status, { 'content-type': 'application/json' }).end(text.slice(0, Math.floor(text.length / 2)));
    }
    if (fault && fault.after) return lose(fault);
    // A GET answered 200 carries an ETag of its body; asked again with it (If-None-Match), the answer is
    // a 304 with no body, as an HTTP cache in front of a Cloud Run service gives.
    if (req.method === 'GET' && out.status === 200) {
      const etag = `"${createHash('sha1').update(JSON.stringify(out.body)).digest('hex').slice(0, 16)}"`;
      const asked = String(headers['if-none-match'] || '').split(',').map((tag) => tag.trim().replace(/^W\//, ''));
      if (asked.includes(etag)) {
        counts.notModified += 1;
        entry.status = 304;
        return void res.writeHead(304, { etag }).end();
      }
      out = { ...out, headers: { ...out.headers, etag } };
    }
    entry.status = out.status;
    send(res, out.status, out.body, out.headers);
  }

  /**
   * The gateway: callContainer carries X-WX-SERVICE and the env; a plain HTTP
   * request (wx.request, fetch) reaches the default service without identity.
   */
  function route(reqHeaders) {
    const service = reqHeaders['x-wx-service'];
    if (!service) return { service: DEFAULT_HTTP_SERVICE, identity: {} };
    if (reqHeaders['x-wx-env'] !== env) {
      return { errCode: -501000, errMsg: `env ${reqHeaders['x-wx-env']} not found` };
    }
    if (!HTTP_SERVICES[service] && !WS_SERVICES.has(service)) {
      return { errCode: -501000, errMsg: `service ${service} not found in env ${env}` };
    }
    return { service, identity: identityHeaders(reqHeaders) };
  }

  function identityHeaders(reqHeaders) {
    const openid = reqHeaders[CALLER_HEADERS.openid] || 'o-anonymous';
    const appid = reqHeaders[CALLER_HEADERS.appid] || DEFAULT_APPID;
    const resourceAppid = reqHeaders[CALLER_HEADERS.resourceAppid];
    const identity = {
      'x-wx-env': env,
      'x-wx-source': reqHeaders[CALLER_HEADERS.source] || 'wx_client',
    };
    if (resourceAppid && resourceAppid !== appid) {
      // Resource reuse: the caller is another mini-program of the same entity.
      identity['x-wx-from-openid'] = openid;
      identity['x-wx-from-appid'] = appid;
      identity['x-wx-appid'] = resourceAppid;
    } else {
      identity['x-wx-openid'] = openid;
      identity['x-wx-appid'] = appid;
    }
    return identity;
  }

  server.on('upgrade', (req, socket, head) => {
    const routed = route(req.headers);
    const service = 'errCode' in routed ? undefined : req.headers['x-wx-service'] || 'ws';
    if (!service || !WS_SERVICES.has(service)) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      wsStats.connections += 1;
      // Whose changes it hears (docs/live.md): the user its path names (`?userId=7`). A real service
      // would take the user from X-WX-OPENID or a token it checks; the emulator's users are numbers.
      const userId = Number(new URL(req.url || '/', 'http://emulator').searchParams.get('userId'));
      if (Number.isInteger(userId) && userId > 0) subscribers.set(ws, userId);
      ws.on('close', () => subscribers.delete(ws));
      // As the service sees them: after the gateway, which sets the identity.
      wsHandshakes.push({ ...stripCallerHeaders(req.headers), ...routed.identity });
      const connection = wsStats.connections;
      wsStats.maxOpen = Math.max(wsStats.maxOpen, wss.clients.size);
      ws.on('message', (data, isBinary) => {
        wsStats.messages += 1;
        if (wsStats.silent) return;
        const text = isBinary ? null : data.toString();
        let message;
        try {
          message = text ? JSON.parse(text) : null;
        } catch {
          message = null;
        }
        if (message && message.type === 'ping') {
          wsStats.pings += 1;
          if (wsStats.pingMode === 'ignore') return;
          if (wsStats.pingMode === 'echo') return ws.send(data, { binary: isBinary });
          return ws.send(JSON.stringify({ type: 'pong', t: message.t }));
        }
        if (text !== null) wsTexts.push({ connection, text });
        if (message && message.type === 'msg' && Number.isInteger(message.id)) {
          // Acked mode: record, then ack; duplicates (same id) are acked again.
          wsReceived.push({ connection, id: message.id });
          return ws.send(JSON.stringify({ type: 'ack', id: message.id }));
        }
        if (message && message.type === 'broadcast') return broadcast(JSON.stringify(message.data));
        ws.send(data, { binary: isBinary });
      });
    });
  });

  function broadcast(data) {
    for (const client of wss.clients) client.send(data);
  }

  /** Sockets that named a user, and which. @type {Map<import('ws').WebSocket, number>} */
  const subscribers = new Map();
  /** Frames pushed to users' sockets, in order: `{ userId, text, sockets }` (sockets: how many it reached). */
  const published = [];

  /** Pushes `frame` (an object, sent as JSON) to the sockets of `userId`. */
  function publish(userId, frame) {
    const text = JSON.stringify(frame);
    let sockets = 0;
    for (const [ws, user] of subscribers) {
      if (user !== userId || ws.readyState !== ws.OPEN) continue;
      ws.send(text);
      sockets += 1;
    }
    published.push({ userId, text, sockets });
  }

  /** Drops every socket: with a close frame (`code`), or abruptly (1006 at the client) without one. */
  function dropSockets(code) {
    for (const client of wss.clients) {
      if (code) client.close(code, 'dropped by emulator');
      else client.terminate();
    }
  }

  async function control(req, res, url) {
    const body = parseBody(await readBody(req)) || {};
    const action = `${req.method} ${url.pathname.slice('/__emulator'.length)}`;
    try {
      switch (action) {
        case 'GET /stats':
          return send(res, 200, stats());
        case 'POST /faults':
          faults.add(body);
          return send(res, 200, { ok: true });
        case 'DELETE /faults':
          faults.clear();
          return send(res, 200, { ok: true });
        case 'POST /reset':
          reset();
          return send(res, 200, { ok: true });
        case 'POST /ws/drop':
          dropSockets(body.code);
          return send(res, 200, { ok: true });
        case 'POST /ws/broadcast':
          broadcast(JSON.stringify(body));
          return send(res, 200, { ok: true });
        case 'POST /ws/publish':
          publish(Number(body.userId), body.frame);
          return send(res, 200, { ok: true });
        default:
          return send(res, 404, { message: `no control ${action}` });
      }
    } catch (error) {
      return send(res, 400, { message: String(error && error.message) });
    }
  }

  function stats() {
    return {
      total: counts.total,
      byPath: Object.fromEntries(counts.byPath),
      byService: Object.fromEntries(counts.byService),
      handled: Object.fromEntries(counts.handled),
      replayed: counts.replayed,
      notModified: counts.notModified,
      maxOpen: counts.maxOpen,
      ws: { connections: wsStats.connections, messages: wsStats.messages, pings: wsStats.pings, open: wss.clients.size, maxOpen: wsStats.maxOpen },
    };
  }

  function reset() {
    faults.clear();
    counts.total = 0;
    counts.byPath.clear();
    counts.byService.clear();
    counts.handled.clear();
    counts.replayed = 0;
    counts.notModified = 0;
    counts.maxOpen = counts.open;
    idempotent.clear();
    log.length = 0;
    wsStats.connections = 0;
    wsStats.messages = 0;
    wsStats.pings = 0;
    wsStats.silent = false;
    wsStats.pingMode = 'pong';
    wsHandshakes.length = 0;
    wsStats.maxOpen = 0;
    wsReceived.length = 0;
    wsTexts.length = 0;
    published.length = 0;
    fleet.reset();
    for (const stop of droppers) stop();
  }
  const droppers = new Set();

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port || 0, '127.0.0.1', () => resolve(undefined));
  });
  if (!options.keepAlive) server.unref();
  const lifetime = setTimeout(() => void close(), options.lifetimeMs ?? 10 * 60 * 1000);
  if (!options.keepAlive) lifetime.unref();

  let closing;
  function close() {
    closing ??= new Promise((resolve) => {
      clearTimeout(lifetime);
      for (const res of hanging) res.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections?.();
      server.close(() => resolve(undefined));
    });
    return closing;
  }

  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    wsUrl: `ws://127.0.0.1:${address.port}`,
    port: address.port,
    env,
    /** @param {import('./faults.mjs').FaultRule} rule */
    inject: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    /** How many calls each injected rule still affects (a fault spent on no call is still there). */
    faultsLeft: () => faults.rules.map((r) => r.count),
    /** Calls that reached the server: all, or those to one path. */
    count: (path) => (path === undefined ? counts.total : counts.byPath.get(path) || 0),
    /** Calls the service ran (repeats answered from an Idempotency-Key are not). */
    handled: (path) => counts.handled.get(path) || 0,
    stats,
    /** The last requests as the service saw them (after the gateway). */
    requests: () => log.slice(),
    /** Fleet reports: the texts accepted (in arrival order) and why others were refused. */
    fleet: { accepted: () => fleet.accepted.slice(), refused: () => fleet.refused.slice() },
    reset,
    ws: {
      broadcast,
      drop: dropSockets,
      /** Stop answering anything (pings included) without closing. */
      silence: (silent = true) => {
        wsStats.silent = silent;
      },
      /**
       * What the service does with pings: 'pong' (the default) answers them; 'echo' hands them back
       * as they came, like a plain echo service; 'ignore' drops them (a service that does not know them).
       * Every other frame is still echoed.
       * @param {'pong' | 'echo' | 'ignore'} mode
       */
      pings: (mode) => {
        wsStats.pingMode = mode;
      },
      /** The handshake headers of each connection, in order (lower-case names). */
      handshakes: () => wsHandshakes.slice(),
      open: () => wss.clients.size,
      /** Acked messages received, in arrival order: `{ connection, id }`. */
      received: () => wsReceived.slice(),
      /** Text frames received (pings aside), in arrival order: `{ connection, text }`. */
      texts: () => wsTexts.slice(),
      /**
       * Pushes a frame (an object, sent as JSON) to the sockets whose path named `userId`
       * (`?userId=7`), as the order service does after a change (docs/live.md).
       * @param {number} userId @param {unknown} frame
       */
      publish,
      /** Frames pushed to users' sockets, in order: `{ userId, text, sockets }`. */
      published: () => published.slice(),
      /** Drops every socket abruptly every `ms`; returns a stop function. */
      dropEvery(ms) {
        const timer = setInterval(() => dropSockets(), ms);
        const stop = () => {
          clearInterval(timer);
          droppers.delete(stop);
        };
        droppers.add(stop);
        return stop;
      },
    },
    close,
  };
}

function cors(req, res) {
  res.setHeader('access-control-allow-origin', req.headers.origin || '*');
  res.setHeader('access-control-allow-methods', 'GET, HEAD, OPTIONS, POST, PUT, DELETE, PATCH');
  res.setHeader('access-control-allow-headers', req.headers['access-control-request-headers'] || '*');
  res.setHeader('access-control-expose-headers', 'retry-after, x-request-id, etag, last-modified');
  res.setHeader('access-control-max-age', '600');
}

function stripCallerHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-emulator-')) continue;
    // A client cannot claim an identity: only the gateway sets these.
    if (name.startsWith('x-wx-') && name !== 'x-wx-service') continue;
    out[name] = value;
  }
  return out;
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function gatewayError(res, errCode, errMsg) {
  send(res, 502, { errCode, errMsg }, { [GATEWAY_ERROR_HEADER]: String(errCode) });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw) {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
