/**
 * Everything sockets need on the JS side, as a file of its own in the
 * mini-program and Node builds (mp_request_sockets.js, next to index.js):
 * the socket driver and the socket engine's glue. `client.socket()`
 * requires it on first use, so a client that never opens a socket never
 * parses it (in JavaScriptCore without a JIT, loading JS costs about
 * 0.1 ms per KB). The browser build bundles it.
 */
// The socket engine's generated glue (pkg-sockets/mp_request_sockets_bg.js), aliased by the build
// and typed by types/sockets-glue.d.ts.
import * as glue from 'mp-request-sockets-glue';

export { createSocketDriver, mockSocketTask } from './socket.js';
export { glue };
