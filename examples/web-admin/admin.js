// The web admin: the same wasm policy as the mini-program (routing, retry,
// error mapping, cache, stats), over fetch against a Cloud Run backend (here
// the emulator), with a live dashboard of `client.stats()`.
import { createClient } from './mp-request/mp-request.js';
import { errorsChart, escapeText, hitsChart, latencyChart } from './charts.js';

const api = new URLSearchParams(location.search).get('api') || 'http://127.0.0.1:8787';
const PAGE_SIZE = 5;
const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (document.querySelector(selector));

const client = await createClient({
  baseUrl: api,
  mode: 'http',
  timeoutMs: 800,
  retry: { limit: 2, baseMs: 100, capMs: 400 },
  cache: { rules: [{ path: '/api/order/list', ttlMs: 30_000 }] },
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
await loadOrders();
$('#status').dataset.status = 'ready';
$('#status').textContent = `后端 ${api}`;
// For the browser test and for poking at it from the console.
Object.assign(window, { admin: { client, loadOrders } });
