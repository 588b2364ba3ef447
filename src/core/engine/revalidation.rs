//! A stale entry's background refresh asks whether it changed (`If-None-Match`
//! or `If-Modified-Since`, see `cache::validator`); a `304 Not Modified`
//! makes the stored response fresh again, and no body crosses the wire or
//! the wasm boundary.

use super::*;

impl<V: Clone + Weigh> Engine<V> {
    /// Fetch `id` revalidated its entry and the server said it has not
    /// changed: the entry is fresh again under the request's cache policy,
    /// and whoever joined the refresh gets the stored response. When the
    /// entry is gone meanwhile (evicted, invalidated, outdated), the fetch
    /// asks again for the whole response.
    pub(super) fn revalidated(&mut self, id: RequestId, now_ms: f64) -> Vec<Command<V>> {
        let fetch = self.fetches.get(&id).expect("fetch");
        let entry = fetch
            .caching
            .as_ref()
            .filter(|c| !c.outdated)
            .and_then(|c| {
                let policy = c.store.as_ref()?;
                let fresh_until = now_ms + f64::from(policy.ttl_ms);
                Some((
                    c.key.clone(),
                    fresh_until,
                    fresh_until + f64::from(policy.stale_ms),
                ))
            });
        let key = entry.as_ref().map(|(key, ..)| key.clone());
        let value = entry.and_then(|(key, fresh_until, stale_until)| {
            self.store.revalidated(&key, fresh_until, stale_until, id)
        });
        let Some(value) = value else {
            let fetch = self.fetches.get_mut(&id).expect("fetch");
            fetch.revalidate = None;
            fetch.phase = Phase::Waiting;
            self.note_decision(id, || {
                "304, but the stored response is gone: asked again for the whole response".into()
            });
            return self.attempt(id, now_ms);
        };
        self.note_decision(id, || {
            "revalidated (304): the stored response is still current".into()
        });
        let mut fetch = self.end(id).expect("fetch");
        if let Some(budget) = self.guards.budget(fetch.choice.route) {
            budget.deposit(fetch.last_cost);
        }
        self.stats.revalidated(fetch.slot);
        self.finish_trace(&mut fetch, now_ms);
        let mut commands = self.resolve_all(id, &fetch, &value, now_ms);
        // Watchers that have not heard this entry yet (a new user's) hear it now.
        // Every watcher of the key holds what the 304 confirmed.
        if let Some(key) = &key {
            let watching = self.watchers_of(key);
            self.note_heard(&watching, id);
        }
        let unserved = key.map_or_else(Vec::new, |key| self.unserved_watchers_of(&key));
        if !unserved.is_empty() {
            commands.push(Command::Watched {
                watches: unserved,
                value,
            });
            self.mark_served(&commands);
        }
        // Its new freshness is worth saving.
        self.changed(&mut commands);
        // Watchers left dirty while it ran are asked again now.
        commands.extend(self.serve_the_unserved());
        commands
    }
}
