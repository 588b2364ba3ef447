/** The wasm-bindgen glue (pkg/mp_request_bg.js), imported as 'mp-request-glue'. */
export { Engine } from '../../pkg/mp_request';
export function __wbg_set_wasm(exports: Record<string, any>): void;
