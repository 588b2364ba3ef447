//! The circuit breaker of one service. Closed, it counts attempts and
//! failures over a sliding window; when at least `min_calls` attempts in the
//! window failed at `failure_ratio` or more, it opens. Open, it refuses
//! attempts for `open_ms` (the engine fails them fast or takes a fallback
//! route), so a struggling backend gets room to recover. Then it is
//! half-open: one attempt goes through as a probe; its success closes the
//! breaker, its failure opens it again.

use crate::core::error::RequestError;
use crate::core::float;
use crate::core::request::whole_or;

/// Buckets of the sliding window: it moves by a tenth of its length.
const BUCKETS: usize = 10;

/// When the breaker opens and for how long.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerConfig {
    /// The window failures are counted over.
    pub window_ms: u32,
    /// Fewer attempts in the window never open it.
    pub min_calls: u32,
    /// The share of failed attempts (0..=1) that opens it.
    pub failure_ratio: f64,
    /// How long it stays open before a probe.
    pub open_ms: u32,
}

impl BreakerConfig {
    /// Half of at least 20 attempts failed within 30 s: open for 5 s. One
    /// device calls a service far less often than a server does, so the
    /// window is long; 20 attempts are about five requests that failed
    /// with every retry, or a page of them that failed once.
    pub const DEFAULT: BreakerConfig = BreakerConfig {
        window_ms: 30_000,
        min_calls: 20,
        failure_ratio: 0.5,
        open_ms: 5_000,
    };
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig::DEFAULT
    }
}

/// `breaker` as given: false, or an object overriding the defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawBreaker {
    /// `breaker: false`
    pub disabled: bool,
    /// `windowMs`
    pub window_ms: Option<f64>,
    /// `minCalls`
    pub min_calls: Option<f64>,
    /// `failureRatio`
    pub failure_ratio: Option<f64>,
    /// `openMs`
    pub open_ms: Option<f64>,
}

impl RawBreaker {
    /// The breaker's configuration, or None when disabled.
    pub fn validate(self) -> Result<Option<BreakerConfig>, RequestError> {
        if self.disabled {
            return Ok(None);
        }
        let d = BreakerConfig::DEFAULT;
        let failure_ratio = match self.failure_ratio {
            None => d.failure_ratio,
            Some(r) if r > 0.0 && r <= 1.0 => r,
            Some(_) => {
                return Err(RequestError::invalid(
                    "breaker.failureRatio",
                    "must be a number above 0 and at most 1, e.g. 0.5",
                ))
            }
        };
        Ok(Some(BreakerConfig {
            window_ms: whole_or(
                "breaker.windowMs",
                self.window_ms,
                100,
                600_000,
                d.window_ms,
            )?,
            min_calls: whole_or("breaker.minCalls", self.min_calls, 1, 10_000, d.min_calls)?,
            failure_ratio,
            open_ms: whole_or("breaker.openMs", self.open_ms, 1, 600_000, d.open_ms)?,
        }))
    }
}

/// The state as users see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Attempts pass; failures are counted.
    Closed,
    /// Attempts are refused until the probe.
    Open,
    /// One probe may pass (or is in flight).
    HalfOpen,
}

impl BreakerState {
    /// The stable name JS sees.
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// What the breaker says to an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Go ahead.
    Pass,
    /// Go ahead as the probe: report how it went.
    Probe,
    /// Refused; the next probe is possible in this many ms (0: one is in flight).
    Refuse {
        /// Until the next probe.
        retry_in_ms: u32,
    },
}

/// The breaker's figures, for `client.stats()` and `explain`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerView {
    /// The state.
    pub state: BreakerState,
    /// Attempts in the window.
    pub calls: u32,
    /// Failed ones among them.
    pub failures: u32,
    /// Open: until the probe is allowed.
    pub retry_in_ms: u32,
    /// Times it opened.
    pub opened: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Inner {
    Closed,
    Open { until_ms: f64 },
    HalfOpen { probing: bool },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bucket {
    /// Which slice of time (`now / width`) it counts.
    slice: u64,
    calls: u32,
    failures: u32,
}

/// One service's breaker.
#[derive(Clone, Debug, PartialEq)]
pub struct Breaker {
    config: BreakerConfig,
    inner: Inner,
    buckets: [Bucket; BUCKETS],
    opened: u32,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            inner: Inner::Closed,
            buckets: [Bucket::default(); BUCKETS],
            opened: 0,
        }
    }

    /// May an attempt start at `now_ms`?
    pub fn admit(&mut self, now_ms: f64) -> Admit {
        match self.inner {
            Inner::Closed => Admit::Pass,
            Inner::Open { until_ms } if now_ms < until_ms => Admit::Refuse {
                retry_in_ms: float::ceil(until_ms - now_ms) as u32,
            },
            Inner::Open { .. } | Inner::HalfOpen { probing: false } => {
                self.inner = Inner::HalfOpen { probing: true };
                Admit::Probe
            }
            Inner::HalfOpen { probing: true } => Admit::Refuse { retry_in_ms: 0 },
        }
    }

    /// How an admitted attempt went: `failed` when it counts against the
    /// service (see `counts_against_service`), `probe` when it was admitted as one.
    pub fn record(&mut self, now_ms: f64, failed: bool, probe: bool) {
        if probe {
            if failed {
                self.open(now_ms);
            } else {
                self.inner = Inner::Closed;
                self.buckets = [Bucket::default(); BUCKETS];
            }
            return;
        }
        // Attempts admitted before it opened may still report; they change nothing now.
        if self.inner != Inner::Closed {
            return;
        }
        let slice = self.slice(now_ms);
        let bucket = &mut self.buckets[(slice % BUCKETS as u64) as usize];
        if bucket.slice != slice {
            *bucket = Bucket {
                slice,
                ..Bucket::default()
            };
        }
        bucket.calls += 1;
        bucket.failures += u32::from(failed);
        let (calls, failures) = self.window(now_ms);
        if calls >= self.config.min_calls
            && f64::from(failures) >= self.config.failure_ratio * f64::from(calls)
        {
            self.open(now_ms);
        }
    }

    /// The probe ended without a result (cancelled): another may go.
    pub fn abandon_probe(&mut self) {
        if self.inner == (Inner::HalfOpen { probing: true }) {
            self.inner = Inner::HalfOpen { probing: false };
        }
    }

    /// The figures at `now_ms`.
    pub fn view(&self, now_ms: f64) -> BreakerView {
        let (calls, failures) = self.window(now_ms);
        let (state, retry_in_ms) = match self.inner {
            Inner::Closed => (BreakerState::Closed, 0),
            Inner::Open { until_ms } if now_ms < until_ms => {
                (BreakerState::Open, float::ceil(until_ms - now_ms) as u32)
            }
            Inner::Open { .. } | Inner::HalfOpen { .. } => (BreakerState::HalfOpen, 0),
        };
        BreakerView {
            state,
            calls,
            failures,
            retry_in_ms,
            opened: self.opened,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    fn open(&mut self, now_ms: f64) {
        self.inner = Inner::Open {
            until_ms: now_ms + f64::from(self.config.open_ms),
        };
        self.opened += 1;
    }

    fn slice(&self, now_ms: f64) -> u64 {
        let width = (self.config.window_ms as usize / BUCKETS).max(1) as f64;
        (now_ms.max(0.0) / width) as u64
    }

    /// Attempts and failures in the window ending at `now_ms`.
    fn window(&self, now_ms: f64) -> (u32, u32) {
        let current = self.slice(now_ms);
        self.buckets
            .iter()
            .filter(|b| b.slice + (BUCKETS as u64) > current && b.slice <= current)
            .fold((0, 0), |(c, f), b| (c + b.calls, f + b.failures))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Half of 10 attempts within 10 s opens it for 5 s.
    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            window_ms: 10_000,
            min_calls: 10,
            failure_ratio: 0.5,
            open_ms: 5_000,
        })
    }

    #[test]
    fn the_defaults_need_twenty_attempts_in_thirty_seconds() {
        let mut b = Breaker::new(BreakerConfig::DEFAULT);
        for i in 0..19 {
            b.record(f64::from(i) * 1000.0, true, false);
        }
        assert_eq!(b.view(19_000.0).state, BreakerState::Closed);
        b.record(29_000.0, true, false);
        assert_eq!(b.view(29_000.0).state, BreakerState::Open);
    }

    #[test]
    fn opens_at_the_failure_ratio_once_enough_calls_were_seen() {
        let mut b = breaker();
        for i in 0..9 {
            b.record(f64::from(i), true, false);
        }
        assert_eq!(b.admit(9.0), Admit::Pass, "9 calls are below minCalls");
        b.record(9.0, false, false);
        assert_eq!(b.view(9.0).state, BreakerState::Open, "9 of 10 failed");
        assert_eq!(b.admit(10.0), Admit::Refuse { retry_in_ms: 4999 });
        assert_eq!(b.view(10.0).opened, 1);
    }

    #[test]
    fn stays_closed_below_the_ratio() {
        let mut b = breaker();
        for i in 0..100 {
            b.record(f64::from(i) * 10.0, i % 3 == 0, false);
        }
        assert_eq!(b.view(1000.0).state, BreakerState::Closed, "34% failed");
        assert_eq!(b.view(1000.0).calls, 100);
    }

    #[test]
    fn old_failures_slide_out_of_the_window() {
        let mut b = breaker();
        for _ in 0..6 {
            b.record(0.0, true, false);
        }
        // 11 s later the six failures are gone: 4 more do not open it.
        for _ in 0..4 {
            b.record(11_000.0, true, false);
        }
        assert_eq!(b.view(11_000.0).state, BreakerState::Closed);
        assert_eq!(b.view(11_000.0).calls, 4);
        for _ in 0..6 {
            b.record(11_500.0, true, false);
        }
        assert_eq!(b.view(11_500.0).state, BreakerState::Open);
    }

    #[test]
    fn half_open_lets_one_probe_through_and_its_result_decides() {
        let mut b = breaker();
        for _ in 0..10 {
            b.record(0.0, true, false);
        }
        assert!(matches!(b.admit(4_999.0), Admit::Refuse { .. }));
        assert_eq!(b.admit(5_000.0), Admit::Probe);
        assert_eq!(
            b.admit(5_001.0),
            Admit::Refuse { retry_in_ms: 0 },
            "one probe at a time"
        );
        assert_eq!(b.view(5_001.0).state, BreakerState::HalfOpen);
        b.record(5_100.0, true, true);
        assert_eq!(
            b.view(5_100.0).state,
            BreakerState::Open,
            "a failed probe opens it again"
        );
        assert_eq!(b.view(5_100.0).opened, 2);
        assert_eq!(b.admit(10_100.0), Admit::Probe);
        b.record(10_200.0, false, true);
        assert_eq!(b.view(10_200.0).state, BreakerState::Closed);
        assert_eq!(b.view(10_200.0).calls, 0, "closing starts a new window");
        assert_eq!(b.admit(10_200.0), Admit::Pass);
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_attempt_probe() {
        let mut b = breaker();
        for _ in 0..10 {
            b.record(0.0, true, false);
        }
        assert_eq!(b.admit(6_000.0), Admit::Probe);
        b.abandon_probe();
        assert_eq!(b.admit(6_001.0), Admit::Probe);
    }

    #[test]
    fn late_reports_from_before_it_opened_change_nothing() {
        let mut b = breaker();
        for _ in 0..10 {
            b.record(0.0, true, false);
        }
        b.record(1.0, false, false);
        b.record(2.0, true, false);
        assert_eq!(b.view(2.0).opened, 1);
        assert_eq!(b.view(2.0).state, BreakerState::Open);
    }

    #[test]
    fn options_are_checked_and_false_disables() {
        let off = RawBreaker {
            disabled: true,
            ..RawBreaker::default()
        };
        assert_eq!(off.validate(), Ok(None));
        let bad = RawBreaker {
            failure_ratio: Some(1.5),
            ..RawBreaker::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("breaker.failureRatio"));
        let bad = RawBreaker {
            min_calls: Some(0.0),
            ..RawBreaker::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("breaker.minCalls"));
    }
}
