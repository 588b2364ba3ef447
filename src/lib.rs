//! mp-request: the request/cache layer of WeChat mini-programs that call
//! WeChat Cloud Run. The policy lives in [`core`]; `wasm` is the JS boundary.
#![deny(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use crate::core::engine::{Command, Engine};
pub use crate::core::error::{ErrorKind, RequestError};
