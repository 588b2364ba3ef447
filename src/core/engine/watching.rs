//! Watched queries (issue 21, item 1; the core's part): a page watches a
//! cached GET and hears its value at once (from the cache, or once fetched)
//! and again whenever its entry changes: a refresh that stored a new answer,
//! a refetch after an invalidation. A failure reaches the watchers as an error
//! and drops nothing (a stale entry stays). Watching one query twice shares
//! one entry and one fetch. Invalidations within `WATCH_COALESCE_MS` refetch a
//! watched entry once, and only while the app is visible. A watcher marked
//! dirty needs a fetch begun after the mark: one already in flight for its
//! key goes on (and is heard), and the refetch follows when it ends, so a key
//! has one fetch in flight however often it is invalidated.
//!
//! JS: `client.watch(options, listener)` (the shim keeps each listener and
//! the last value it heard).

use super::*;

/// Identifies one watcher until it is dropped.
pub type WatchId = u32;

/// Invalidations this close together refetch a watched entry once.
pub const WATCH_COALESCE_MS: u32 = 50;

/// One watcher.
#[derive(Debug)]
pub(super) struct Watch {
    id: WatchId,
    /// The request as the page gave it: a refetch starts it again.
    raw: RawRequest,
    /// Its cache key without the user partition: the current user's is watched.
    rest: String,
    /// It heard a value or a failure of its current partition's entry.
    served: bool,
    /// Its request's path (with the query) and cache tags: what invalidations select.
    path: String,
    tags: Vec<String>,
    /// While dirty: a fetch with this id or later serves it; an older one
    /// may have read what the change replaced.
    since: RequestId,
    /// The newest fetch whose answer it heard (0: none, or a stored value).
    heard: RequestId,
}

/// The client's watchers.
#[derive(Debug, Default)]
pub(super) struct Watching {
    watches: Vec<Watch>,
    next: WatchId,
    /// Watchers whose entry is gone or outdated, to refetch when the timer
    /// fires (and the app is visible).
    dirty: Vec<WatchId>,
    /// A `WaitWatch` is armed.
    armed: bool,
}

impl<V: Clone + Weigh> Engine<V> {
    /// Starts watching a GET the cache keeps: its value now when the cache
    /// has one, and a fetch when it has none or a stale one.
    pub fn watch(
        &mut self,
        raw: RawRequest,
        now_ms: f64,
    ) -> Result<(WatchId, Vec<Command<V>>), RequestError> {
        let prepared = self.prepare(raw.clone())?;
        let cached =
            prepared.plan.lookup && prepared.plan.store.is_some() && !prepared.spec.aborted;
        let Some(key) = prepared.key.filter(|_| cached) else {
            return Err(RequestError::invalid(
                "watch",
                "needs a GET the cache keeps: a cache rule for its path, or `cache: { ttlMs }`",
            ));
        };
        let rest = key[full_key(&self.scope, "").len()..].to_owned();
        self.watching.next = self.watching.next.wrapping_add(1).max(1);
        let id = self.watching.next;
        self.watching.watches.push(Watch {
            id,
            raw: raw.clone(),
            rest,
            served: false,
            path: path_of(&prepared.spec.path).to_owned(),
            tags: prepared
                .plan
                .store
                .as_ref()
                .map(|s| s.tags.clone())
                .unwrap_or_default(),
            since: 0,
            heard: 0,
        });
        let mut commands = Vec::new();
        let fresh = match self.store.peek(&key, now_ms) {
            Some((value, fresh)) => {
                self.note_heard(&[id], self.store.stored_by(&key));
                commands.push(Command::Watched {
                    watches: vec![id],
                    value,
                });
                fresh
            }
            None => false,
        };
        if !fresh {
            commands.extend(self.refetch(id, now_ms));
        }
        self.mark_served(&commands);
        // Nothing fetched for it (a fetch in flight was relied on): it is looked after when that ends.
        Ok((id, commands))
    }

    /// Stops watcher `id` (false when there was none). The last watcher of a
    /// query stops the fetch made for it alone, if one is in flight.
    pub fn unwatch(&mut self, id: WatchId, now_ms: f64) -> (bool, Vec<Command<V>>) {
        let Some(at) = self.watching.watches.iter().position(|w| w.id == id) else {
            return (false, Vec::new());
        };
        let watch = self.watching.watches.remove(at);
        self.watching.dirty.retain(|d| *d != id);
        if self.watching.watches.iter().any(|w| w.rest == watch.rest) {
            return (true, Vec::new());
        }
        // Outdated ones too (out of `sharing`), and one keyed for the user
        // before a `setUser`: no one else waits for them.
        let alone: Vec<RequestId> = self
            .fetches
            .iter()
            .filter(|(_, f)| {
                f.caching
                    .as_ref()
                    .is_some_and(|c| c.key.get(c.scope_part..) == Some(watch.rest.as_str()))
                    && f.callers.is_empty()
                    && f.replay.is_none()
                    && !f.report
            })
            .map(|(id, _)| *id)
            .collect();
        let mut commands = Vec::new();
        for fetch in alone {
            commands.extend(self.abandon(fetch, now_ms));
        }
        (true, commands)
    }

    /// Watchers now.
    pub fn watchers(&self) -> usize {
        self.watching.watches.len()
    }

    /// Notes which watchers `commands` tell something.
    pub(super) fn mark_served(&mut self, commands: &[Command<V>]) {
        for c in commands {
            if let Command::Watched { watches, .. } | Command::WatchFailed { watches, .. } = c {
                for w in self.watching.watches.iter_mut() {
                    if watches.contains(&w.id) {
                        w.served = true;
                    }
                }
            }
        }
    }

    /// After a fetch ended: every watcher not served yet has a fetch in flight
    /// for its key that will store, or a refetch due (the `WaitWatch` returned,
    /// if it was not armed yet). So no watcher waits for an answer that a new
    /// user, an invalidation or a failure took away.
    pub(super) fn serve_the_unserved(&mut self) -> Option<Command<V>> {
        let mut marked = false;
        for i in 0..self.watching.watches.len() {
            let (id, served, key) = {
                let w = &self.watching.watches[i];
                (w.id, w.served, full_key(&self.scope, &w.rest))
            };
            if served || self.watching.dirty.contains(&id) {
                continue;
            }
            if self.storing_fetch(&key).is_none() {
                marked |= self.mark_dirty(i);
            }
        }
        // Watchers left dirty for the fetch that just ended are asked again now.
        if !marked && (self.watching.dirty.is_empty() || self.hidden) {
            return None;
        }
        self.arm()
    }

    /// Marks the watcher at `at` as needing a fetch begun from now on: true
    /// when it was not marked yet.
    fn mark_dirty(&mut self, at: usize) -> bool {
        let since = self.next_id;
        let w = &mut self.watching.watches[at];
        w.since = since;
        if self.watching.dirty.contains(&w.id) {
            return false;
        }
        self.watching.dirty.push(w.id);
        true
    }

    /// Marks the watchers `selects` picks (by their request's path and tags);
    /// the coalescing timer, if it is not armed yet.
    pub(super) fn mark_watchers(
        &mut self,
        selects: &dyn Fn(&str, &[String]) -> bool,
    ) -> Option<Command<V>> {
        let mut marked = false;
        for at in 0..self.watching.watches.len() {
            let w = &self.watching.watches[at];
            if selects(&w.path, &w.tags) {
                marked |= self.mark_dirty(at);
            }
        }
        if marked {
            self.arm()
        } else {
            None
        }
    }

    /// The watchers of `key` that fetch `fetch`'s answer reaches, noted as
    /// heard: all of them when it is stored (the one storing fetch of a key
    /// is its newest), otherwise those that heard no newer fetch.
    pub(super) fn heard_from(&mut self, key: &str, fetch: RequestId, stored: bool) -> Vec<WatchId> {
        let watching = self.watchers_of(key);
        let mut told = Vec::new();
        for w in self.watching.watches.iter_mut() {
            if watching.contains(&w.id) && (stored || w.heard < fetch) {
                w.heard = fetch;
                told.push(w.id);
            }
        }
        told
    }

    /// Notes that watchers `ids` hold what fetch `fetch` brought or confirmed
    /// (never lowering what they heard).
    pub(super) fn note_heard(&mut self, ids: &[WatchId], fetch: RequestId) {
        for w in self.watching.watches.iter_mut() {
            if ids.contains(&w.id) {
                w.heard = w.heard.max(fetch);
            }
        }
    }

    /// A fetch in flight for `key` that its watchers would hear (stored, or
    /// outdated while the entry is gone): the newest, if any.
    fn heard_fetch_in_flight(&self, key: &str) -> Option<RequestId> {
        self.fetches
            .iter()
            .filter(|(_, f)| {
                f.caching
                    .as_ref()
                    .is_some_and(|c| c.key == key && c.store.is_some())
            })
            .map(|(id, _)| *id)
            .max()
    }

    /// The coalescing timer, unless it is armed already.
    fn arm(&mut self) -> Option<Command<V>> {
        if self.watching.armed {
            return None;
        }
        self.watching.armed = true;
        Some(Command::WaitWatch {
            delay_ms: WATCH_COALESCE_MS,
        })
    }

    /// Every watched query is asked again once the coalescing timer fires
    /// (the `WaitWatch` returned, if it was not armed yet).
    pub(super) fn watch_all_again(&mut self) -> Option<Command<V>> {
        self.mark_watchers(&|_, _| true)
    }

    /// The watchers of `key` that have not heard its value yet.
    pub(super) fn unserved_watchers_of(&self, key: &str) -> Vec<WatchId> {
        let watching = self.watchers_of(key);
        self.watching
            .watches
            .iter()
            .filter(|w| !w.served && watching.contains(&w.id))
            .map(|w| w.id)
            .collect()
    }

    /// The watchers of `key` (a full key, the current user's partition).
    pub(super) fn watchers_of(&self, key: &str) -> Vec<WatchId> {
        if self.watching.watches.is_empty() {
            return Vec::new();
        }
        self.watching
            .watches
            .iter()
            .filter(|w| full_key(&self.scope, &w.rest) == key)
            .map(|w| w.id)
            .collect()
    }

    /// After entries were dropped: watchers whose entry is gone are refetched
    /// once the coalescing timer fires (the `WaitWatch` returned, if it was
    /// not armed yet).
    pub(super) fn watched_entries_gone(&mut self, now_ms: f64) -> Option<Command<V>> {
        let mut marked = false;
        for at in 0..self.watching.watches.len() {
            let key = full_key(&self.scope, &self.watching.watches[at].rest);
            if !self.store.contains(&key, now_ms) {
                marked |= self.mark_dirty(at);
            }
        }
        if marked {
            self.arm()
        } else {
            None
        }
    }

    /// The user partition changed (`setUser`): each watcher hears the new
    /// user's cached value at once if there is a fresh one; the others are
    /// refetched after the coalescing timer.
    pub(super) fn watched_partition_changed(&mut self, now_ms: f64) -> Vec<Command<V>> {
        let mut commands = Vec::new();
        for i in 0..self.watching.watches.len() {
            let (id, key) = {
                let w = &mut self.watching.watches[i];
                w.served = false;
                (w.id, full_key(&self.scope, &w.rest))
            };
            match self.store.peek(&key, now_ms) {
                Some((value, true)) => {
                    self.watching.watches[i].heard = self.store.stored_by(&key);
                    commands.push(Command::Watched {
                        watches: vec![id],
                        value,
                    });
                }
                _ => {
                    self.mark_dirty(i);
                }
            }
        }
        self.mark_served(&commands);
        if !self.watching.dirty.is_empty() {
            commands.extend(self.arm());
        }
        commands
    }

    /// Drops what `what` selects (in every partition), and refetches the
    /// watched entries among them: the count dropped, and the commands.
    pub fn invalidate_watched(&mut self, what: &Invalidate) -> (usize, Vec<Command<V>>) {
        let selects = |path: &str, tags: &[String]| match what {
            Invalidate::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Invalidate::Tag(tag) => tags.contains(tag),
        };
        self.invalidate_selected(&selects, false)
    }

    /// Drops the entries `selects` picks by path and tags (the current
    /// user's only, with `partition_only`), and marks the watchers it picks.
    /// Fetches in flight that it picks store nothing (and take no new
    /// callers); a watched one's answer is still heard, and its watchers are
    /// asked again when it ends (see `refetch_dirty`). A drop is saved, if
    /// the cache is: the next launch would bring the entries back.
    pub(super) fn invalidate_selected(
        &mut self,
        selects: &dyn Fn(&str, &[String]) -> bool,
        partition_only: bool,
    ) -> (usize, Vec<Command<V>>) {
        let partition = full_key(&self.scope, "");
        let dropped = self.store.invalidate(&|key, e| {
            (!partition_only || key.starts_with(&partition)) && selects(&e.path, &e.tags)
        });
        self.outdate_in_flight(&|f| {
            f.caching.as_ref().is_some_and(|c| {
                selects(f.path(), c.store.as_ref().map_or(&[][..], |s| &s.tags[..]))
            })
        });
        let mut commands: Vec<Command<V>> = self.mark_watchers(selects).into_iter().collect();
        if dropped > 0 {
            self.changed(&mut commands);
        }
        (dropped, commands)
    }

    /// The coalescing timer fired: each watched entry that is gone is
    /// refetched once (one fetch per key), unless the app is hidden: then when
    /// it shows.
    pub fn on_watch_timer(&mut self, now_ms: f64) -> Vec<Command<V>> {
        self.watching.armed = false;
        if self.hidden {
            return Vec::new();
        }
        self.refetch_dirty(now_ms)
    }

    /// Refetches the watchers marked dirty (one fetch per key). One whose key
    /// has a storing fetch in flight begun after the mark is served by it;
    /// one whose key has any other (begun before, or outdated) stays dirty,
    /// asked again when that fetch ends.
    pub(super) fn refetch_dirty(&mut self, now_ms: f64) -> Vec<Command<V>> {
        let dirty = core::mem::take(&mut self.watching.dirty);
        let mut commands = Vec::new();
        // One fetch per key: watchers of one query share it (and its failure).
        let mut done: Vec<&str> = Vec::new();
        let marks: Vec<(WatchId, String, RequestId)> = dirty
            .iter()
            .filter_map(|id| {
                let w = self.watching.watches.iter().find(|w| w.id == *id)?;
                Some((w.id, w.rest.clone(), w.since))
            })
            .collect();
        for (id, rest, since) in &marks {
            if done.contains(&rest.as_str()) {
                continue;
            }
            let key = full_key(&self.scope, rest);
            if self
                .storing_fetch(&key)
                .is_some_and(|fetch| fetch >= *since)
            {
                continue;
            }
            // One begun before the mark (stored or outdated) ends first: one fetch in flight per key.
            if self.heard_fetch_in_flight(&key).is_some() {
                self.watching.dirty.push(*id);
                continue;
            }
            done.push(rest);
            commands.extend(self.refetch(*id, now_ms));
        }
        self.mark_served(&commands);
        commands
    }

    /// The fetch in flight for `key` that will store its answer, if any
    /// (one that will not, `cache: false` or outdated, serves no watcher).
    fn storing_fetch(&self, key: &str) -> Option<RequestId> {
        let fetch = *self.sharing.get(key)?;
        self.fetches
            .get(&fetch)?
            .caching
            .as_ref()
            .is_some_and(|c| c.store.is_some() && !c.outdated)
            .then_some(fetch)
    }

    /// A fetch for watcher `id`'s query, with no caller: the entry it stores
    /// reaches every watcher. None when one is in flight for the key already.
    fn refetch(&mut self, id: WatchId, now_ms: f64) -> Vec<Command<V>> {
        let Some(watch) = self.watching.watches.iter().find(|w| w.id == id) else {
            return Vec::new();
        };
        let raw = watch.raw.clone();
        // A failure here is every watcher's of the query: they share its fetch.
        let watches = self.watchers_of(&full_key(&self.scope, &watch.rest));
        let prepared = self.prepare(raw).and_then(|p| match p.plan.store {
            Some(_) => Ok(p),
            // A private query with no user known: it is kept for nobody.
            None => Err(RequestError::invalid(
                "watch",
                "this query is not cached now (a private one needs a user: `setUser`)",
            )),
        });
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return vec![Command::WatchFailed { watches, error }],
        };
        // A fetch in flight for the key that will store its answer serves every watcher.
        if prepared
            .key
            .as_ref()
            .is_some_and(|key| self.storing_fetch(key).is_some())
        {
            return Vec::new();
        }
        let fetch = self.new_id();
        let slot = self.stats.slot(prepared.choice.route, &prepared.spec.path);
        match self.begin(fetch, slot, prepared, now_ms, false) {
            Ok(commands) => {
                let mut all = vec![Command::WatchFetch {
                    id: fetch,
                    watch: id,
                }];
                all.extend(commands);
                all
            }
            Err(error) => vec![Command::WatchFailed { watches, error }],
        }
    }
}
