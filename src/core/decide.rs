//! What happens after an attempt ends without a success: the one place that
//! decides. Every way an attempt can end (an HTTP error, a platform failure,
//! an interruption, the breaker's refusal, no network, a deadline in the
//! scheduler's queue, a failed cloud init, the user changing) comes here with
//! the fetch as it stands and the state of the world, and gets one answer.
//!
//! It is a pure function: the engine applies the answer and nothing else
//! decides. Work that must happen later is a timer or the next event, never a
//! call back into the engine from inside the same event.
//!
//! Why commands returned per event rather than quinn-proto's polled outbox
//! (`poll_transmit` / `poll_timeout`): each event already answers with its
//! whole outbox in one list, which costs one crossing of the wasm boundary;
//! polling would cost one more per command, and crossings are what iOS's
//! interpreter punishes. What quinn-proto's design guarantees, that an event
//! cannot recurse into more events, holds here by rule: an event starts at
//! most one replay, and whatever follows a replay is a `WaitReplay` timer
//! (the model-based test bounds the commands of every event).

use super::error::{ErrorKind, RequestError};
use super::request::Method;
use super::retry::{Attempted, Decision, GiveUp, RetryPolicy};
use super::rng::Rng;
use crate::prelude::*;

/// How the attempt ended.
#[derive(Clone, Copy, Debug)]
pub struct Ended<'a> {
    /// The failure, as classified.
    pub error: &'a RequestError,
    /// `request:fail interrupted` (errno 600003): the app's doing, not the service's.
    pub interrupted: bool,
    /// The server's `Retry-After`, in ms.
    pub retry_after_ms: Option<u32>,
}

/// The fetch as it stands.
#[derive(Clone, Copy, Debug)]
pub struct Fetch {
    /// Its method (named in notes).
    pub method: Method,
    /// Attempts sent so far (0 when none was: refused, offline, init failed).
    pub attempts: u32,
    /// It may be sent twice (idempotent method, `idempotent: true`, or a key).
    pub idempotent: bool,
    /// Since it started (or came back from the background).
    pub elapsed_ms: f64,
    /// Its retry policy.
    pub retry: RetryPolicy,
    /// `offline: 'queue'`: it goes to the offline queue if it cannot reach the server.
    pub queueable: bool,
    /// It replays a queued mutation that failed this many replays before.
    pub replay: Option<u32>,
    /// The user (`setUser`) is still the one it was made under.
    pub same_user: bool,
    /// The client's `header` function failed for this attempt (threw,
    /// answered something else than headers, or not in time).
    pub headers_failed: bool,
}

/// The state of the world around it.
#[derive(Clone, Copy, Debug)]
pub struct World {
    /// The device has a network.
    pub online: bool,
    /// The app is in the background.
    pub hidden: bool,
    /// The service's retry budget, if it has one.
    pub budget: Option<Quote>,
}

/// What the service's retry budget says of a retry.
#[derive(Clone, Copy, Debug)]
pub struct Quote {
    /// Its cost in tokens, or None when the budget cannot pay it.
    pub cost: Option<u32>,
    /// Tokens left.
    pub tokens: u32,
    /// Tokens when full.
    pub capacity: u32,
}

/// The answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// Try again after `delay_ms`, paying `cost` tokens of the retry budget.
    Retry {
        /// How long to wait.
        delay_ms: u32,
        /// Tokens the retry costs (0 without a budget).
        cost: u32,
    },
    /// Interrupted in the background: sent again when the app is back.
    Park,
    /// It cannot reach the server: keep it in the offline queue and tell the
    /// caller so once the queue is saved.
    Queue {
        /// What the caller is told failed.
        error: RequestError,
        /// Why it was not retried.
        note: String,
    },
    /// A replay that may pass later: the mutation stays queued. The next
    /// replay after `after_ms`, or on the next network event when None.
    KeepQueued {
        /// The wait before the next replay.
        after_ms: Option<u32>,
    },
    /// A replay that will not pass: report it and drop the mutation.
    DropQueued {
        /// The failure reported.
        error: RequestError,
    },
    /// Return the failure to the callers.
    Fail {
        /// The failure.
        error: RequestError,
        /// Why it was not retried (may be empty).
        note: String,
    },
}

/// The first wait before replaying a mutation whose replay failed for a
/// reason that may pass; it doubles with each such failure...
pub const REPLAY_BASE_MS: u32 = 2_000;
/// ...up to this.
pub const REPLAY_CAP_MS: u32 = 300_000;

/// Decides what follows a failed attempt (see the module's doc).
pub fn after_attempt(ended: Ended<'_>, fetch: Fetch, world: World, rng: &mut Rng) -> Next {
    let error = ended.error;
    if !fetch.same_user {
        let error = user_changed();
        return not_retried(error, String::new(), fetch, world, rng);
    }
    if fetch.headers_failed {
        // The app's function, not the request or the service: never retried
        // at once; a replay waits and asks it again later.
        return not_retried(error.clone(), String::new(), fetch, world, rng);
    }
    if ended.interrupted && world.hidden && fetch.idempotent {
        return Next::Park;
    }
    let attempted = Attempted {
        retries: fetch.attempts.saturating_sub(1),
        idempotent: fetch.idempotent,
        elapsed_ms: fetch.elapsed_ms,
        retry_after_ms: ended.retry_after_ms,
    };
    match fetch.retry.decide(error, attempted, rng) {
        Decision::Retry { .. } if !world.online => {
            let note = if error.kind() == ErrorKind::Offline {
                String::new()
            } else {
                format!("not retried: the device went offline ({error})")
            };
            not_retried(offline(), note, fetch, world, rng)
        }
        Decision::Retry { delay_ms } => match world.budget {
            None => Next::Retry { delay_ms, cost: 0 },
            Some(Quote {
                cost: Some(cost), ..
            }) => Next::Retry { delay_ms, cost },
            Some(Quote {
                cost: None,
                tokens,
                capacity,
            }) => {
                let note = format!(
                    "{} ({tokens} of {capacity} tokens left; successes refill it)",
                    GiveUp::Budget.explain("", fetch.attempts)
                );
                not_retried(error.clone(), note, fetch, world, rng)
            }
        },
        Decision::GiveUp(why) => {
            let note = why.explain(fetch.method.as_str(), fetch.attempts);
            not_retried(error.clone(), note, fetch, world, rng)
        }
    }
}

/// A failure that will not be retried now: a replay stays queued or is
/// dropped, a queueable mutation goes to the queue, anything else fails.
fn not_retried(
    error: RequestError,
    note: String,
    fetch: Fetch,
    world: World,
    rng: &mut Rng,
) -> Next {
    if let Some(failed_replays) = fetch.replay {
        if !may_pass(&error) && !fetch.headers_failed {
            return Next::DropQueued { error };
        }
        // No network, or another user: the next network or user event replays it.
        if !world.online || !fetch.same_user {
            return Next::KeepQueued { after_ms: None };
        }
        let ceiling = super::backoff::Backoff {
            base_ms: REPLAY_BASE_MS,
            cap_ms: REPLAY_CAP_MS,
        }
        .ceiling(failed_replays);
        let jittered = ceiling / 2 + rng.up_to(ceiling / 2);
        let breaker = match &error {
            RequestError::CircuitOpen { retry_in_ms, .. } => retry_in_ms.saturating_add(1),
            _ => 0,
        };
        return Next::KeepQueued {
            after_ms: Some(jittered.max(breaker)),
        };
    }
    if fetch.queueable && matches!(error.kind(), ErrorKind::Offline | ErrorKind::Network) {
        return Next::Queue { error, note };
    }
    Next::Fail { error, note }
}

/// A replay failing this way may pass later: no network, the service down or
/// refusing for now, a cloud init that failed, a timeout, an expired token.
pub fn may_pass(error: &RequestError) -> bool {
    error.is_retryable()
        || matches!(error, RequestError::CircuitOpen { .. })
        // An expired token: the app refreshes it, and the next replay asks
        // the client's `header` function again. (403 is a refusal: dropped.)
        || error.status() == Some(401)
        || matches!(
            error.kind(),
            ErrorKind::Offline | ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Init
        )
        || is_user_changed(error)
}

/// The failure of a request that found no network.
pub fn offline() -> RequestError {
    RequestError::Transport {
        kind: ErrorKind::Offline,
        detail: "the device is offline (network type 'none')".into(),
        code: None,
        retryable: true,
    }
}

const USER_CHANGED: &str =
    "not sent again: the user changed (setUser) since it started, and its attempts go out only under its own user";

/// The failure of a request whose user changed before its next attempt.
pub fn user_changed() -> RequestError {
    RequestError::Transport {
        kind: ErrorKind::Cancelled,
        detail: USER_CHANGED.into(),
        code: None,
        retryable: false,
    }
}

fn is_user_changed(error: &RequestError) -> bool {
    matches!(error, RequestError::Transport { detail, .. } if detail == USER_CHANGED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(s: u16) -> RequestError {
        RequestError::Status { status: s }
    }

    fn transport(kind: ErrorKind, retryable: bool) -> RequestError {
        RequestError::Transport {
            kind,
            detail: kind.as_str().into(),
            code: None,
            retryable,
        }
    }

    fn open() -> RequestError {
        RequestError::CircuitOpen {
            route: "cloud",
            failures: 20,
            calls: 20,
            retry_in_ms: 4000,
        }
    }

    const FETCH: Fetch = Fetch {
        method: Method::Get,
        attempts: 1,
        idempotent: true,
        elapsed_ms: 0.0,
        retry: RetryPolicy::DEFAULT,
        queueable: false,
        replay: None,
        same_user: true,
        headers_failed: false,
    };
    const WORLD: World = World {
        online: true,
        hidden: false,
        budget: None,
    };

    fn decide(error: &RequestError, interrupted: bool, fetch: Fetch, world: World) -> Next {
        let ended = Ended {
            error,
            interrupted,
            retry_after_ms: None,
        };
        after_attempt(ended, fetch, world, &mut Rng::new(7))
    }

    /// The shape of the answer, for the table.
    fn shape(next: &Next) -> String {
        match next {
            Next::Retry { cost, .. } => format!("retry (cost {cost})"),
            Next::Park => "park".into(),
            Next::Queue { error, .. } => format!("queue ({})", error.kind().as_str()),
            Next::KeepQueued { after_ms: None } => "keep queued (until an event)".into(),
            Next::KeepQueued { after_ms: Some(_) } => "keep queued (timer)".into(),
            Next::DropQueued { error } => format!("drop ({})", error.kind().as_str()),
            Next::Fail { error, .. } => format!("fail ({})", error.kind().as_str()),
        }
    }

    #[test]
    fn the_table() {
        let network = transport(ErrorKind::Network, true);
        let timeout = transport(ErrorKind::Timeout, true);
        let invalid = transport(ErrorKind::Invalid, false);
        let post = Fetch {
            method: Method::Post,
            idempotent: false,
            ..FETCH
        };
        let queueable = Fetch {
            queueable: true,
            ..FETCH
        };
        let replay = Fetch {
            replay: Some(0),
            ..FETCH
        };
        let spent = Fetch {
            attempts: 4,
            ..FETCH
        };
        let offline_world = World {
            online: false,
            ..WORLD
        };
        let hidden = World {
            hidden: true,
            ..WORLD
        };
        let broke = World {
            budget: Some(Quote {
                cost: None,
                tokens: 3,
                capacity: 500,
            }),
            ..WORLD
        };
        let paying = World {
            budget: Some(Quote {
                cost: Some(5),
                tokens: 300,
                capacity: 500,
            }),
            ..WORLD
        };
        let other_user = Fetch {
            same_user: false,
            ..FETCH
        };
        let rows: Vec<(&str, Next, &str)> = vec![
            (
                "503, idempotent",
                decide(&status(503), false, FETCH, WORLD),
                "retry (cost 0)",
            ),
            (
                "503, budget pays",
                decide(&status(503), false, FETCH, paying),
                "retry (cost 5)",
            ),
            (
                "503, budget spent",
                decide(&status(503), false, FETCH, broke),
                "fail (service)",
            ),
            (
                "503, limit reached",
                decide(&status(503), false, spent, WORLD),
                "fail (service)",
            ),
            (
                "404",
                decide(&status(404), false, FETCH, WORLD),
                "fail (http)",
            ),
            (
                "reset, POST without key",
                decide(&network, false, post, WORLD),
                "fail (network)",
            ),
            (
                "reset, offline now",
                decide(&network, false, FETCH, offline_world),
                "fail (offline)",
            ),
            (
                "interrupted, hidden",
                decide(&network, true, FETCH, hidden),
                "park",
            ),
            (
                "interrupted, POST, hidden",
                decide(&network, true, post, hidden),
                "fail (network)",
            ),
            (
                "interrupted, visible",
                decide(&network, true, FETCH, WORLD),
                "retry (cost 0)",
            ),
            (
                "breaker open",
                decide(&open(), false, FETCH, WORLD),
                "fail (service)",
            ),
            (
                "queueable, offline at send",
                decide(
                    &offline(),
                    false,
                    Fetch {
                        attempts: 0,
                        ..queueable
                    },
                    offline_world,
                ),
                "queue (offline)",
            ),
            (
                "queueable, offline now",
                decide(&network, false, queueable, offline_world),
                "queue (offline)",
            ),
            (
                "queueable, reset, limit reached",
                decide(
                    &network,
                    false,
                    Fetch {
                        attempts: 4,
                        ..queueable
                    },
                    WORLD,
                ),
                "queue (network)",
            ),
            (
                "queueable, 500 spent",
                decide(
                    &status(500),
                    false,
                    Fetch {
                        attempts: 4,
                        ..queueable
                    },
                    WORLD,
                ),
                "fail (service)",
            ),
            (
                "queueable, breaker open",
                decide(&open(), false, queueable, WORLD),
                "fail (service)",
            ),
            (
                "replay, breaker open",
                decide(&open(), false, replay, WORLD),
                "keep queued (timer)",
            ),
            (
                "replay, offline",
                decide(&network, false, replay, offline_world),
                "keep queued (until an event)",
            ),
            (
                "replay, timeout spent",
                decide(
                    &timeout,
                    false,
                    Fetch {
                        attempts: 4,
                        ..replay
                    },
                    WORLD,
                ),
                "keep queued (timer)",
            ),
            (
                "replay, 422",
                decide(&status(422), false, replay, WORLD),
                "drop (http)",
            ),
            (
                "replay, 401",
                decide(&status(401), false, replay, WORLD),
                "keep queued (timer)",
            ),
            (
                "replay, 403",
                decide(&status(403), false, replay, WORLD),
                "drop (unauthorized)",
            ),
            (
                "replay, invalid",
                decide(&invalid, false, replay, WORLD),
                "drop (invalid)",
            ),
            (
                "user changed",
                decide(&status(503), false, other_user, WORLD),
                "fail (cancelled)",
            ),
            (
                "replay, user changed",
                decide(
                    &status(503),
                    false,
                    Fetch {
                        same_user: false,
                        ..replay
                    },
                    WORLD,
                ),
                "keep queued (until an event)",
            ),
            (
                "queueable, user changed",
                decide(
                    &network,
                    false,
                    Fetch {
                        same_user: false,
                        ..queueable
                    },
                    WORLD,
                ),
                "fail (cancelled)",
            ),
            (
                "header function failed",
                decide(
                    &invalid,
                    false,
                    Fetch {
                        headers_failed: true,
                        ..FETCH
                    },
                    WORLD,
                ),
                "fail (invalid)",
            ),
            (
                "replay, header function failed",
                decide(
                    &invalid,
                    false,
                    Fetch {
                        headers_failed: true,
                        ..replay
                    },
                    WORLD,
                ),
                "keep queued (timer)",
            ),
        ];
        let mut wrong = Vec::new();
        for (name, next, want) in &rows {
            if shape(next) != *want {
                wrong.push(format!("{name}: got {}, want {want}", shape(next)));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn a_replay_waits_longer_after_each_failure_and_at_least_until_the_breaker_probes() {
        let replay = |n| Fetch {
            replay: Some(n),
            attempts: 4,
            ..FETCH
        };
        let after = |error: &RequestError, n| match decide(error, false, replay(n), WORLD) {
            Next::KeepQueued { after_ms: Some(ms) } => ms,
            other => panic!("{other:?}"),
        };
        let network = transport(ErrorKind::Network, true);
        assert!((1000..=2000).contains(&after(&network, 0)));
        assert!((8000..=16_000).contains(&after(&network, 3)));
        assert!((150_000..=300_000).contains(&after(&network, 30)));
        let mut long = open();
        if let RequestError::CircuitOpen { retry_in_ms, .. } = &mut long {
            *retry_in_ms = 60_000;
        }
        assert!(after(&long, 0) > 60_000);
    }

    #[test]
    fn notes_say_why_it_was_not_retried() {
        let network = transport(ErrorKind::Network, true);
        let Next::Fail { note, .. } = decide(
            &network,
            false,
            FETCH,
            World {
                online: false,
                ..WORLD
            },
        ) else {
            panic!()
        };
        assert!(
            note.starts_with("not retried: the device went offline"),
            "{note}"
        );
        let broke = World {
            budget: Some(Quote {
                cost: None,
                tokens: 3,
                capacity: 500,
            }),
            ..WORLD
        };
        let Next::Fail { note, .. } = decide(&status(503), false, FETCH, broke) else {
            panic!()
        };
        assert!(
            note.contains("retry budget is spent (3 of 500 tokens left"),
            "{note}"
        );
        let Next::Fail { note, .. } = decide(&status(404), false, FETCH, WORLD) else {
            panic!()
        };
        assert!(note.is_empty(), "{note}");
    }
}
