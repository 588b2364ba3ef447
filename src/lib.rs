//! mp-request: the request/cache layer of WeChat mini-programs that call
//! WeChat Cloud Run. The policy lives in [`core`]; `wasm` is the JS boundary.
#![deny(missing_docs)]
// No std: the shipped wasm then carries no panic machinery (a panic traps at
// once, see `runtime`), no std HashMap beside hashbrown, no I/O stubs.
// Native builds and the wasm-bindgen tests (feature `std`) keep std.
#![cfg_attr(all(target_arch = "wasm32", not(test), not(feature = "std")), no_std)]

extern crate alloc;

/// What every module would get from std's prelude.
pub(crate) mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub mod runtime;

pub use crate::core::engine::{Command, Engine};
pub use crate::core::error::{ErrorKind, RequestError};
