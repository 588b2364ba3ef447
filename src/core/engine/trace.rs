//! The record behind `explain` (`debug: true` only).

use super::*;

impl<V: Clone + Weigh> Engine<V> {
    /// Records how fetch `id`'s attempt in flight ended.
    pub(super) fn note_outcome(&mut self, id: RequestId, outcome: impl FnOnce() -> String) {
        if let Some(last) = self.last_attempt(id) {
            last.outcome = outcome();
        }
    }

    /// Records what followed fetch `id`'s last attempt, unless something already did.
    pub(super) fn note_decision(&mut self, id: RequestId, decision: impl FnOnce() -> String) {
        if let Some(last) = self.last_attempt(id) {
            if last.decision.is_empty() {
                last.decision = decision();
            }
        }
    }

    /// The record of fetch `id`'s last attempt (`debug: true` only; without
    /// it, no lookup on the request's path).
    fn last_attempt(&mut self, id: RequestId) -> Option<&mut AttemptNote> {
        if !self.config.explain {
            return None;
        }
        self.fetches.get_mut(&id)?.trace.as_deref_mut()?.last()
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
