/** The socket engine's wasm-bindgen glue (pkg-sockets/mp_request_sockets_bg.js), imported as 'mp-request-sockets-glue'. */
export { Sockets } from '../../pkg-sockets/mp_request_sockets';
export function __wbg_set_wasm(exports: Record<string, any>): void;
