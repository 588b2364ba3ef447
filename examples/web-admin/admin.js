// The web admin: the same wasm policy as the mini-program (routing, retry,
// error mapping, cache, stats), over fetch against a Cloud Run backend (here
// the emulator), with a live dashboard of `client.stats()`, and the fleet view:
// every reporting mini-program's figures merged by the backend (`/api/fleet/view`).
import { createClient } from './mp-request/mp-request.js';
import { errorsChart, escapeText, hitsChart, latencyChart, seriesChart } from './charts.js';

const api = new URLSearchParams(location.search).get('api') || 'http://127.0.0.1:8787';
const PAGE_SIZE = 5;
const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (document.querySelector(selector));

const client = await createClient({
  baseUrl: api,
  mode: 'http',
  timeoutMs: 800,
  retry: { limit: 2, baseMs: 100, capMs: 400 },
  cache: {
    rules: [{ path: '/api/order/list', ttlMs: 30_000 }],
    invalidations: [{ method: 'POST', path: '/api/order/create', prefixes: ['/api/order/list'] }],
  },
});

const view = { userId: 1, page: 1, hasMore: false };

/** Loads one page of orders; `reload` skips the cache. */
async function loadOrders(reload = false) {
  const error = $('#orders-error');
  try {
    const res = await client.request({
      path: '/api/order/list',
      data: { userId: view.userId, page: view.page, pageSize: PAGE_SIZE },
      ...(reload ? { cache: 'reload' } : {}),
    });
    const { list, total, hasMore } = res.data.data;
    view.hasMore = hasMore;
    $('#orders tbody').innerHTML = list
      .map(
        (o) =>
          `<tr data-order="${escapeText(o.id)}"><td>${escapeText(o.id)}</td><td>${escapeText(o.title)}</td>` +
          `<td>¥${(o.amount / 100).toFixed(2)}</td><td>${escapeText(o.status)}</td></tr>`,
      )
      .join('');
    $('#page-info').textContent = `第 ${view.page} 页 · 共 ${total} 条${res.fromCache ? ' · 缓存' : ''}`;
    error.hidden = true;
  } catch (err) {
    error.hidden = false;
    error.dataset.kind = err.kind;
    error.textContent = `${err.message} (${err.kind}, ${err.attempts} 次尝试)`;
  } finally {
    /** @type {HTMLButtonElement} */ ($('#prev')).disabled = view.page <= 1;
    /** @type {HTMLButtonElement} */ ($('#next')).disabled = !view.hasMore;
    render();
  }
}

/** Draws the dashboard from the engine's statistics. */
function render() {
  const { total, rows } = client.stats();
  const ms = (/** @type {number} */ v) => (total.latency.count ? `${Math.round(v)} ms` : '–');
  const tiles = {
    requests: total.requests,
    p50: ms(total.latency.p50Ms),
    p95: ms(total.latency.p95Ms),
    p99: ms(total.latency.p99Ms),
    retries: total.retries,
    failed: total.failed,
    hitRatio: `${Math.round(total.hitRatio * 100)}%`,
    inFlight: total.inFlight,
  };
  for (const [name, value] of Object.entries(tiles)) $(`[data-stat="${name}"]`).textContent = String(value);
  $('#latency-chart').innerHTML = latencyChart(total.latency.buckets);
  $('#errors-chart').innerHTML = errorsChart(total.errors);
  $('#hits-chart').innerHTML = hitsChart(total);
  $('#rows tbody').innerHTML = rows
    .map(
      (r) =>
        `<tr><td>${r.route}</td><td>${escapeText(r.pattern)}</td><td>${r.requests}</td>` +
        `<td>${r.latency.count ? Math.round(r.latency.p95Ms) : '–'}</td><td>${r.retries}</td>` +
        `<td>${escapeText(Object.entries(r.errors).map(([k, n]) => `${k} ${n}`).join(', ') || '–')}</td>` +
        `<td>${Math.round(r.hitRatio * 100)}%</td></tr>`,
    )
    .join('');
}

/**
 * Loads the fleet view the backend merged from every client's reports (docs/fleet.md) and draws it.
 * Over plain fetch: the admin's own statistics are its requests, not its monitoring.
 */
async function loadFleet() {
  const error = $('#fleet-error');
  try {
    const res = await fetch(`${api}/api/fleet/view`, { cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
    renderFleet(body.data);
    error.hidden = true;
  } catch (err) {
    error.hidden = false;
    error.textContent = `全网数据加载失败：${err instanceof Error ? err.message : String(err)}`;
  }
  $('#fleet').dataset.status = 'ready';
}

/** Milliseconds as shown; the exact figure stays in `data-value`. */
const msText = (/** @type {number} */ v, /** @type {number} */ n) => (n ? `${Math.round(v)} ms` : '–');
const rateText = (/** @type {number} */ r, /** @type {number} */ n) => (n ? `${(r * 100).toFixed(1)}%` : '–');

/**
 * The figures of one path (or split) as table cells, each with its exact value.
 * @param {{ requests: number, errorRate: number, p50Ms: number, p95Ms: number, p99Ms: number }} f
 */
function figureCells(f) {
  return (
    `<td data-fig="requests" data-value="${f.requests}">${f.requests}</td>` +
    `<td data-fig="errorRate" data-value="${f.errorRate}">${rateText(f.errorRate, f.requests)}</td>` +
    `<td data-fig="p50Ms" data-value="${f.p50Ms}">${msText(f.p50Ms, f.requests)}</td>` +
    `<td data-fig="p95Ms" data-value="${f.p95Ms}">${msText(f.p95Ms, f.requests)}</td>` +
    `<td data-fig="p99Ms" data-value="${f.p99Ms}">${msText(f.p99Ms, f.requests)}</td>`
  );
}

/**
 * One split (a platform, a base library line) of a path, with its exact figures.
 * @param {string} by @param {{ name: string, requests: number, errorRate: number, p50Ms: number, p95Ms: number, p99Ms: number }} s
 */
function splitText(by, s) {
  const data = ['requests', 'errorRate', 'p50Ms', 'p95Ms', 'p99Ms'].map((k) => `data-${k.toLowerCase()}="${/** @type {any} */ (s)[k]}"`).join(' ');
  return (
    `<span class="split" data-${by}="${escapeText(s.name)}" ${data}>` +
    `${escapeText(s.name)} ${s.requests} · p95 ${msText(s.p95Ms, s.requests)} · 错误 ${rateText(s.errorRate, s.requests)}</span>`
  );
}

/** @param {any} view The fleet view (docs/fleet.md). */
function renderFleet(view) {
  const t = view.total;
  const tiles = {
    devices: t.devices,
    reports: t.reports,
    requests: t.requests,
    errorRate: rateText(t.errorRate, t.requests),
    p50: msText(t.p50Ms, t.requests),
    p95: msText(t.p95Ms, t.requests),
    p99: msText(t.p99Ms, t.requests),
  };
  for (const [name, value] of Object.entries(tiles)) $(`[data-fleet="${name}"]`).textContent = String(value);
  $('#fleet-series').innerHTML = seriesChart(view.series, view.windowMs);
  $('#fleet-paths tbody').innerHTML = view.paths
    .map(
      (/** @type {any} */ p) =>
        `<tr data-path="${escapeText(`${p.route} ${p.pattern}`)}"><td>${p.route}</td><td>${escapeText(p.pattern)}</td>` +
        figureCells(p) +
        `<td>${p.byPlatform.map((/** @type {any} */ s) => splitText('platform', s)).join('')}</td>` +
        `<td>${p.bySdk.map((/** @type {any} */ s) => splitText('sdk', s)).join('')}</td></tr>`,
    )
    .join('');
}

/** Calls one of the emulator's controls (the fault buttons). */
async function control(/** @type {string} */ method, /** @type {string} */ path, /** @type {unknown} */ body) {
  const res = await fetch(`${api}/__emulator${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status}`);
}

$('#orders-form').addEventListener('submit', (event) => {
  event.preventDefault();
  view.userId = Number(/** @type {HTMLInputElement} */ ($('#user-id')).value) || 1;
  view.page = 1;
  loadOrders();
});
$('#reload').addEventListener('click', () => loadOrders(true));
// A new order for the user shown: the backend then tells that user's mini-programs over their sockets.
$('#create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = $('#create-result');
  try {
    const res = await client.request({
      path: '/api/order/create',
      method: 'POST',
      data: {
        userId: view.userId,
        title: /** @type {HTMLInputElement} */ ($('#create-title')).value,
        amount: Number(/** @type {HTMLInputElement} */ ($('#create-amount')).value) || 0,
      },
      idempotent: 'auto',
    });
    result.dataset.order = res.data.data.id;
    result.textContent = `已创建 ${res.data.data.id}`;
    view.page = 1;
    await loadOrders();
  } catch (err) {
    result.dataset.order = '';
    result.textContent = `${err.message} (${err.kind})`;
  }
});
$('#prev').addEventListener('click', () => {
  view.page -= 1;
  loadOrders();
});
$('#next').addEventListener('click', () => {
  view.page += 1;
  loadOrders();
});
for (const button of document.querySelectorAll('[data-fault]')) {
  button.addEventListener('click', () =>
    control('POST', '/faults', { ...JSON.parse(/** @type {HTMLElement} */ (button).dataset.fault || '{}'), path: '/api/order/list' }),
  );
}
$('#clear-faults').addEventListener('click', () => control('DELETE', '/faults'));
$('#reset-stats').addEventListener('click', () => {
  client.resetStats();
  render();
});

setInterval(render, 250);
$('#fleet-refresh').addEventListener('click', () => loadFleet());
setInterval(loadFleet, 5000);
loadFleet();
await loadOrders();
$('#status').dataset.status = 'ready';
$('#status').textContent = `后端 ${api}`;
// For the browser test and for poking at it from the console.
Object.assign(window, { admin: { client, loadOrders, loadFleet } });
