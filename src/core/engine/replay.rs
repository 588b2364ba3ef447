//! The offline mutation queue inside the engine: a request that cannot reach
//! the server goes in (its callers are told only once the queue is saved);
//! queued mutations replay one at a time, in order, each with its
//! idempotency key, only under the user they were made under. At most one
//! replay starts per event; what follows a replay is a `WaitReplay` timer.

use super::*;
use crate::core::float;
use crate::core::request::wire;

impl<V: Clone + Weigh> Engine<V> {
    /// Fetch `id` cannot reach the server and asked for `offline: 'queue'`:
    /// its mutation joins the queue, and its callers wait for the queue to
    /// be saved (`on_queue_saved`). A queue without room fails it at once.
    pub(super) fn queue_failed(
        &mut self,
        id: RequestId,
        error: RequestError,
        note: String,
        now_ms: f64,
    ) -> Vec<Command<V>> {
        let user = self.current_user().map(str::to_owned);
        let fetch = self.fetches.get_mut(&id).expect("fetch");
        let mutation = Mutation {
            id: 0,
            method: fetch.method,
            path: fetch.path.clone(),
            // Credentials are refused at validation: nothing here is secret.
            headers: fetch.headers.clone(),
            // Object data or none: strings and binary data are refused at validation.
            data_json: match &fetch.body {
                Some(Body::Json(json)) => Some(json.clone()),
                _ => None,
            },
            idempotency_key: fetch.idempotency_key.clone().unwrap_or_default(),
            user,
            queued_at: now_ms,
            attempts: 0,
        };
        match self.queue.push(mutation) {
            Ok(mutation) => {
                fetch.phase = Phase::Saving;
                self.unsaved.push(Unsaved {
                    fetch: id,
                    mutation,
                    error,
                    note,
                });
                vec![Command::SaveQueue]
            }
            Err(refused) => {
                let why = refused.explain(self.queue.limits());
                let note = if note.is_empty() {
                    why
                } else {
                    format!("{note}; {why}")
                };
                self.fail(id, &error, &note, now_ms)
            }
        }
    }

    /// The shim wrote the queue to storage (`Ok`), or could not (`Err` says
    /// why). Callers whose mutation was written are told it is queued; the
    /// others get their failure, and their mutation leaves the queue: it is
    /// not kept in memory only, where a relaunch would lose it.
    pub fn on_queue_saved(&mut self, result: Result<(), String>, now_ms: f64) -> Vec<Command<V>> {
        let mut commands = Vec::new();
        let mut replay_soon = false;
        for unsaved in core::mem::take(&mut self.unsaved) {
            match &result {
                Ok(()) => {
                    commands.extend(self.reject_all(
                        unsaved.fetch,
                        &unsaved.error,
                        &unsaved.note,
                        Some(unsaved.mutation),
                        now_ms,
                    ));
                    replay_soon = true;
                }
                Err(why) => {
                    self.queue.remove(unsaved.mutation);
                    let not_saved =
                        format!("not queued: the offline queue could not be saved ({why})");
                    let note = if unsaved.note.is_empty() {
                        not_saved
                    } else {
                        format!("{}; {not_saved}", unsaved.note)
                    };
                    commands.extend(self.fail(unsaved.fetch, &unsaved.error, &note, now_ms));
                }
            }
        }
        // Online, a network failure may pass soon: try it before the next event.
        if replay_soon && self.online {
            commands.push(Command::WaitReplay {
                delay_ms: crate::core::decide::REPLAY_BASE_MS,
            });
        }
        commands
    }

    /// A replay succeeded: the mutation leaves the queue and is reported.
    pub(super) fn replay_succeeded(&mut self, mutation: u32, value: V) -> Vec<Command<V>> {
        self.replaying.running = None;
        self.replaying.doomed = None;
        let mut commands = Vec::new();
        if let Some(m) = self.queue.remove(mutation) {
            commands.push(Command::Synced(m, Ok(value)));
        }
        commands.push(Command::SaveQueue);
        commands.push(Command::WaitReplay { delay_ms: 0 });
        commands
    }

    /// A replay failed for a reason that may pass: the mutation stays queued,
    /// counted; the next replay waits `after_ms` (or for an event when None).
    pub(super) fn replay_kept(
        &mut self,
        id: RequestId,
        after_ms: Option<u32>,
        now_ms: f64,
    ) -> Vec<Command<V>> {
        let mutation = self.fetches.get(&id).and_then(|f| f.replay);
        if mutation.is_some() && mutation == self.replaying.doomed {
            let error = dropped("its attempt in flight then failed");
            return self.replay_dropped(id, error, now_ms);
        }
        let mut commands = self.abandon(id, now_ms);
        self.replaying.running = None;
        if let Some(m) = mutation.and_then(|m| self.queue.get_mut(m)) {
            m.attempts += 1;
        }
        commands.push(Command::SaveQueue);
        let delay_ms = after_ms.unwrap_or(0);
        self.replaying.not_before = now_ms + f64::from(delay_ms);
        commands.push(Command::WaitReplay { delay_ms });
        commands
    }

    /// A replay failed for a reason that will not pass: reported and dropped.
    pub(super) fn replay_dropped(
        &mut self,
        id: RequestId,
        error: RequestError,
        now_ms: f64,
    ) -> Vec<Command<V>> {
        let mutation = self.fetches.get(&id).and_then(|f| f.replay);
        let mut commands = self.abandon(id, now_ms);
        self.replaying.running = None;
        self.replaying.doomed = None;
        if let Some(m) = mutation.and_then(|m| self.queue.remove(m)) {
            commands.push(Command::Synced(m, Err(error)));
        }
        commands.push(Command::SaveQueue);
        commands.push(Command::WaitReplay { delay_ms: 0 });
        commands
    }

    /// A `WaitReplay` is over. A timer that fires before the wait it was
    /// armed for ends (timers run on one clock, `now` comes from the wall
    /// clock, which can lag a millisecond or step back) arms another for what
    /// is left, never more than the longest wait: it must not stall the queue.
    pub fn on_replay_timer(&mut self, now_ms: f64) -> Vec<Command<V>> {
        let left = self.replaying.not_before - now_ms;
        if left > 0.0 && self.replaying.running.is_none() && self.online {
            let delay_ms =
                float::ceil(left).min(f64::from(crate::core::decide::REPLAY_CAP_MS)) as u32;
            return vec![Command::WaitReplay { delay_ms }];
        }
        self.replay_next(now_ms)
    }

    /// Replays the oldest mutation of the current user, if the network is
    /// there, no replay runs and no wait is pending. At most one starts.
    pub(super) fn replay_next(&mut self, now_ms: f64) -> Vec<Command<V>> {
        if !self.online || self.replaying.running.is_some() || now_ms < self.replaying.not_before {
            return Vec::new();
        }
        let user = self.current_user();
        let Some(mutation) = self
            .queue
            .iter()
            .find(|m| m.user.as_deref() == user)
            .cloned()
        else {
            return Vec::new();
        };
        let started = route::choose(
            &self.config,
            &self.platform,
            None,
            mutation.method,
            &mutation.path,
        )
        .and_then(|choice| {
            let sent = wire(
                mutation.method,
                &mutation.path,
                mutation.data_json.clone(),
                None,
                None,
            )?;
            Ok((choice, sent.target, sent.body))
        });
        let (choice, target, body) = match started {
            Ok(parts) => parts,
            Err(error) => {
                self.queue.remove(mutation.id);
                return vec![
                    Command::Synced(mutation, Err(error)),
                    Command::SaveQueue,
                    Command::WaitReplay { delay_ms: 0 },
                ];
            }
        };
        let id = self.new_id();
        let (timeout_ms, clamped_from, url) =
            self.transport(choice.route, self.config.timeout_ms, &target);
        let slot = self.stats.slot(choice.route, &mutation.path);
        self.fetches.insert(
            id,
            Box::new(Fetch {
                choice,
                method: mutation.method,
                path: mutation.path.clone(),
                target,
                headers: mutation.headers.clone(),
                body,
                // From the queue: the shim holds no text of it.
                body_kept: false,
                client_headers: None,
                user_epoch: self.user_epoch,
                idempotency_key: Some(mutation.idempotency_key.clone()),
                idempotent: true,
                retry: self.config.retry,
                timeout_ms,
                clamped_from,
                url,
                attempts: 0,
                started_ms: now_ms,
                phase: Phase::Waiting,
                callers: Vec::new(),
                caching: None,
                slot,
                probe: false,
                last_cost: 0,
                priority: Priority::Low,
                lane: None,
                queueable: false,
                replay: Some(mutation.id),
                report: false,
                revalidate: None,
                trace: None,
            }),
        );
        self.replaying.running = Some(id);
        let mut commands = vec![Command::Replay(Replay { id, mutation })];
        commands.extend(self.attempt(id, now_ms));
        commands
    }

    /// Drops the queued mutations of `user` (None: those made with no user),
    /// each reported as cancelled. A replay of one whose attempt is in flight
    /// cannot be called back: it finishes, and is reported as it ends
    /// (synced if it succeeded, dropped otherwise). Returns how many were
    /// dropped now, and the commands.
    pub fn drop_pending(&mut self, user: Option<&str>, now_ms: f64) -> (usize, Vec<Command<V>>) {
        let mut doomed: Vec<u32> = self
            .queue
            .iter()
            .filter(|m| m.user.as_deref() == user)
            .map(|m| m.id)
            .collect();
        let mut commands = Vec::new();
        let mut sent_before = None;
        let running = self.replaying.running.and_then(|id| {
            let f = self.fetches.get(&id)?;
            Some((id, f.replay?, f.phase, f.attempts))
        });
        if let Some((id, mutation, phase, attempts)) = running {
            if doomed.contains(&mutation) {
                if phase == Phase::InFlight {
                    self.replaying.doomed = Some(mutation);
                    doomed.retain(|m| *m != mutation);
                } else {
                    sent_before = (attempts > 0).then_some(mutation);
                    commands.extend(self.abandon(id, now_ms));
                    self.replaying.running = None;
                }
            }
        }
        for id in &doomed {
            if let Some(m) = self.queue.remove(*id) {
                let error = dropped(if sent_before == Some(*id) {
                    "an earlier attempt may have reached the server"
                } else {
                    ""
                });
                commands.push(Command::Synced(m, Err(error)));
            }
        }
        if !doomed.is_empty() {
            commands.push(Command::SaveQueue);
            commands.push(Command::WaitReplay { delay_ms: 0 });
        }
        (doomed.len(), commands)
    }

    /// The mutations waiting for the network, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &Mutation> {
        self.queue.iter()
    }

    /// Puts back the mutations storage held (oldest first), then replays
    /// them if the network is there. Returns how many did not fit, and the commands.
    pub fn restore_queue(&mut self, items: Vec<Mutation>, now_ms: f64) -> (usize, Vec<Command<V>>) {
        let dropped = self.queue.restore(items);
        (dropped, self.replay_next(now_ms))
    }
}

/// How a write `dropPending` dropped is reported, with `why` if there is more to say.
pub(super) fn dropped(why: &str) -> RequestError {
    let mut detail = String::from("dropped from the offline queue by client.dropPending()");
    if !why.is_empty() {
        detail.push_str("; ");
        detail.push_str(why);
    }
    RequestError::Transport {
        kind: ErrorKind::Cancelled,
        detail,
        code: None,
        retryable: false,
    }
}
