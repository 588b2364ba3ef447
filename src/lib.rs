//! mp-request: the request/cache layer of WeChat mini-programs that call
//! WeChat Cloud Run. The policy lives in [`core`]; `wasm` is the JS boundary.
#![deny(missing_docs)]
// No std: the shipped wasm then carries no panic machinery (a panic traps at
// once, see `on_panic`), no std HashMap beside hashbrown, no I/O stubs.
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

/// The wasm heap: TLSF rather than std's dlmalloc (smaller, O(1)). wasm32
/// without atomics is single-threaded, which `GlobalTlsf` relies on there.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: rlsf::GlobalTlsf = rlsf::GlobalTlsf::new();

pub use crate::core::engine::{Command, Engine};
pub use crate::core::error::{ErrorKind, RequestError};

/// A panic traps at once, formatting nothing, so std's panic machinery is not
/// in the wasm. No input from JS may panic (tests prove it); a trap is the
/// last resort. Builds with std (the wasm-bindgen tests) use std's handler.
#[cfg(all(target_arch = "wasm32", not(test), not(feature = "std")))]
#[panic_handler]
fn on_panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}
