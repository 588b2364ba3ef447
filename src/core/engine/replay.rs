//! Replaying the offline mutation queue: one at a time, in order, each with
//! its idempotency key; the outcome keeps, reports or drops the mutation.

use super::*;

impl<V: Clone + Weigh> Engine<V> {
    /// A failed request that asked for `offline: 'queue'` goes to the queue
    /// when it failed with `offline` or `network` and the queue has room;
    /// otherwise `note` gets why not. Returns its id in the queue.
    pub(super) fn keep_offline(
        &mut self,
        fetch: &Fetch,
        error: &RequestError,
        now_ms: f64,
        note: &mut String,
    ) -> Option<u32> {
        match &fetch.queueable {
            Some(q) if matches!(error.kind(), ErrorKind::Offline | ErrorKind::Network) => {
                let mutation = Mutation {
                    id: 0,
                    method: fetch.method,
                    path: fetch.target.clone(),
                    headers: q.headers.clone(),
                    data_json: q.data_json.clone(),
                    idempotency_key: fetch.idempotency_key.clone().unwrap_or_default(),
                    user: self.scope_explicit.then(|| self.scope.clone()),
                    queued_at: now_ms,
                    attempts: 0,
                };
                match self.queue.push(mutation) {
                    Ok(queued) => Some(queued),
                    Err(refused) => {
                        let why = refused.explain(self.queue.limits());
                        *note = if note.is_empty() {
                            why
                        } else {
                            format!("{note}; {why}")
                        };
                        None
                    }
                }
            }
            _ => None,
        }
    }

    /// A replay failed. For a reason that may pass (no network, the service
    /// down, its breaker open) the mutation stays queued for the next chance;
    /// otherwise it is reported and dropped, and the next one goes.
    pub(super) fn replay_failed(
        &mut self,
        id: RequestId,
        mutation: u32,
        error: &RequestError,
        now_ms: f64,
    ) -> Vec<Command<V>> {
        self.replaying = None;
        let mut commands = vec![Command::End { id }];
        let passing = error.is_retryable()
            || matches!(error, RequestError::CircuitOpen { .. })
            || matches!(
                error.kind(),
                ErrorKind::Offline | ErrorKind::Network | ErrorKind::Timeout
            );
        if passing {
            if let Some(m) = self.queue.get_mut(mutation) {
                m.attempts += 1;
            }
            commands.push(Command::SaveQueue);
            return commands;
        }
        if let Some(m) = self.queue.remove(mutation) {
            commands.push(Command::Synced(m, Err(error.clone())));
        }
        commands.push(Command::SaveQueue);
        commands.extend(self.replay_next(now_ms));
        commands
    }

    /// Replays the oldest queued mutation, if the network is there and no
    /// replay runs. Replays go one at a time, in order.
    pub(super) fn replay_next(&mut self, now_ms: f64) -> Vec<Command<V>> {
        let mut commands = Vec::new();
        while self.online && self.replaying.is_none() {
            let Some(mutation) = self.queue.front().cloned() else {
                break;
            };
            let choice = match route::choose(
                &self.config,
                &self.platform,
                None,
                mutation.method,
                &mutation.path,
            ) {
                Ok(choice) => choice,
                Err(error) => {
                    self.queue.remove(mutation.id);
                    commands.push(Command::Synced(mutation, Err(error)));
                    commands.push(Command::SaveQueue);
                    continue;
                }
            };
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1).max(1);
            let (timeout_ms, clamped_from, url) =
                self.transport(choice.route, self.config.timeout_ms, &mutation.path);
            let slot = self.stats.slot(choice.route, &mutation.path);
            self.fetches.insert(
                id,
                Fetch {
                    choice,
                    method: mutation.method,
                    target: mutation.path.clone(),
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
                    queueable: None,
                    replay: Some(mutation.id),
                    trace: None,
                },
            );
            self.replaying = Some(id);
            commands.push(Command::Replay(Replay { id, mutation }));
            commands.extend(self.attempt(id, now_ms));
        }
        commands
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
