//! Handles: numbers that stand for a cache key, so that a repeated request
//! crosses the boundary as two numbers and finds its fresh value at once.

use super::*;
use crate::core::float;

impl<V: Clone + Weigh> Engine<V> {
    /// A handle for `key`: `epoch × 2^20 + index`.
    pub(super) fn register_handle(&mut self, key: String, slot: Slot) -> f64 {
        if self.handles.len() >= self.handle_capacity() {
            self.handles.clear();
            self.handle_epoch = (self.handle_epoch + 1) % (1 << (31 - HANDLE_INDEX_BITS));
        }
        self.handles.push((key, slot));
        let index = (self.handles.len() - 1) as u32;
        f64::from((self.handle_epoch << HANDLE_INDEX_BITS) | index)
    }

    /// How many handles are kept before all are voided and counted anew:
    /// enough for every key the cache can hold, so random access over a full
    /// cache keeps finding its handles.
    pub fn handle_capacity(&self) -> usize {
        MIN_HANDLES.max(self.config.cache.limits.max_entries + HANDLE_SLACK)
    }

    /// The fresh value behind a handle: `Ok(Some)`, `Ok(None)` when it is
    /// not fresh (start the request as usual), `Err(())` when the handle is
    /// void (the partition changed): ask for a new one.
    #[allow(clippy::result_unit_err)]
    pub fn hit_by_handle(&mut self, handle: f64, now_ms: f64) -> Result<Option<V>, ()> {
        if !(0.0..f64::from(u32::MAX)).contains(&handle) || !float::is_whole(handle) {
            return Err(());
        }
        let handle = handle as u32;
        let index = (handle & ((1 << HANDLE_INDEX_BITS) - 1)) as usize;
        if handle >> HANDLE_INDEX_BITS != self.handle_epoch || index >= self.handles.len() {
            return Err(());
        }
        let (key, slot) = &self.handles[index];
        let value = self.store.fresh(key, now_ms);
        if value.is_some() {
            self.stats.hit(*slot);
        }
        Ok(value)
    }
}
