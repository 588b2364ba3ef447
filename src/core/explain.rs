//! Why a request went as it did, recorded when the client has `debug: true`:
//! the route and why, the cache's part and why, every attempt with its
//! outcome and what followed, and the breaker and budget when it settled.
//! Off (the default) nothing is recorded and nothing is paid for.

use super::resilience::BreakerView;
use super::route::Route;
use crate::prelude::*;

/// What the cache did for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// Served a fresh entry.
    Hit,
    /// Served an entry past its TTL; a refresh runs.
    Stale,
    /// Looked up, nothing usable: fetched (and stored if it succeeds).
    Miss,
    /// Joined an identical request in flight.
    Shared,
    /// Not looked up (see the reason).
    Bypass,
}

impl CacheUse {
    /// The stable name JS sees.
    pub const fn as_str(self) -> &'static str {
        match self {
            CacheUse::Hit => "hit",
            CacheUse::Stale => "stale",
            CacheUse::Miss => "miss",
            CacheUse::Shared => "shared",
            CacheUse::Bypass => "bypass",
        }
    }
}

/// One attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptNote {
    /// 1 for the first.
    pub attempt: u32,
    /// Where it went.
    pub route: Route,
    /// When it started, from the request's start.
    pub at_ms: f64,
    /// Its timeout.
    pub timeout_ms: u32,
    /// How it ended ("HTTP 503", the error), empty while in flight.
    pub outcome: String,
    /// What followed ("retry in 240 ms", why it was not retried), empty after a success.
    pub decision: String,
}

/// The record of one request.
#[derive(Clone, Debug, PartialEq)]
pub struct Explain {
    /// The route of the last attempt (or of the cached value).
    pub route: Route,
    /// Why.
    pub route_reason: &'static str,
    /// What the cache did.
    pub cache: CacheUse,
    /// Why.
    pub cache_reason: &'static str,
    /// The attempts, in order.
    pub attempts: Vec<AttemptNote>,
    /// Other events: a wait for a slot, a fallback, an interruption.
    pub notes: Vec<String>,
    /// The breaker of the route when it settled.
    pub breaker: Option<BreakerView>,
    /// The retry budget of the route when it settled: (tokens, capacity).
    pub budget: Option<(u32, u32)>,
}

impl Explain {
    /// A record for a request on `route`, with what the cache did.
    pub fn new(
        route: Route,
        route_reason: &'static str,
        cache: CacheUse,
        cache_reason: &'static str,
    ) -> Self {
        Explain {
            route,
            route_reason,
            cache,
            cache_reason,
            attempts: Vec::new(),
            notes: Vec::new(),
            breaker: None,
            budget: None,
        }
    }

    /// The attempt in flight (the last).
    pub fn last(&mut self) -> Option<&mut AttemptNote> {
        self.attempts.last_mut()
    }
}
