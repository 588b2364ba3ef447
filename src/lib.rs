//! mp-request: the request/cache layer of WeChat mini-programs that call
//! WeChat Cloud Run. The policy lives in [`core`]; `wasm` is the JS boundary.
#![deny(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// The wasm heap: TLSF rather than std's dlmalloc (smaller, O(1)). wasm32
/// without atomics is single-threaded, which `GlobalTlsf` relies on there.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: rlsf::GlobalTlsf = rlsf::GlobalTlsf::new();

pub use crate::core::engine::{Command, Engine};
pub use crate::core::error::{ErrorKind, RequestError};
