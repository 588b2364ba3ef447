//! The retry policy: whether a failed attempt is tried again, and after how
//! long. It only decides; the engine keeps the clock and the attempt count.

use super::backoff::Backoff;
use super::error::{ErrorKind, RequestError};
use super::rng::Rng;
use crate::prelude::*;

/// How a request is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `limit + 1` attempts at most).
    pub limit: u32,
    /// Delay windows between attempts.
    pub backoff: Backoff,
    /// From the start of the request, no attempt starts or runs past this.
    pub deadline_ms: u32,
}

impl RetryPolicy {
    /// 3 retries, full jitter over 300 ms doubling to 5 s, all within 30 s.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        limit: 3,
        backoff: Backoff {
            base_ms: 300,
            cap_ms: 5000,
        },
        deadline_ms: 30_000,
    };

    /// No retries; the deadline still bounds the one attempt.
    pub const fn disabled(self) -> RetryPolicy {
        RetryPolicy { limit: 0, ..self }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::DEFAULT
    }
}

/// What the policy knows about the failed attempt.
#[derive(Clone, Copy, Debug)]
pub struct Attempted {
    /// Retries already made (0 after the first attempt).
    pub retries: u32,
    /// The request may be sent twice (idempotent method or `idempotent: true`).
    pub idempotent: bool,
    /// Since the request started.
    pub elapsed_ms: f64,
    /// The server's `Retry-After`, in ms, if it sent one.
    pub retry_after_ms: Option<u32>,
}

/// The policy's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this delay.
    Retry {
        /// Milliseconds to wait.
        delay_ms: u32,
    },
    /// Return the error.
    GiveUp(GiveUp),
}

/// Why a failure is returned rather than retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// The failure will not go away by trying again.
    NotRetryable,
    /// The request may have reached the server and is not safe to repeat.
    NotIdempotent,
    /// The retry limit is spent.
    LimitReached,
    /// Another attempt would start after the deadline.
    Deadline,
    /// The service's retry budget cannot pay for another attempt.
    Budget,
}

impl GiveUp {
    /// A developer-facing explanation, appended to the error's detail.
    pub fn explain(self, method: &str, attempts: u32) -> String {
        match self {
            GiveUp::NotRetryable => String::new(),
            GiveUp::NotIdempotent => format!(
                "not retried: {method} is not idempotent and may have reached the server \
                 (pass idempotent: true if repeating it is safe)"
            ),
            GiveUp::LimitReached if attempts > 1 => format!("gave up after {attempts} attempts"),
            GiveUp::LimitReached => String::new(),
            GiveUp::Deadline => {
                format!("gave up after {attempts} attempt(s): the retry deadline would pass")
            }
            GiveUp::Budget => format!(
                "not retried after {attempts} attempt(s): the service's retry budget is spent"
            ),
        }
    }
}

impl RetryPolicy {
    /// Decides what follows a failed attempt.
    pub fn decide(&self, error: &RequestError, attempted: Attempted, rng: &mut Rng) -> Decision {
        if !error.is_retryable() {
            return Decision::GiveUp(GiveUp::NotRetryable);
        }
        if may_have_reached_server(error) && !attempted.idempotent {
            return Decision::GiveUp(GiveUp::NotIdempotent);
        }
        if attempted.retries >= self.limit {
            return Decision::GiveUp(GiveUp::LimitReached);
        }
        let delay_ms = match attempted.retry_after_ms {
            Some(server) if honours_retry_after(error) => server.min(self.backoff.cap_ms),
            _ => self.backoff.delay(attempted.retries, rng),
        };
        if attempted.elapsed_ms + f64::from(delay_ms) >= f64::from(self.deadline_ms) {
            return Decision::GiveUp(GiveUp::Deadline);
        }
        Decision::Retry { delay_ms }
    }
}

/// Failures known to happen before the request left the device may be
/// retried whatever the method.
pub fn may_have_reached_server(error: &RequestError) -> bool {
    !matches!(
        error.kind(),
        ErrorKind::Init | ErrorKind::Offline | ErrorKind::Invalid | ErrorKind::Cancelled
    )
}

/// `Retry-After` counts on 429 and 503 (RFC 9110 §10.2.3).
fn honours_retry_after(error: &RequestError) -> bool {
    matches!(error.status(), Some(429 | 503))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(s: u16) -> RequestError {
        RequestError::Status { status: s }
    }

    fn first(idempotent: bool) -> Attempted {
        Attempted {
            retries: 0,
            idempotent,
            elapsed_ms: 0.0,
            retry_after_ms: None,
        }
    }

    #[test]
    fn retries_retryable_failures_of_idempotent_requests() {
        let p = RetryPolicy::DEFAULT;
        let d = p.decide(&status(503), first(true), &mut Rng::new(1));
        assert!(matches!(d, Decision::Retry { delay_ms } if delay_ms <= 300));
    }

    #[test]
    fn never_repeats_a_post_that_may_have_arrived() {
        let p = RetryPolicy::DEFAULT;
        let reset = RequestError::Transport {
            kind: ErrorKind::Network,
            detail: "reset".into(),
            code: None,
            retryable: true,
        };
        assert_eq!(
            p.decide(&reset, first(false), &mut Rng::new(1)),
            Decision::GiveUp(GiveUp::NotIdempotent)
        );
        let init = RequestError::Transport {
            kind: ErrorKind::Init,
            detail: "Cloud API isn't enabled".into(),
            code: Some(-601034),
            retryable: true,
        };
        assert!(
            matches!(
                p.decide(&init, first(false), &mut Rng::new(1)),
                Decision::Retry { .. }
            ),
            "failed before sending: safe"
        );
    }

    #[test]
    fn stops_at_the_limit_and_for_permanent_failures() {
        let p = RetryPolicy::DEFAULT;
        let mut spent = first(true);
        spent.retries = 3;
        assert_eq!(
            p.decide(&status(503), spent, &mut Rng::new(1)),
            Decision::GiveUp(GiveUp::LimitReached)
        );
        assert_eq!(
            p.decide(&status(404), first(true), &mut Rng::new(1)),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
        assert_eq!(
            RetryPolicy::DEFAULT
                .disabled()
                .decide(&status(503), first(true), &mut Rng::new(1)),
            Decision::GiveUp(GiveUp::LimitReached)
        );
    }

    #[test]
    fn retry_after_is_honoured_on_429_and_503_up_to_the_cap() {
        let p = RetryPolicy::DEFAULT;
        let with = |ms| Attempted {
            retry_after_ms: Some(ms),
            ..first(true)
        };
        assert_eq!(
            p.decide(&status(429), with(2000), &mut Rng::new(1)),
            Decision::Retry { delay_ms: 2000 }
        );
        assert_eq!(
            p.decide(&status(503), with(60_000), &mut Rng::new(1)),
            Decision::Retry { delay_ms: 5000 }
        );
        assert!(
            matches!(p.decide(&status(502), with(2000), &mut Rng::new(1)), Decision::Retry { delay_ms } if delay_ms <= 300),
            "502 ignores Retry-After"
        );
    }

    #[test]
    fn never_schedules_past_the_deadline() {
        let p = RetryPolicy::DEFAULT;
        let at_deadline = Attempted {
            elapsed_ms: 30_000.0,
            ..first(true)
        };
        assert_eq!(
            p.decide(&status(503), at_deadline, &mut Rng::new(3)),
            Decision::GiveUp(GiveUp::Deadline)
        );
        let server_wait_too_long = Attempted {
            elapsed_ms: 28_000.0,
            retry_after_ms: Some(2000),
            ..first(true)
        };
        assert_eq!(
            p.decide(&status(429), server_wait_too_long, &mut Rng::new(3)),
            Decision::GiveUp(GiveUp::Deadline)
        );
    }
}
