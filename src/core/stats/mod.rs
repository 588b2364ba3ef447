//! What the request layer did, for a dashboard: per route and path pattern,
//! request counts, latency percentiles, errors by kind, retries, cache hits
//! and requests in flight. Memory is fixed per row and rows are bounded.

pub mod histogram;
pub mod path_class;
pub mod table;

pub use histogram::Histogram;
pub use path_class::{public_pattern, PathClasses};
pub use table::{Outcome, Row, Slot, Stats, StatsConfig, NO_SLOT, OTHER};
