// The seed's backend service `golang-lfwy`: home, orders, services, and /api/test.

const BANNERS = [
  { id: 1, title: '新品上市', image: '/images/banner-1.png' },
  { id: 2, title: '限时优惠', image: '/images/banner-2.png' },
];
const SERVICES = [
  { id: 'svc-clean', name: '家政保洁', price: 8800 },
  { id: 'svc-repair', name: '家电维修', price: 12000 },
  { id: 'svc-move', name: '搬家服务', price: 30000 },
];
const STATUSES = ['pending', 'paid', 'shipped', 'done'];

/** Orders created since the process started: each gets the next number. */
let ordersCreated = 0;
/** The orders created for each userId (newest first), listed before the user's usual ones. */
const createdFor = new Map();

/** Orders a user has: a stable count per userId, so paging has real totals. */
function ordersOf(userId) {
  const total = 5 + ((userId * 7) % 19);
  return Array.from({ length: total }, (_, i) => ({
    id: `${userId}-${String(i + 1).padStart(4, '0')}`,
    userId,
    title: `订单 ${i + 1}`,
    amount: 1000 + ((userId * 31 + i * 17) % 9000),
    status: STATUSES[i % STATUSES.length],
  }));
}

/**
 * @param {{ method: string, path: string, query: URLSearchParams, body: unknown, headers: Record<string, string|string[]|undefined> }} req
 * @returns {{ status: number, body: unknown, headers?: Record<string, string>, invalidate?: { userId: number, paths: string[] } }}
 *   invalidate: what changed for which user, pushed to that user's sockets once answered.
 */
export function golangLfwy(req) {
  // The gateway adds the caller's identity to the request the container
  // receives; nothing adds it to the response (WeChat's docs): not echoed.
  const openid = req.headers['x-wx-openid'] || null;
  const ok = (data, headers = {}) => ({ status: 200, body: { code: 0, message: 'ok', data }, headers });
  const bad = (status, message) => ({ status, body: { code: status, message } });

  if (req.path === '/api/home/init' && req.method === 'GET') {
    return ok({ banners: BANNERS, notices: ['欢迎使用云托管'], openid, serverTime: Date.now() });
  }
  if (req.path === '/api/order/list' && req.method === 'GET') {
    const userId = Number(req.query.get('userId'));
    const page = Number(req.query.get('page') || 1);
    const pageSize = Number(req.query.get('pageSize') || 10);
    if (!Number.isInteger(userId) || userId < 1) return bad(400, 'userId must be a positive integer');
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
      return bad(400, 'page must be >= 1 and pageSize 1..100');
    }
    const all = [...(createdFor.get(userId) || []), ...ordersOf(userId)];
    const list = all.slice((page - 1) * pageSize, page * pageSize);
    return ok({ list, total: all.length, page, pageSize, hasMore: page * pageSize < all.length });
  }
  if (req.path === '/api/order/create' && req.method === 'POST') {
    const body = /** @type {any} */ (req.body) || {};
    ordersCreated += 1;
    const order = { id: `new-${ordersCreated}`, title: body.title || '新订单', status: 'pending', openid };
    // With a userId, the order shows in that user's list from now on.
    const userId = Number(body.userId);
    if (Number.isInteger(userId) && userId > 0) {
      createdFor.set(userId, [{ ...order, userId, amount: Number(body.amount) || 0 }, ...(createdFor.get(userId) || [])]);
      // The user's list changed: their sockets are told (docs/live.md).
      return { ...ok(order), invalidate: { userId, paths: ['/api/order/list'] } };
    }
    return ok(order);
  }
  if (req.path === '/api/service/list' && req.method === 'GET') {
    return ok({ list: SERVICES, total: SERVICES.length });
  }
  const service = req.path.match(/^\/api\/service\/([\w-]+)$/);
  if (service && req.method === 'GET') {
    const found = SERVICES.find((s) => s.id === service[1]);
    return found ? ok(found) : bad(404, `no service ${service[1]}`);
  }
  if (req.path === '/api/me' && req.method === 'GET') {
    // A backend may choose to say whom it served: then, and only then, the
    // response carries X-WX-OPENID (the client's cache may partition by it).
    return ok({ openid }, openid ? { 'x-wx-openid': openid } : {});
  }
  if (req.path === '/api/test') {
    const identity = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-wx-')));
    return ok({ method: req.method, query: Object.fromEntries(req.query), body: req.body, identity });
  }
  if (req.path === '/api/large') {
    const kb = Number(req.query.get('kb') || 1100);
    return ok({ blob: 'x'.repeat(kb * 1024) });
  }
  return bad(404, `no route ${req.method} ${req.path}`);
}
