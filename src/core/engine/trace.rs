//! The record behind `explain` (`debug: true` only).

use super::*;

impl<V: Clone + Weigh> Engine<V> {
    /// Records how fetch `id`'s attempt in flight ended (`debug: true` only).
    pub(super) fn note_outcome(&mut self, id: RequestId, outcome: impl FnOnce() -> String) {
        let last = self
            .fetches
            .get_mut(&id)
            .and_then(|f| f.trace.as_deref_mut())
            .and_then(Explain::last);
        if let Some(last) = last {
            last.outcome = outcome();
        }
    }

    /// The final route, and its breaker and budget, into the fetch's record.
    pub(super) fn finish_trace(&self, fetch: &mut Fetch, now_ms: f64) {
        if let Some(trace) = &mut fetch.trace {
            let route = fetch.choice.route;
            trace.route = route;
            trace.route_reason = fetch.choice.reason;
            trace.breaker = self.breaker(route, now_ms);
            trace.budget = self.budget(route);
        }
    }
}
