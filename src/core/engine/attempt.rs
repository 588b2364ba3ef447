//! One attempt of a fetch, from its gates (network, user, cloud init, the
//! client's `header` function, a transport slot, the breaker) to how it
//! ended. Every ending that is not a success goes through
//! [`decide::after_attempt`](crate::core::decide::after_attempt), and `ended`
//! applies its answer: nothing else decides what follows a failure.

use super::*;
use crate::core::decide::{self, Ended, Next, World};
use crate::core::float;
use crate::core::limits::check_headers;
use crate::core::request::as_sent;
use crate::core::text::contains_ignore_ascii_case;

/// Grace after an attempt's timeout for the platform to report its own
/// timeout (with its code) before the engine's timer does.
pub const ATTEMPT_GRACE_MS: u32 = 1000;

/// How an attempt ended without a success, for `ended`.
pub(super) struct Ending {
    pub error: RequestError,
    pub interrupted: bool,
    pub retry_after_ms: Option<u32>,
    /// The client's `header` function failed (not the request's fault).
    pub headers_failed: bool,
}

impl Ending {
    pub(super) fn of(error: RequestError) -> Self {
        Ending {
            error,
            interrupted: false,
            retry_after_ms: None,
            headers_failed: false,
        }
    }
}

impl<V: Clone + Weigh> Engine<V> {
    /// The attempt got an HTTP answer. An answer for an attempt the engine no
    /// longer waits for (it timed out, was cancelled) is ignored.
    pub fn on_response(
        &mut self,
        id: RequestId,
        answer: Answer<V>,
        now_ms: f64,
    ) -> Result<Vec<Command<V>>, RequestError> {
        if !self.is(id, Phase::InFlight) {
            return Ok(Vec::new());
        }
        self.note_outcome(id, || format!("HTTP {}", answer.status));
        let mut next = self.free_slot(id, now_ms);
        if answer.status == 304
            && self
                .fetches
                .get(&id)
                .is_some_and(|f| f.revalidate.is_some())
        {
            self.report(id, false, now_ms);
            let mut commands = self.revalidated(id, now_ms);
            commands.append(&mut next);
            return Ok(commands);
        }
        // A replay answered 2xx is delivered whatever its body: the server
        // applied it, and its key would only bring the same answer back. So
        // is a fleet report: the endpoint took it.
        let replay = self
            .fetches
            .get(&id)
            .is_some_and(|f| f.replay.is_some() || f.report);
        if (200..300).contains(&answer.status) && (!answer.body_not_json || replay) {
            self.report(id, false, now_ms);
            let mut commands = self.succeed(id, answer, now_ms);
            commands.append(&mut next);
            return Ok(commands);
        }
        let retry_after_ms = answer
            .retry_after
            .as_deref()
            .and_then(|v| super::super::backoff::parse_retry_after(v, now_ms));
        let error = if answer.body_not_json && (200..300).contains(&answer.status) {
            RequestError::BodyNotJson {
                status: answer.status,
            }
        } else {
            RequestError::Status {
                status: answer.status,
            }
        };
        self.report(id, counts_against_service(&error), now_ms);
        let ending = Ending {
            retry_after_ms,
            ..Ending::of(error)
        };
        let mut commands = self.ended(id, ending, now_ms);
        commands.append(&mut next);
        Ok(commands)
    }

    /// The attempt failed without an answer. Ignored when the engine no
    /// longer waits for that attempt.
    pub fn on_failure(
        &mut self,
        id: RequestId,
        failure: Failure,
        now_ms: f64,
    ) -> Result<Vec<Command<V>>, RequestError> {
        if !self.is(id, Phase::InFlight) {
            return Ok(Vec::new());
        }
        let interrupted = is_interrupted(&failure);
        let error = classify(failure);
        Ok(self.attempt_failed(id, error, interrupted, now_ms))
    }

    /// An attempt in flight failed with `error`.
    fn attempt_failed(
        &mut self,
        id: RequestId,
        error: RequestError,
        interrupted: bool,
        now_ms: f64,
    ) -> Vec<Command<V>> {
        let mut next = self.free_slot(id, now_ms);
        self.note_outcome(id, || format!("{}: {error}", error.kind().as_str()));
        if error.kind() == ErrorKind::Init {
            // callContainer says the cloud is not initialised after all.
            self.init.invalidate();
        }
        if interrupted {
            // The app's doing, not the service's: the breaker is not told.
            self.abandon_probe(id);
        } else {
            self.report(id, counts_against_service(&error), now_ms);
        }
        let ending = Ending {
            interrupted,
            ..Ending::of(error)
        };
        let mut commands = self.ended(id, ending, now_ms);
        commands.append(&mut next);
        commands
    }

    /// Fetch `id`'s timer fired: a retry's wait is over, its deadline passed
    /// in the queue for a slot, its attempt got no answer in time, or the
    /// client's `header` function did not answer in time. Ignored for a
    /// fetch that has ended.
    pub fn on_timer(
        &mut self,
        id: RequestId,
        now_ms: f64,
    ) -> Result<Vec<Command<V>>, RequestError> {
        let Some(fetch) = self.fetches.get(&id) else {
            return Ok(Vec::new());
        };
        let waited = float::round((now_ms - fetch.started_ms).max(0.0)) as u64;
        Ok(match fetch.phase {
            Phase::Waiting => self.attempt(id, now_ms),
            Phase::Queued => {
                self.scheduler.forget(fetch.choice.route, id);
                let error = RequestError::Transport {
                    kind: ErrorKind::Timeout,
                    detail: format!(
                        "not sent: waited {waited} ms for one of the {} slots of {}; the deadline passed",
                        self.config.max_concurrent,
                        fetch.choice.route.as_str()
                    ),
                    code: None,
                    retryable: false,
                };
                self.ended(id, Ending::of(error), now_ms)
            }
            Phase::InFlight => {
                let error = RequestError::Transport {
                    kind: ErrorKind::Timeout,
                    detail: format!(
                        "{}:fail no answer from the platform within {} ms (the timeout and {ATTEMPT_GRACE_MS} ms of grace)",
                        fetch.choice.route.as_str(),
                        fetch.timeout_ms.saturating_add(ATTEMPT_GRACE_MS)
                    ),
                    code: None,
                    retryable: true,
                };
                let mut commands = vec![Command::Abort { id }];
                commands.extend(self.attempt_failed(id, error, false, now_ms));
                commands
            }
            Phase::AwaitingHeaders => {
                let error = RequestError::invalid(
                    "header",
                    format!("(the client's function) did not answer within {waited} ms"),
                );
                self.ended(
                    id,
                    Ending {
                        headers_failed: true,
                        ..Ending::of(error)
                    },
                    now_ms,
                )
            }
            Phase::AwaitingInit => {
                // A timer early by the wall clock arms what is left: the
                // init may still finish in time.
                let left = f64::from(fetch.retry.deadline_ms) - (now_ms - fetch.started_ms);
                if left >= 1.0 {
                    return Ok(vec![Command::Wait {
                        id,
                        delay_ms: float::ceil(left) as u32,
                    }]);
                }
                self.init.forget(id);
                let error = RequestError::Transport {
                    kind: ErrorKind::Timeout,
                    detail: format!(
                        "not sent: wx.cloud init did not finish within {waited} ms; the deadline passed"
                    ),
                    code: None,
                    retryable: false,
                };
                self.ended(id, Ending::of(error), now_ms)
            }
            Phase::Parked | Phase::Saving => Vec::new(),
        })
    }

    /// The client's `header` function answered for `attempt` of fetch `id`:
    /// its headers, or why it failed (it threw, or returned something that
    /// is not an object of strings). A stale answer is ignored.
    pub fn on_headers(
        &mut self,
        id: RequestId,
        attempt: u32,
        headers: Result<Vec<(String, String)>, String>,
        now_ms: f64,
    ) -> Vec<Command<V>> {
        let current = self
            .fetches
            .get(&id)
            .is_some_and(|f| f.phase == Phase::AwaitingHeaders && f.attempts + 1 == attempt);
        if !current {
            return Vec::new();
        }
        let checked = headers
            .map_err(|why| {
                RequestError::invalid("header", format!("(the client's function) {why}"))
            })
            .and_then(|headers| check_headers(&headers).map(|()| headers));
        match checked {
            Ok(headers) => {
                let fetch = self.fetches.get_mut(&id).expect("fetch");
                fetch.client_headers = Some(headers);
                fetch.phase = Phase::Waiting;
                self.attempt(id, now_ms)
            }
            Err(error) => self.ended(
                id,
                Ending {
                    headers_failed: true,
                    ..Ending::of(error)
                },
                now_ms,
            ),
        }
    }

    /// `wx.cloud` init finished: `Ok` or the failure the platform reported.
    pub fn on_init(&mut self, result: Result<(), Failure>, now_ms: f64) -> Vec<Command<V>> {
        match result {
            Ok(()) => {
                let waiting = self.init.succeeded();
                let mut commands: Vec<Command<V>> = waiting
                    .into_iter()
                    .flat_map(|id| self.attempt(id, now_ms))
                    .collect();
                if self.init.sockets_waited() {
                    commands.push(Command::CloudReady);
                }
                commands
            }
            Err(failure) => match self.init.failed() {
                Ok(delay_ms) => vec![Command::WaitInit { delay_ms }],
                Err(waiting) => {
                    // Its own retries are spent: not retried again per request.
                    let error = RequestError::Transport {
                        kind: ErrorKind::Init,
                        detail: format!(
                            "{}; wx.cloud init failed {} times, the next request tries again",
                            failure.err_msg,
                            super::super::init::INIT_RETRIES + 1
                        ),
                        code: failure.err_code.or(failure.errno),
                        retryable: false,
                    };
                    let mut commands = Vec::new();
                    for id in waiting {
                        // Nothing was sent: with the device offline by now, it ends as a
                        // request that found no network (a queueable mutation is queued).
                        let ending = if self.online {
                            error.clone()
                        } else {
                            decide::offline()
                        };
                        commands.extend(self.ended(id, Ending::of(ending), now_ms));
                    }
                    if self.init.sockets_waited() {
                        commands.push(Command::CloudFailed(error));
                    }
                    commands
                }
            },
        }
    }

    /// A socket on the cloud route wants to connect. It waits for the same
    /// shared init as requests (started here when none runs, with the same
    /// retries): `CloudReady` at once when the cloud is initialised,
    /// otherwise `CloudReady` or `CloudFailed` when the init ends.
    pub fn socket_wants_cloud(&mut self) -> Vec<Command<V>> {
        match self.init.socket() {
            InitStep::Ready => vec![Command::CloudReady],
            InitStep::Run(attempt) => vec![Command::InitCloud { attempt }],
            InitStep::Wait => Vec::new(),
        }
    }

    /// A socket on `route` failed to connect, or its task failed. On the
    /// cloud route a `failure` that says the cloud is not initialised
    /// (-601034) starts the shared init over, as a callContainer saying so
    /// does: otherwise the init counts as done and every reconnect fails the
    /// same way. The socket's own reconnect then waits for the new init.
    pub fn on_socket_failure(&mut self, route: Route, failure: Failure) {
        if route == Route::Cloud && classify(failure).kind() == ErrorKind::Init {
            self.init.invalidate();
        }
    }

    /// A `WaitInit` is over.
    pub fn on_init_timer(&mut self) -> Vec<Command<V>> {
        self.init
            .retry_due()
            .map(|attempt| Command::InitCloud { attempt })
            .into_iter()
            .collect()
    }

    /// Caller `id` cancelled: it settles now as `cancelled`. The fetch goes on
    /// for the other callers; with none left it is aborted. Unknown ids, and
    /// requests already settled or waiting for the queue to be saved, are ignored.
    pub fn cancel(&mut self, id: RequestId, now_ms: f64) -> Vec<Command<V>> {
        let fetch_id = self.followers.get(&id).copied().unwrap_or(id);
        let Some(fetch) = self.fetches.get_mut(&fetch_id) else {
            return Vec::new();
        };
        let Some(index) = fetch.callers.iter().position(|(c, _)| *c == id) else {
            return Vec::new();
        };
        if fetch.phase == Phase::Saving {
            return Vec::new();
        }
        self.followers.remove(&id);
        let (_, started) = fetch.callers.remove(index);
        let elapsed_ms = (now_ms - started).max(0.0);
        self.stats.end(
            fetch.slot,
            elapsed_ms,
            Outcome::Failed(ErrorKind::Cancelled),
        );
        let mut commands = vec![Command::Reject(
            Settled {
                id,
                route: fetch.choice.route,
                reason: fetch.choice.reason,
                attempts: fetch.attempts,
                elapsed_ms,
                note: String::new(),
                from_cache: false,
                stale: false,
                queued: None,
                explain: fetch.trace.clone(),
                fetch: None,
                log_pattern: None,
            },
            RequestError::Cancelled,
        )];
        // With no caller left, it stops, unless watchers wait for what it stores.
        let orphan = fetch.callers.is_empty();
        let key = fetch
            .caching
            .as_ref()
            .filter(|c| !c.outdated)
            .map(|c| c.key.clone());
        let watched = key.is_some_and(|key| !self.watchers_of(&key).is_empty());
        if orphan && !watched {
            commands.extend(self.abandon(fetch_id, now_ms));
        }
        commands
    }

    /// Stops fetch `id` wherever it is: aborts its attempt in flight, gives
    /// back its slot or its place in a queue, and ends it.
    pub(super) fn abandon(&mut self, id: RequestId, now_ms: f64) -> Vec<Command<V>> {
        let Some(fetch) = self.fetches.get(&id) else {
            return Vec::new();
        };
        let mut commands = Vec::new();
        if fetch.phase == Phase::Queued {
            self.scheduler.forget(fetch.choice.route, id);
        }
        if fetch.phase == Phase::InFlight && fetch.attempts > 0 {
            commands.push(Command::Abort { id });
            self.abandon_probe(id);
        }
        self.init.forget(id);
        commands.extend(self.free_slot(id, now_ms));
        self.end(id);
        commands.push(Command::End { id });
        // Watchers left dirty while it ran are asked again now.
        commands.extend(self.serve_the_unserved());
        commands
    }

    /// Sends the next attempt once its gates open: the network, the user it
    /// was made under, the cloud init, the client's `header` function, a slot.
    pub(super) fn attempt(&mut self, id: RequestId, now_ms: f64) -> Vec<Command<V>> {
        let Some(fetch) = self.fetches.get(&id) else {
            return Vec::new();
        };
        if fetch.replay.is_some() && fetch.replay == self.replaying.doomed {
            // Dropped while an attempt was in flight: that one was the last.
            let error = super::replay::dropped("an earlier attempt may have reached the server");
            return self.replay_dropped(id, error, now_ms);
        }
        if !self.online {
            return self.ended(id, Ending::of(decide::offline()), now_ms);
        }
        if let Err(error) = self.follow_user(id) {
            return self.ended(id, Ending::of(error), now_ms);
        }
        let fetch = self.fetches.get_mut(&id).expect("fetch");
        let left = f64::from(fetch.retry.deadline_ms) - (now_ms - fetch.started_ms);
        if fetch.choice.route == Route::Cloud {
            // The deadline holds while the init runs: a `Wait` for what is left.
            let deadline = Command::Wait {
                id,
                delay_ms: left.max(1.0) as u32,
            };
            match self.init.request(id) {
                InitStep::Ready => {}
                InitStep::Run(attempt) => {
                    fetch.phase = Phase::AwaitingInit;
                    return vec![Command::InitCloud { attempt }, deadline];
                }
                InitStep::Wait => {
                    fetch.phase = Phase::AwaitingInit;
                    return vec![deadline];
                }
            }
        }
        if self.config.header_function && fetch.client_headers.is_none() {
            fetch.phase = Phase::AwaitingHeaders;
            return vec![Command::Headers {
                id,
                attempt: fetch.attempts + 1,
                delay_ms: left.max(1.0) as u32,
            }];
        }
        if !self
            .scheduler
            .acquire(fetch.choice.route, fetch.priority, id)
        {
            fetch.phase = Phase::Queued;
            if let Some(trace) = &mut fetch.trace {
                trace.notes.push(format!(
                    "queued at +{} ms: all {} slots of {} were busy",
                    (now_ms - fetch.started_ms).max(0.0) as u64,
                    self.config.max_concurrent,
                    fetch.choice.route.as_str()
                ));
            }
            return vec![Command::Wait {
                id,
                delay_ms: left.max(1.0) as u32,
            }];
        }
        fetch.lane = Some(fetch.choice.route);
        self.launch(id, now_ms)
    }

    /// The attempt of fetch `id`, which holds a slot: sent, or stopped at a
    /// gate (then its slot goes to the next in the queue). A request that
    /// waited for the slot passes the network and user gates again here: the
    /// device may have gone offline, or another user signed in, meanwhile.
    pub(super) fn launch(&mut self, id: RequestId, now_ms: f64) -> Vec<Command<V>> {
        if !self.fetches.contains_key(&id) {
            return Vec::new();
        }
        let gate = if !self.online {
            Err(decide::offline())
        } else {
            self.follow_user(id)
        };
        // The headers of this attempt, and the body as they make it sent;
        // the `header` function's answer is for this attempt only, used or not.
        let fetch = self.fetches.get_mut(&id).expect("fetch");
        let client = fetch.client_headers.take();
        let mut headers = merge_headers(
            client.as_deref().unwrap_or(&self.config.client_headers),
            &fetch.headers,
            fetch.idempotency_key.as_deref(),
        );
        // A stale entry's refresh asks whether it changed.
        if let Some(validator) = &fetch.revalidate {
            let (name, value) = validator.header();
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.to_owned(), value.to_owned()));
        }
        let stopped = gate
            .and_then(|()| as_sent(fetch.body.as_ref(), &headers, fetch.body_kept))
            .and_then(|body| self.admit(id, now_ms).map(|()| body));
        let body = match stopped {
            Ok(body) => body,
            Err(error) => {
                let mut commands = self.free_slot(id, now_ms);
                commands.extend(self.ended(id, Ending::of(error), now_ms));
                return commands;
            }
        };
        let fetch = self.fetches.get_mut(&id).expect("fetch");
        let left = f64::from(fetch.retry.deadline_ms) - (now_ms - fetch.started_ms);
        let timeout_ms = fetch.timeout_ms.min(left.max(1.0) as u32);
        fetch.attempts += 1;
        fetch.phase = Phase::InFlight;
        if let Some(trace) = &mut fetch.trace {
            trace.attempts.push(AttemptNote {
                attempt: fetch.attempts,
                route: fetch.choice.route,
                at_ms: (now_ms - fetch.started_ms).max(0.0),
                timeout_ms,
                outcome: String::new(),
                decision: String::new(),
            });
        }
        vec![Command::Send(Send {
            id,
            route: fetch.choice.clone(),
            method: fetch.method,
            attempt: fetch.attempts,
            timeout_ms,
            clamped_from: fetch.clamped_from,
            url: fetch.url.clone(),
            target: fetch.target.clone(),
            headers,
            body,
            guard_ms: timeout_ms.saturating_add(ATTEMPT_GRACE_MS),
        })]
    }

    /// Applies what [`decide::after_attempt`] answers for fetch `id`'s ending.
    pub(super) fn ended(&mut self, id: RequestId, ending: Ending, now_ms: f64) -> Vec<Command<V>> {
        let Some(fetch) = self.fetches.get(&id) else {
            return Vec::new();
        };
        let route = fetch.choice.route;
        let timed_out = ending.error.kind() == ErrorKind::Timeout;
        // A fleet report's one retry is bounded by its own policy: the app's
        // retry budget is the app's.
        let budgeted = !fetch.report;
        let budget = self
            .guards
            .view(route)
            .0
            .filter(|_| budgeted)
            .map(|budget| decide::Quote {
                cost: budget.quote(timed_out),
                tokens: budget.tokens(),
                capacity: budget.capacity(),
            });
        let situation = decide::Fetch {
            method: fetch.method,
            attempts: fetch.attempts,
            idempotent: fetch.idempotent,
            elapsed_ms: now_ms - fetch.started_ms,
            retry: fetch.retry,
            queueable: fetch.queueable,
            replay: fetch
                .replay
                .map(|m| self.queue.get(m).map_or(0, |m| m.attempts)),
            same_user: fetch.user_epoch == self.user_epoch,
            headers_failed: ending.headers_failed,
        };
        let world = World {
            online: self.online,
            hidden: self.hidden,
            budget,
        };
        let ended = Ended {
            error: &ending.error,
            interrupted: ending.interrupted,
            retry_after_ms: ending.retry_after_ms,
        };
        match decide::after_attempt(ended, situation, world, &mut self.rng) {
            Next::Retry { delay_ms, cost } => {
                if cost > 0 {
                    if let Some(budget) = self.guards.budget(route) {
                        budget.withdraw(timed_out);
                    }
                }
                let fetch = self.fetches.get_mut(&id).expect("fetch");
                fetch.phase = Phase::Waiting;
                fetch.last_cost = cost;
                self.stats.retried(fetch.slot);
                self.note_decision(id, || match cost {
                    0 => format!("retry in {delay_ms} ms"),
                    _ => format!("retry in {delay_ms} ms, for {cost} tokens of the retry budget"),
                });
                vec![Command::Wait { id, delay_ms }]
            }
            Next::Park => {
                let fetch = self.fetches.get_mut(&id).expect("fetch");
                fetch.phase = Phase::Parked;
                self.stats.retried(fetch.slot);
                self.note_decision(id, || {
                    "sent again when the app is back (interrupted in the background)".into()
                });
                Vec::new()
            }
            Next::Queue { error, note } => self.queue_failed(id, error, note, now_ms),
            Next::KeepQueued { after_ms } => self.replay_kept(id, after_ms, now_ms),
            Next::DropQueued { error } => self.replay_dropped(id, error, now_ms),
            Next::Fail { error, note } => self.fail(id, &error, &note, now_ms),
        }
    }

    /// The user gate: attempts go out only under the user a request was made
    /// under. A request that has sent nothing yet and only reads (GET, HEAD,
    /// OPTIONS) follows the user who is current now instead: the page still
    /// gets its data, which is not cached (its key is the old user's).
    fn follow_user(&mut self, id: RequestId) -> Result<(), RequestError> {
        let epoch = self.user_epoch;
        let Some(fetch) = self.fetches.get_mut(&id) else {
            return Ok(());
        };
        if fetch.user_epoch == epoch || fetch.report {
            // A fleet report belongs to no user: it goes under whoever is current.
            fetch.user_epoch = epoch;
            return Ok(());
        }
        let unsent_read = fetch.attempts == 0 && fetch.replay.is_none() && fetch.method.is_safe();
        // A watch's refetch, caller-less, would bring the new user's answer to
        // no one (no entry, no watcher of the old user's key): it ends instead.
        if !unsent_read || fetch.callers.is_empty() {
            return Err(decide::user_changed());
        }
        fetch.user_epoch = epoch;
        if let Some(caching) = &mut fetch.caching {
            caching.outdated = true;
            // Its answer is the new user's: no cache entry, and none of the old user's watchers.
            caching.store = None;
            if caching.shared && self.sharing.get(&caching.key) == Some(&id) {
                self.sharing.remove(&caching.key);
            }
            caching.shared = false;
        }
        Ok(())
    }

    /// Fetch `id` exists and is in `phase`.
    fn is(&self, id: RequestId, phase: Phase) -> bool {
        self.fetches.get(&id).is_some_and(|f| f.phase == phase)
    }
}

/// The headers of an attempt: the client's, then the request's, then the
/// `Idempotency-Key`; a later one replaces an earlier one of the same name
/// (names compare case-insensitively). The cloud adapter adds `X-WX-SERVICE`
/// from the validated configuration, as it adds the environment.
fn merge_headers(
    client: &[(String, String)],
    request: &[(String, String)],
    idempotency_key: Option<&str>,
) -> Vec<(String, String)> {
    // Allocates only when there are headers (most GETs have none).
    let mut out: Vec<(String, String)> = Vec::new();
    let mut put = |name: &str, value: &str| {
        out.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        out.push((name.to_owned(), value.to_owned()));
    };
    for (name, value) in client.iter().chain(request) {
        put(name, value);
    }
    if let Some(key) = idempotency_key {
        put("Idempotency-Key", key);
    }
    out
}

/// `request:fail interrupted` (errno 600003): the call died because the app
/// went to the background, not because of the network or the service.
fn is_interrupted(failure: &Failure) -> bool {
    failure.errno == Some(600_003) || contains_ignore_ascii_case(&failure.err_msg, "interrupted")
}
