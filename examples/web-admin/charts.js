// The dashboard's charts as SVG markup, from `client.stats()` figures only.
// Pure functions (no DOM), so they are easy to read and to check.

const W = 360;
const H = 140;

/** @param {string | number} text */
export function escapeText(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] || c);
}

/**
 * The latency histogram in doubling bins (≤1, ≤2, ≤4, … ms), from the
 * fine buckets `[upperBoundMs, count]` of `stats.total.latency.buckets`.
 * @param {Array<[number, number]>} buckets
 */
export function latencyChart(buckets) {
  /** @type {Map<number, number>} */
  const bins = new Map();
  for (const [upper, count] of buckets) {
    const bound = 2 ** Math.max(0, Math.ceil(Math.log2(upper)));
    bins.set(bound, (bins.get(bound) || 0) + count);
  }
  if (bins.size === 0) return empty('暂无请求');
  const bounds = [...bins.keys()].sort((a, b) => a - b);
  const all = [];
  for (let b = bounds[0]; b <= bounds[bounds.length - 1]; b *= 2) all.push(b);
  const max = Math.max(...bins.values());
  const width = (W - 20) / all.length;
  const bars = all.map((bound, i) => {
    const count = bins.get(bound) || 0;
    const h = (count / max) * (H - 36);
    const x = 10 + i * width;
    return (
      `<g data-bin="${bound}" data-count="${count}">` +
      `<rect x="${x + 2}" y="${H - 20 - h}" width="${Math.max(1, width - 4)}" height="${h}" fill="#07c160"/>` +
      (count ? `<text x="${x + width / 2}" y="${H - 24 - h}" text-anchor="middle">${count}</text>` : '') +
      `<text x="${x + width / 2}" y="${H - 6}" text-anchor="middle">≤${bound >= 1000 ? `${Math.round(bound / 1000)}s` : bound}</text>` +
      '</g>'
    );
  });
  return svg(bars.join(''));
}

/**
 * Failed requests by error kind, as horizontal bars.
 * @param {Record<string, number>} errors
 */
export function errorsChart(errors) {
  const kinds = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  if (kinds.length === 0) return empty('没有错误');
  const max = Math.max(...kinds.map(([, n]) => n));
  const row = 22;
  const bars = kinds.map(([kind, n], i) => {
    const w = (n / max) * (W - 150);
    const y = 8 + i * row;
    return (
      `<g data-kind="${escapeText(kind)}" data-count="${n}">` +
      `<text x="4" y="${y + 13}">${escapeText(kind)}</text>` +
      `<rect x="96" y="${y}" width="${Math.max(2, w)}" height="16" fill="#fa5151"/>` +
      `<text x="${100 + w}" y="${y + 13}">${n}</text></g>`
    );
  });
  return svg(bars.join(''), Math.max(H, 16 + kinds.length * row));
}

/**
 * Cache hits against requests that went to the network, as a ring.
 * @param {{ requests: number, cacheHits: number, hitRatio: number }} total
 */
export function hitsChart(total) {
  if (total.requests === 0) return empty('暂无请求');
  const r = 48;
  const c = 2 * Math.PI * r;
  const hit = total.hitRatio * c;
  return svg(
    `<g data-hit-ratio="${total.hitRatio}" transform="translate(${W / 2 - 60}, ${H / 2})">` +
      `<circle r="${r}" fill="none" stroke="#e5e6eb" stroke-width="16"/>` +
      `<circle r="${r}" fill="none" stroke="#10aeff" stroke-width="16" stroke-dasharray="${hit} ${c - hit}" transform="rotate(-90)"/>` +
      `<text text-anchor="middle" y="5" style="font-size:16px">${Math.round(total.hitRatio * 100)}%</text>` +
      `<text x="${r + 24}" y="-6">命中 ${total.cacheHits}</text>` +
      `<text x="${r + 24}" y="12">网络 ${total.requests - total.cacheHits}</text></g>`,
  );
}

/** @param {string} text */
function empty(text) {
  return svg(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${escapeText(text)}</text>`);
}

/** @param {string} body @param {number} [height] */
function svg(body, height = H) {
  return `<svg viewBox="0 0 ${W} ${height}" width="100%" role="img">${body}</svg>`;
}

/**
 * The fleet's last windows: requests per window as bars, p95 as a line (its own scale).
 * @param {Array<{ start: number, requests: number, p95Ms: number }>} series oldest first
 * @param {number} windowMs
 */
export function seriesChart(series, windowMs) {
  if (series.length === 0) return empty('还没有上报');
  const maxRequests = Math.max(1, ...series.map((w) => w.requests));
  const maxP95 = Math.max(1, ...series.map((w) => w.p95Ms));
  // At most 40 px a window: a few windows stay bars, not a wall.
  const width = Math.min(40, (W - 20) / series.length);
  const y = (/** @type {number} */ v, /** @type {number} */ max) => H - 20 - (v / max) * (H - 36);
  const bars = series.map((w, i) => {
    const x = 10 + i * width;
    const time = new Date(w.start).toTimeString().slice(0, windowMs < 60_000 ? 8 : 5);
    return (
      `<g data-window="${w.start}" data-requests="${w.requests}" data-p95="${w.p95Ms}">` +
      `<rect x="${x + 2}" y="${y(w.requests, maxRequests)}" width="${Math.max(1, width - 4)}" height="${H - 20 - y(w.requests, maxRequests)}" fill="#07c160"/>` +
      `<text x="${x + width / 2}" y="${H - 6}" text-anchor="middle">${time}</text>` +
      '</g>'
    );
  });
  const points = series.map((w, i) => `${10 + i * width + width / 2},${y(w.p95Ms, maxP95)}`).join(' ');
  return svg(`${bars.join('')}<polyline points="${points}" fill="none" stroke="#fa9d3b" stroke-width="2"/>`);
}
