//! Handles: numbers that stand for a cache key, so that a repeated request
//! crosses the boundary as two numbers and finds its fresh value, or the
//! fetch in flight for it, at once.

use super::*;
use crate::core::float;

/// What a handle stands for.
#[derive(Debug)]
pub(super) struct Handle {
    /// The full cache key.
    pub(super) key: String,
    /// Its statistics row.
    pub(super) slot: Slot,
    /// Its plan looks the key up in the cache.
    pub(super) lookup: bool,
    /// Its plan lets it join a fetch in flight for the same key.
    pub(super) share: bool,
    /// Its statistics row was found by folding its path's class into
    /// `(other)`: each request by the handle counts a fold, as `start` does.
    pub(super) folded: bool,
    /// Its route reason: an entry stored by a request with another (an
    /// explicit `route`, say) is answered by `start`, with this one.
    pub(super) reason: &'static str,
}

/// What the shim does with a request it holds a handle for.
#[derive(Debug, PartialEq)]
pub enum ByHandle<V> {
    /// A fresh value: the answer.
    Fresh(V),
    /// No fresh value and no stale one, and a fetch for the key is in flight:
    /// the request is now this caller of it, answered with it.
    Joined(RequestId),
    /// Start it as usual.
    Start,
    /// The handle is void (the partition changed): start it and ask for a new one.
    Void,
}

impl<V: Clone + Weigh> Engine<V> {
    /// The number for `handle`: `epoch × 2^20 + index`, below 2^52 (a JS
    /// number holds it exactly).
    pub(super) fn register_handle(&mut self, handle: Handle) -> f64 {
        if self.handles.len() >= self.handle_capacity() {
            self.void_handles();
        }
        self.handles.push(handle);
        let index = (self.handles.len() - 1) as u64;
        ((u64::from(self.handle_epoch) << HANDLE_INDEX_BITS) | index) as f64
    }

    /// Voids every handle given so far. The epoch takes 2^32 values before
    /// one comes back: a handle the shim kept from an old epoch (a text not
    /// asked for since) never names a key of a later one, however often the
    /// user changes (a few bits of epoch came back after 2048 sign-ins and
    /// outs, and an old handle then named another request's key).
    pub(super) fn void_handles(&mut self) {
        self.handles.clear();
        self.handle_epoch = self.handle_epoch.wrapping_add(1);
    }

    /// How many handles are kept before all are voided and counted anew:
    /// enough for every key the cache can hold, so random access over a full
    /// cache keeps finding its handles.
    pub fn handle_capacity(&self) -> usize {
        MIN_HANDLES.max(self.config.cache.limits.max_entries + HANDLE_SLACK)
    }

    /// What to do with the request a handle stands for (see [`ByHandle`]).
    /// A join is what `start` would do for the same request: no value to
    /// serve (a stale one is served by `start`; a plan that does not look up
    /// serves none), a fetch to share. It counts the same miss in the cache's
    /// statistics (none when the plan does not look up).
    pub fn by_handle(&mut self, handle: f64, now_ms: f64) -> ByHandle<V> {
        let limit = (1u64 << (32 + HANDLE_INDEX_BITS)) as f64;
        if !(0.0..limit).contains(&handle) || !float::is_whole(handle) {
            return ByHandle::Void;
        }
        let handle = handle as u64;
        let index = (handle & ((1 << HANDLE_INDEX_BITS) - 1)) as usize;
        let epoch = handle >> HANDLE_INDEX_BITS;
        if epoch != u64::from(self.handle_epoch) || index >= self.handles.len() {
            return ByHandle::Void;
        }
        let handle = &self.handles[index];
        if handle.lookup {
            if let Some(value) = self.store.fresh(&handle.key, now_ms, handle.reason) {
                if handle.folded {
                    self.stats.fold_again();
                }
                self.stats.hit(handle.slot);
                return ByHandle::Fresh(value);
            }
        }
        let in_flight = self.sharing.get(handle.key.as_str()).copied();
        let Some(fetch_id) = in_flight.filter(|id| {
            handle.share
                && self.fetches.contains_key(id)
                && !(handle.lookup && self.store.contains(&handle.key, now_ms))
        }) else {
            return ByHandle::Start;
        };
        let lookup = handle.lookup;
        if handle.folded {
            self.stats.fold_again();
        }
        let id = self.new_id();
        self.join_fetch(id, fetch_id, now_ms);
        if lookup {
            // Counted as the miss `start` would count.
            self.store.lookup(&self.handles[index].key, now_ms);
        }
        ByHandle::Joined(id)
    }
}
