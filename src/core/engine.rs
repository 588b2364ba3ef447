//! The sans-IO request engine: the shim reports events, the engine answers
//! with commands. It never performs I/O and never reads a clock; `now_ms` is
//! passed in with every event.
//!
//! A request goes: route → (cloud: shared init) → attempt → on failure the
//! retry policy decides → wait → attempt ... → resolve or reject.

use std::collections::HashMap;

use super::classify::{classify, Failure};
use super::config::{ClientConfig, Platform};
use super::error::{ErrorKind, RequestError};
use super::init::{CloudInit, InitStep};
use super::request::{Method, RawRequest, RequestSpec};
use super::retry::{Attempted, Decision, GiveUp, RetryPolicy};
use super::rng::Rng;
use super::route::{self, Route, RouteChoice};

/// Largest request body callContainer accepts (errCode -606001 above it).
pub const CLOUD_MAX_BODY_BYTES: usize = 100 * 1024;

/// Longest timeout callContainer honours on the cloud link.
pub const CLOUD_MAX_TIMEOUT_MS: u32 = 15_000;

/// Identifies one request from `start` until it settles.
pub type RequestId = u32;

/// What the shim must do next.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Make one attempt, then report `on_response` or `on_failure`.
    Send(Send),
    /// Wait, then report `on_timer`.
    Wait {
        /// The request.
        id: RequestId,
        /// How long.
        delay_ms: u32,
    },
    /// The request succeeded with the last response.
    Resolve(Settled),
    /// The request failed.
    Reject(Settled, RequestError),
    /// Initialise `wx.cloud` (shared by all cloud requests), then report `on_init`.
    InitCloud {
        /// 1 for the first try.
        attempt: u32,
    },
    /// Wait, then report `on_init_timer`.
    WaitInit {
        /// How long.
        delay_ms: u32,
    },
}

/// One attempt to make.
#[derive(Clone, Debug, PartialEq)]
pub struct Send {
    /// The request.
    pub id: RequestId,
    /// Where to send it and why.
    pub route: RouteChoice,
    /// The canonical method to send.
    pub method: Method,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Timeout of this attempt (within what is left of the deadline).
    pub timeout_ms: u32,
    /// The timeout asked for, when the cloud link's maximum lowered it.
    pub clamped_from: Option<u32>,
    /// Full URL on the HTTP route.
    pub url: Option<String>,
}

/// How a settled request went.
#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    /// The request.
    pub id: RequestId,
    /// The route of the last attempt.
    pub route: Route,
    /// Why that route.
    pub reason: &'static str,
    /// Attempts made.
    pub attempts: u32,
    /// From `start` to settling.
    pub elapsed_ms: f64,
    /// Why a failure was not retried, for the error's detail (may be empty).
    pub note: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitingInit,
    InFlight,
    Waiting,
}

#[derive(Debug)]
struct Pending {
    choice: RouteChoice,
    method: Method,
    idempotent: bool,
    retry: RetryPolicy,
    timeout_ms: u32,
    clamped_from: Option<u32>,
    url: Option<String>,
    attempts: u32,
    started_ms: f64,
    phase: Phase,
}

/// The request engine of one client.
#[derive(Debug)]
pub struct Engine {
    config: ClientConfig,
    platform: Platform,
    pending: HashMap<RequestId, Pending>,
    next_id: RequestId,
    init: CloudInit,
    online: bool,
    rng: Rng,
}

impl Engine {
    /// An engine for a validated configuration on a platform. `seed` feeds the
    /// jitter unless the configuration fixes one.
    pub fn new(config: ClientConfig, platform: Platform, seed: u32) -> Self {
        let seed = config.seed.unwrap_or(seed);
        Engine {
            config,
            platform,
            pending: HashMap::new(),
            next_id: 1,
            init: CloudInit::default(),
            online: true,
            rng: Rng::new(u64::from(seed)),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Requests started and not yet settled.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// The device's connectivity changed (`wx.onNetworkStatusChange`).
    pub fn set_online(&mut self, online: bool) {
        self.online = online;
    }

    /// Plans a new request: its id and the first commands (none while it
    /// waits for a shared init). Errors are input problems: nothing started.
    pub fn start(
        &mut self,
        raw: RawRequest,
        now_ms: f64,
    ) -> Result<(RequestId, Vec<Command>), RequestError> {
        let spec = raw.validate(self.config.retry)?;
        let choice = route::choose(
            &self.config,
            &self.platform,
            spec.route,
            spec.method,
            &spec.path,
        )?;
        let asked = spec.timeout_ms.unwrap_or(self.config.timeout_ms);
        let (timeout_ms, clamped_from, url) = match choice.route {
            Route::Cloud => {
                check_cloud_limits(&spec)?;
                let clamped = asked.min(CLOUD_MAX_TIMEOUT_MS);
                (clamped, (clamped < asked).then_some(asked), None)
            }
            Route::Http => {
                let base = self.config.base_url.as_deref().unwrap_or_default();
                (asked, None, Some(format!("{base}{}", spec.path)))
            }
            Route::Mock => (asked, None, None),
        };
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.pending.insert(
            id,
            Pending {
                choice,
                method: spec.method,
                idempotent: spec.idempotent,
                retry: spec.retry,
                timeout_ms,
                clamped_from,
                url,
                attempts: 0,
                started_ms: now_ms,
                phase: Phase::InFlight,
            },
        );
        if spec.aborted {
            return Ok((id, self.cancel(id, now_ms)));
        }
        Ok((id, self.attempt(id, now_ms)))
    }

    /// The attempt got an HTTP response; `retry_after` is its `Retry-After` header.
    pub fn on_response(
        &mut self,
        id: RequestId,
        status: u16,
        retry_after: Option<&str>,
        now_ms: f64,
    ) -> Result<Vec<Command>, RequestError> {
        self.expect(id, Phase::InFlight)?;
        if (200..300).contains(&status) {
            return Ok(vec![Command::Resolve(self.settle(
                id,
                now_ms,
                String::new(),
            ))]);
        }
        let retry_after_ms = retry_after.and_then(|v| super::backoff::parse_retry_after(v, now_ms));
        Ok(self.after_failure(id, RequestError::Status { status }, retry_after_ms, now_ms))
    }

    /// The attempt failed without a response.
    pub fn on_failure(
        &mut self,
        id: RequestId,
        failure: Failure,
        now_ms: f64,
    ) -> Result<Vec<Command>, RequestError> {
        self.expect(id, Phase::InFlight)?;
        let error = classify(failure);
        if error.kind() == ErrorKind::Init {
            // callContainer says the cloud is not initialised after all.
            self.init.invalidate();
        }
        Ok(self.after_failure(id, error, None, now_ms))
    }

    /// A `Wait` is over.
    pub fn on_timer(&mut self, id: RequestId, now_ms: f64) -> Result<Vec<Command>, RequestError> {
        self.expect(id, Phase::Waiting)?;
        Ok(self.attempt(id, now_ms))
    }

    /// `wx.cloud` init finished: `Ok` or the failure the platform reported.
    pub fn on_init(&mut self, result: Result<(), Failure>, now_ms: f64) -> Vec<Command> {
        match result {
            Ok(()) => {
                let waiting = self.init.succeeded();
                waiting
                    .into_iter()
                    .flat_map(|id| self.attempt(id, now_ms))
                    .collect()
            }
            Err(failure) => match self.init.failed() {
                Ok(delay_ms) => vec![Command::WaitInit { delay_ms }],
                Err(waiting) => {
                    let error = RequestError::Transport {
                        kind: ErrorKind::Init,
                        detail: failure.err_msg,
                        code: failure.err_code.or(failure.errno),
                        retryable: true,
                    };
                    let note = format!(
                        "wx.cloud init failed {} times; the next request tries again",
                        super::init::INIT_RETRIES + 1
                    );
                    let mut commands = Vec::with_capacity(waiting.len());
                    for id in waiting {
                        if self.pending.contains_key(&id) {
                            commands.push(Command::Reject(
                                self.settle(id, now_ms, note.clone()),
                                error.clone(),
                            ));
                        }
                    }
                    commands
                }
            },
        }
    }

    /// A `WaitInit` is over.
    pub fn on_init_timer(&mut self) -> Vec<Command> {
        self.init
            .retry_due()
            .map(|attempt| Command::InitCloud { attempt })
            .into_iter()
            .collect()
    }

    /// The caller cancelled: the request settles now as `cancelled` and is
    /// never retried. Unknown or settled ids are ignored.
    pub fn cancel(&mut self, id: RequestId, now_ms: f64) -> Vec<Command> {
        if !self.pending.contains_key(&id) {
            return Vec::new();
        }
        self.init.forget(id);
        vec![Command::Reject(
            self.settle(id, now_ms, String::new()),
            RequestError::Cancelled,
        )]
    }

    /// Sends the next attempt, or waits for init, or fails fast offline.
    fn attempt(&mut self, id: RequestId, now_ms: f64) -> Vec<Command> {
        if !self.online {
            let offline = offline_error();
            return vec![Command::Reject(
                self.settle(id, now_ms, String::new()),
                offline,
            )];
        }
        let Some(pending) = self.pending.get_mut(&id) else {
            return Vec::new();
        };
        if pending.choice.route == Route::Cloud {
            match self.init.request(id) {
                InitStep::Ready => {}
                InitStep::Run(attempt) => {
                    pending.phase = Phase::AwaitingInit;
                    return vec![Command::InitCloud { attempt }];
                }
                InitStep::Wait => {
                    pending.phase = Phase::AwaitingInit;
                    return Vec::new();
                }
            }
        }
        let left = f64::from(pending.retry.deadline_ms) - (now_ms - pending.started_ms);
        let timeout_ms = pending.timeout_ms.min(left.max(1.0) as u32);
        pending.attempts += 1;
        pending.phase = Phase::InFlight;
        vec![Command::Send(Send {
            id,
            route: pending.choice.clone(),
            method: pending.method,
            attempt: pending.attempts,
            timeout_ms,
            clamped_from: pending.clamped_from,
            url: pending.url.clone(),
        })]
    }

    fn after_failure(
        &mut self,
        id: RequestId,
        error: RequestError,
        retry_after_ms: Option<u32>,
        now_ms: f64,
    ) -> Vec<Command> {
        let pending = &self.pending[&id];
        let attempted = Attempted {
            retries: pending.attempts - 1,
            idempotent: pending.idempotent,
            elapsed_ms: now_ms - pending.started_ms,
            retry_after_ms,
        };
        let method = pending.method.as_str();
        match pending.retry.decide(&error, attempted, &mut self.rng) {
            Decision::Retry { .. } if !self.online => {
                let note = format!("not retried: the device went offline ({error})");
                vec![Command::Reject(
                    self.settle(id, now_ms, note),
                    offline_error(),
                )]
            }
            Decision::Retry { delay_ms } => {
                self.pending.get_mut(&id).expect("pending").phase = Phase::Waiting;
                vec![Command::Wait { id, delay_ms }]
            }
            Decision::GiveUp(why) => {
                let attempts = pending.attempts;
                let note = if why == GiveUp::NotRetryable {
                    String::new()
                } else {
                    why.explain(method, attempts)
                };
                vec![Command::Reject(self.settle(id, now_ms, note), error)]
            }
        }
    }

    fn expect(&self, id: RequestId, phase: Phase) -> Result<(), RequestError> {
        match self.pending.get(&id) {
            Some(p) if p.phase == phase => Ok(()),
            Some(_) => Err(RequestError::invalid(
                "id",
                format!("{id} is not expecting this event"),
            )),
            None => Err(RequestError::invalid(
                "id",
                format!("{id} is not an in-flight request"),
            )),
        }
    }

    fn settle(&mut self, id: RequestId, now_ms: f64, note: String) -> Settled {
        let pending = self
            .pending
            .remove(&id)
            .expect("settling a pending request");
        Settled {
            id,
            route: pending.choice.route,
            reason: pending.choice.reason,
            attempts: pending.attempts,
            elapsed_ms: (now_ms - pending.started_ms).max(0.0),
            note,
        }
    }
}

fn offline_error() -> RequestError {
    RequestError::Transport {
        kind: ErrorKind::Offline,
        detail: "the device is offline (network type 'none')".into(),
        code: None,
        retryable: true,
    }
}

/// callContainer's limits, checked before sending so the caller gets a clear
/// error instead of the platform's code.
fn check_cloud_limits(spec: &RequestSpec) -> Result<(), RequestError> {
    if !matches!(
        spec.method,
        Method::Get | Method::Post | Method::Put | Method::Delete
    ) {
        return Err(RequestError::invalid(
            "method",
            format!(
                "{} is not supported by callContainer (GET, POST, PUT, DELETE only; errCode 102005)",
                spec.method.as_str()
            ),
        ));
    }
    if spec.body_bytes > CLOUD_MAX_BODY_BYTES {
        return Err(RequestError::invalid(
            "data",
            format!(
                "is {} bytes as JSON; callContainer accepts at most 100 KB (errCode -606001)",
                spec.body_bytes
            ),
        ));
    }
    Ok(())
}
