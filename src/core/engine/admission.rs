//! Whether and when an attempt may start: a slot of its transport (the
//! scheduler) and its service's circuit breaker, told how each attempt went.

use super::*;
use crate::core::resilience::breaker::BreakerState;

impl<V: Clone + Weigh> Engine<V> {
    /// Fetch `id`'s attempt ended without a word about the service (it was
    /// cancelled or interrupted): if it was the breaker's probe, the next attempt probes.
    pub(super) fn abandon_probe(&mut self, id: RequestId) {
        let Some(fetch) = self.fetches.get(&id).filter(|f| f.probe) else {
            return;
        };
        if let Some(breaker) = self.guards.breaker(fetch.choice.route) {
            breaker.abandon_probe();
        }
    }

    /// Attempts in flight on `route`'s transport, and requests queued for a slot.
    pub fn load(&self, route: Route) -> (u32, usize) {
        self.scheduler.load(route)
    }

    /// Asks the breaker of fetch `id`'s route whether its attempt may start.
    /// While the cloud's is open, a client with `baseUrl` falls back to HTTP
    /// (if that breaker lets it); otherwise the refusal is the error to fail with.
    pub(super) fn admit(&mut self, id: RequestId, now_ms: f64) -> Result<(), RequestError> {
        let fetch = self.fetches.get_mut(&id).expect("fetch");
        let route = fetch.choice.route;
        let Some(breaker) = self.guards.breaker(route) else {
            return Ok(());
        };
        if fetch.report {
            // A fleet report goes only through a closed breaker: it must never
            // be the probe (its outcome is no verdict on the app's service),
            // and waiting costs it nothing (it is put back for the next one).
            let view = breaker.view(now_ms);
            if view.state == BreakerState::Closed {
                return Ok(());
            }
            return Err(RequestError::CircuitOpen {
                route: route.as_str(),
                failures: view.failures,
                calls: view.calls,
                retry_in_ms: view.retry_in_ms,
            });
        }
        let refused = match breaker.admit(now_ms) {
            admit @ (Admit::Pass | Admit::Probe) => {
                fetch.probe = admit == Admit::Probe;
                return Ok(());
            }
            Admit::Refuse { retry_in_ms } => {
                let view = breaker.view(now_ms);
                RequestError::CircuitOpen {
                    route: route.as_str(),
                    failures: view.failures,
                    calls: view.calls,
                    retry_in_ms,
                }
            }
        };
        let base = self.config.base_url.as_deref();
        if let (Route::Cloud, Some(base)) = (route, base) {
            let admit = self
                .guards
                .breaker(Route::Http)
                .map_or(Admit::Pass, |b| b.admit(now_ms));
            if !matches!(admit, Admit::Refuse { .. }) {
                fetch.url = Some(format!("{base}{}", fetch.target));
                fetch.choice = RouteChoice {
                    route: Route::Http,
                    reason: "the cloud's circuit is open: falling back to baseUrl",
                    mock: None,
                };
                fetch.probe = admit == Admit::Probe;
                if let Some(trace) = &mut fetch.trace {
                    trace.notes.push(format!("{refused}: fell back to baseUrl"));
                }
                return Ok(());
            }
        }
        if let Some(trace) = &mut fetch.trace {
            trace.notes.push(refused.to_string());
        }
        Err(refused)
    }

    /// Tells the breaker of fetch `id`'s route how its attempt went.
    pub(super) fn report(&mut self, id: RequestId, failed: bool, now_ms: f64) {
        let fetch = &self.fetches[&id];
        if fetch.report {
            // A fleet report's endpoint is not the app's service: it tells the breaker nothing.
            self.abandon_probe(id);
            return;
        }
        let probe = fetch.probe;
        if let Some(breaker) = self.guards.breaker(fetch.choice.route) {
            breaker.record(now_ms, failed, probe);
        }
    }

    /// Fetch `id`'s attempt ended: its slot goes to the next queued request.
    pub(super) fn free_slot(&mut self, id: RequestId, now_ms: f64) -> Vec<Command<V>> {
        let Some(lane) = self.fetches.get_mut(&id).and_then(|f| f.lane.take()) else {
            return Vec::new();
        };
        let mut commands = Vec::new();
        // A launch the breaker refuses frees the slot again: the loop goes on.
        let mut freed = Some(lane);
        while let Some(lane) = freed.take() {
            let Some(next) = self.scheduler.release(lane) else {
                break;
            };
            if let Some(fetch) = self.fetches.get_mut(&next) {
                fetch.lane = Some(lane);
                let launched = self.launch(next, now_ms);
                commands.extend(launched);
            }
        }
        commands
    }
}
