//! At most `limit` attempts in flight per transport (the platform allows 10
//! concurrent `wx.request`s; callContainer shares the budget in practice), and
//! a queue for the rest, by priority then arrival: page data before prefetch.
//! The mock route has no limit. A queued request's wait counts against its
//! deadline; the engine times it out.

use super::error::RequestError;
use super::route::Route;
use crate::prelude::*;
use alloc::collections::VecDeque;

/// `wx.request`'s limit of concurrent requests.
pub const DEFAULT_MAX_CONCURRENT: u32 = 10;

/// A request's place in the queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Page data the user waits for.
    High,
    /// Everything else.
    #[default]
    Normal,
    /// Prefetch, analytics.
    Low,
}

impl Priority {
    /// Parses `priority`.
    pub fn parse(name: &str) -> Result<Priority, RequestError> {
        match name {
            "high" => Ok(Priority::High),
            "normal" => Ok(Priority::Normal),
            "low" => Ok(Priority::Low),
            other => Err(RequestError::invalid(
                "priority",
                format!(
                    "must be 'high', 'normal' or 'low', got {}",
                    super::request::quoted(other, 32)
                ),
            )),
        }
    }

    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }
}

/// One transport's slots and queue.
#[derive(Clone, Debug, Default)]
struct Lane {
    running: u32,
    queued: [VecDeque<u32>; 3],
}

/// The scheduler of one client.
#[derive(Clone, Debug)]
pub struct Scheduler {
    limit: u32,
    lanes: [Lane; 2],
}

impl Scheduler {
    /// At most `limit` attempts in flight per transport.
    pub fn new(limit: u32) -> Self {
        Scheduler {
            limit,
            lanes: Default::default(),
        }
    }

    /// Takes a slot for an attempt of `id` on `route` if one is free;
    /// otherwise queues `id` and returns false.
    pub fn acquire(&mut self, route: Route, priority: Priority, id: u32) -> bool {
        let limit = self.limit;
        let Some(lane) = self.lane(route) else {
            return true;
        };
        if lane.running < limit && lane.queued.iter().all(VecDeque::is_empty) {
            lane.running += 1;
            return true;
        }
        lane.queued[priority as usize].push_back(id);
        false
    }

    /// An attempt on `route` ended: its slot goes to the next queued request,
    /// whose id is returned (it now holds the slot).
    pub fn release(&mut self, route: Route) -> Option<u32> {
        let limit = self.limit;
        let lane = self.lane(route)?;
        lane.running = lane.running.saturating_sub(1);
        if lane.running >= limit {
            return None;
        }
        let next = lane.queued.iter_mut().find_map(VecDeque::pop_front)?;
        lane.running += 1;
        Some(next)
    }

    /// Takes `id` out of `route`'s queue (cancelled, or its deadline passed).
    /// Returns whether it was queued.
    pub fn forget(&mut self, route: Route, id: u32) -> bool {
        let Some(lane) = self.lane(route) else {
            return false;
        };
        for queue in &mut lane.queued {
            if let Some(i) = queue.iter().position(|&q| q == id) {
                queue.remove(i);
                return true;
            }
        }
        false
    }

    /// Attempts in flight and requests queued on `route`.
    pub fn load(&self, route: Route) -> (u32, usize) {
        match lane_index(route) {
            Some(i) => {
                let lane = &self.lanes[i];
                (lane.running, lane.queued.iter().map(VecDeque::len).sum())
            }
            None => (0, 0),
        }
    }

    fn lane(&mut self, route: Route) -> Option<&mut Lane> {
        lane_index(route).map(|i| &mut self.lanes[i])
    }
}

fn lane_index(route: Route) -> Option<usize> {
    match route {
        Route::Cloud => Some(0),
        Route::Http => Some(1),
        Route::Mock => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_limit_run_and_the_rest_wait_by_priority_then_arrival() {
        let mut s = Scheduler::new(2);
        assert!(s.acquire(Route::Cloud, Priority::Normal, 1));
        assert!(s.acquire(Route::Cloud, Priority::Normal, 2));
        assert!(!s.acquire(Route::Cloud, Priority::Low, 3));
        assert!(!s.acquire(Route::Cloud, Priority::Normal, 4));
        assert!(!s.acquire(Route::Cloud, Priority::High, 5));
        assert!(!s.acquire(Route::Cloud, Priority::High, 6));
        assert_eq!(s.load(Route::Cloud), (2, 4));
        let order: Vec<_> = (0..4).filter_map(|_| s.release(Route::Cloud)).collect();
        assert_eq!(order, [5, 6, 4, 3]);
        assert_eq!(s.load(Route::Cloud), (2, 0));
        assert_eq!(s.release(Route::Cloud), None);
        assert_eq!(s.load(Route::Cloud), (1, 0));
    }

    #[test]
    fn transports_are_counted_apart_and_mock_is_unlimited() {
        let mut s = Scheduler::new(1);
        assert!(s.acquire(Route::Cloud, Priority::Normal, 1));
        assert!(s.acquire(Route::Http, Priority::Normal, 2));
        assert!(!s.acquire(Route::Http, Priority::Normal, 3));
        for id in 10..100 {
            assert!(s.acquire(Route::Mock, Priority::Low, id));
        }
        assert_eq!(s.load(Route::Mock), (0, 0));
    }

    #[test]
    fn a_newcomer_does_not_jump_a_queue_even_when_a_slot_just_freed() {
        let mut s = Scheduler::new(1);
        assert!(s.acquire(Route::Cloud, Priority::Normal, 1));
        assert!(!s.acquire(Route::Cloud, Priority::Low, 2));
        assert_eq!(s.release(Route::Cloud), Some(2));
        assert!(
            !s.acquire(Route::Cloud, Priority::High, 3),
            "2 holds the slot now"
        );
    }

    #[test]
    fn forgotten_requests_leave_the_queue() {
        let mut s = Scheduler::new(1);
        s.acquire(Route::Http, Priority::Normal, 1);
        s.acquire(Route::Http, Priority::Normal, 2);
        s.acquire(Route::Http, Priority::Normal, 3);
        assert!(s.forget(Route::Http, 2));
        assert!(!s.forget(Route::Http, 2));
        assert_eq!(s.release(Route::Http), Some(3));
    }

    #[test]
    fn priorities_parse() {
        assert_eq!(Priority::parse("high"), Ok(Priority::High));
        assert!(Priority::parse("urgent")
            .unwrap_err()
            .to_string()
            .contains("must be 'high', 'normal' or 'low', got \"urgent\""));
    }
}
