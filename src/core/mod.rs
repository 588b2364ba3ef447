//! The policy of mp-request: pure Rust, no wasm-bindgen, no js-sys.
//!
//! Every decision is a function of its inputs (the request, the configuration,
//! the time passed in, events reported by the shim), so it is tested natively.

pub mod backoff;
pub mod cache;
pub mod classify;
pub mod config;
pub mod decide;
pub mod engine;
pub mod error;
pub mod explain;
pub mod fleet;
pub mod float;
pub mod hash;
pub mod init;
pub mod limits;
pub mod locale;
pub mod mock;
pub mod offline;
pub mod pattern;
pub mod query;
pub mod report;
pub mod request;
pub mod resilience;
pub mod retry;
pub mod rng;
pub mod route;
pub mod scheduler;
pub mod socket;
pub mod sort;
pub mod stats;
pub mod text;

/// The version of the policy behind what is persisted (cache keys and entry
/// meaning, queued mutations and how they replay). Saved with both; data
/// saved under another version is not read, so an upgrade that changes the
/// policy never serves or replays what the old one wrote in its own terms.
/// Raise it with any such change.
pub const POLICY_VERSION: u32 = 1;
