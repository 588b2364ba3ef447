//! The `#[wasm_bindgen]` boundary: JS values in, core types through, small JS
//! objects out. No policy here, and nothing that JS can make panic: every read
//! of a JS value is checked, and every JS call that can throw is caught.
//!
//! `read` turns JS options into the core's raw types, `write` turns core
//! outputs into JS objects, `persist` is the saved cache; `requests`
//! is the exported `Engine` and `sockets` the exported `Sockets`, the two
//! engines; each can be built alone (features `requests` and `sockets`), as
//! the shipped mini-program's two modules are. `fleet` is the backend side
//! of fleet reports, for Node only.

// A build of one engine leaves some shared helpers unused.
#![cfg_attr(
    not(all(feature = "requests", feature = "sockets")),
    allow(dead_code, unused_imports)
)]

#[cfg(feature = "fleet")]
mod fleet;
mod js;
mod persist;
mod read;
#[cfg(feature = "requests")]
mod requests;
#[cfg(feature = "sockets")]
mod sockets;
mod write;

#[cfg(feature = "fleet")]
pub use fleet::{check_report, summarise, Fleet};
#[cfg(feature = "requests")]
pub use requests::Engine;
#[cfg(feature = "sockets")]
pub use sockets::Sockets;
