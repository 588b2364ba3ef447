// The policy-parity scenario, as one function expression evaluated in each
// build's own realm (the mini-program sandbox, Node, a Chromium page). It
// drives a client through scripted faults against the emulator over the HTTP
// route and returns every decision the policy made: routes, attempts, retry
// delays under a fixed seed, error kinds, cache hits, and the statistics.
// `inject(fault)` arms an emulator fault; `api` is the emulator's URL.
(async function parityScenario(createClient, inject, api) {
  const lines = [];
  const consoleLog = console.log;
  console.log = (...args) => lines.push(args.map(String).join(' '));
  const steps = [];
  let client;
  const step = async (name, run) => {
    try {
      const res = await run();
      steps.push([name, 'ok', res.statusCode, res.route, res.attempts, res.fromCache, res.stale]);
    } catch (err) {
      // Not err.code: that is the platform's own code (wx.request's errno), not a decision.
      steps.push([name, 'error', err.kind, err.route, err.attempts, err.statusCode, err.message]);
    }
  };
  try {
    client = await createClient({
      baseUrl: api,
      mode: 'http',
      seed: 7,
      debug: true,
      timeoutMs: 2000,
      retry: { baseMs: 20, capMs: 160 },
      cache: { rules: [{ path: '/api/order/list', ttlMs: 60000 }] },
      mock: { enabled: true, passthrough: true, routes: [{ path: '/api/mock/:id', handler: (req, params) => ({ data: { id: params.id } }) }] },
    });
    await step('home', () => client.request({ path: '/api/home/init' }));
    await inject({ kind: 'status', status: 503, count: 2, path: '/api/test' });
    await step('two 503s then ok', () => client.request({ path: '/api/test' }));
    await inject({ kind: 'status', status: 500, count: 4, path: '/api/test' });
    await step('500 until it gives up', () => client.request({ path: '/api/test' }));
    await step('orders', () => client.request({ path: '/api/order/list', data: { userId: 1, page: 1 } }));
    await step('orders again', () => client.request({ path: '/api/order/list', data: { page: 1, userId: 1 } }));
    // A hang, not a reset: Chromium's network stack itself resends a request
    // whose reused keep-alive connection was reset, a varying number of times.
    await inject({ kind: 'hang', path: '/api/order/create' });
    await step('lost POST', () => client.request({ path: '/api/order/create', method: 'POST', data: { title: 't' }, timeoutMs: 150 }));
    await inject({ kind: 'hang', path: '/api/home/init' });
    await step('one hang', () => client.request({ path: '/api/home/init', timeoutMs: 150 }));
    await inject({ kind: 'status', status: 404, path: '/api/test' });
    await step('404', () => client.request({ path: '/api/test' }));
    await inject({ kind: 'status', status: 401, path: '/api/test' });
    await step('401', () => client.request({ path: '/api/test' }));
    await step('mock route', () => client.request({ path: '/api/mock/42', route: 'mock' }));
    await step('bad path', () => client.request({ path: 'no-slash' }));
    await step('bad method', () => client.request({ path: '/api/test', method: 'FETCH' }));
    const stats = client.stats();
    return {
      steps,
      decisions: lines.filter((l) => / → |retrying in | from the cache/.test(l)),
      stats: {
        total: [stats.total.requests, stats.total.retries, stats.total.cacheHits, stats.total.failed, stats.total.errors],
        rows: stats.rows.map((r) => [r.route, r.pattern, r.requests, r.retries, r.cacheHits, r.errors]),
      },
    };
  } finally {
    console.log = consoleLog;
    if (client) client.destroy();
  }
});
