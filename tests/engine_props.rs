//! Property tests of the core, natively: validation never panics on any input;
//! the retry schedule never exceeds its limit or its deadline; every request
//! settles exactly once whatever the order of events.
#![cfg(not(target_arch = "wasm32"))]
// Native only: the wasm size rule against std sorts does not apply here.
#![allow(clippy::disallowed_methods)]

mod support;

use mp_request::core::config::RawRetry;
use mp_request::core::engine::{Answer, Command};
use mp_request::core::request::RawRequest;
use mp_request::core::retry::RetryPolicy;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use support::*;

proptest! {
    #[test]
    fn validation_never_panics_and_accepts_only_sendable_paths(
        path in ".{0,80}",
        method in proptest::option::of("[A-Za-z]{0,8}"),
        headers in proptest::collection::vec((".{0,12}", ".{0,12}"), 0..4),
        timeout in proptest::option::of(proptest::num::f64::ANY),
        route in proptest::option::of("[a-z]{0,6}"),
    ) {
        let raw = RawRequest { path, method, headers, timeout_ms: timeout, route, ..RawRequest::default() };
        if let Ok(spec) = raw.validate(RetryPolicy::DEFAULT) {
            prop_assert!(spec.path.starts_with('/') && !spec.path.starts_with("//"));
            prop_assert!(!spec.path.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#'));
            prop_assert!(spec.timeout_ms.is_none_or(|t| (1..=60_000).contains(&t)));
        }
    }

    #[test]
    fn the_schedule_never_exceeds_the_limit_or_the_deadline(
        seed in any::<u32>(),
        limit in 0u32..8,
        base in 1u32..2000,
        extra_cap in 0u32..10_000,
        deadline in 1u32..60_000,
        timeout in 1u32..15_000,
        durations in proptest::collection::vec(0.0f64..1.0, 12),
        statuses in proptest::collection::vec(prop_oneof![Just(503u16), Just(500), Just(429), Just(200), Just(0)], 12),
    ) {
        let mut raw = cloud_config();
        raw.retry = Some(RawRetry::Custom {
            limit: Some(f64::from(limit)),
            base_ms: Some(f64::from(base)),
            cap_ms: Some(f64::from(base + extra_cap)),
            deadline_ms: Some(f64::from(deadline)),
        });
        raw.timeout_ms = Some(f64::from(timeout));
        let mut e = engine(raw, seed);
        let mut queue = e.start(get("/x"), 0.0).unwrap().1;
        let mut now = 0.0;
        let mut sends = 0usize;
        loop {
            queue = match one(queue) {
                Command::InitCloud { .. } => e.on_init(Ok(()), now),
                Command::Send(s) => {
                    prop_assert!(now < f64::from(deadline), "sent at {now} past the deadline {deadline}");
                    prop_assert!(now + f64::from(s.timeout_ms) <= f64::from(deadline) + 1.0, "attempt may run past the deadline");
                    // The attempt takes some fraction of its timeout (1.0 = it timed out).
                    now += f64::from(s.timeout_ms) * durations[sends % durations.len()];
                    let status = statuses[sends % statuses.len()];
                    sends += 1;
                    if status == 0 { e.on_failure(s.id, timeout_failure(), now) } else { e.on_response(s.id, Answer::status(status, None), now) }.unwrap()
                }
                Command::Wait { id, delay_ms } => {
                    now += f64::from(delay_ms);
                    e.on_timer(id, now).unwrap()
                }
                Command::Resolve(..) | Command::Reject(..) => break,
                other => panic!("{other:?}"),
            };
        }
        prop_assert!(sends <= limit as usize + 1, "{sends} attempts with limit {limit}");
        prop_assert!(now <= f64::from(deadline) + 1.0, "settled at {now}, deadline {deadline}");
        prop_assert_eq!(e.in_flight(), 0);
    }

    #[test]
    fn every_request_settles_exactly_once(
        seed in any::<u32>(),
        events in proptest::collection::vec((0u8..6, 0usize..8, prop_oneof![Just(200u16), Just(404), Just(503)]), 1..80),
    ) {
        let mut e = engine(cloud_config(), seed);
        let mut outstanding: HashMap<u32, &'static str> = HashMap::new(); // id → what it waits for
        let mut settled: HashSet<u32> = HashSet::new();
        let mut init_running = false;
        let mut init_waiting = false;
        let mut started = 0usize;
        let mut now = 0.0;
        let apply = |commands: Vec<Command>, outstanding: &mut HashMap<u32, &'static str>, settled: &mut HashSet<u32>, init_running: &mut bool, init_waiting: &mut bool| -> Result<(), TestCaseError> {
            for c in commands {
                match c {
                    Command::Send(s) => { outstanding.insert(s.id, "outcome"); }
                    Command::Wait { id, .. } => { outstanding.insert(id, "timer"); }
                    Command::Resolve(s, _) | Command::Reject(s, _) => {
                        prop_assert!(settled.insert(s.id), "settled twice: {}", s.id);
                        outstanding.remove(&s.id);
                    }
                    Command::InitCloud { .. } => { *init_running = true; *init_waiting = false; }
                    Command::WaitInit { .. } => { *init_running = false; *init_waiting = true; }
                    Command::Abort { id } => { outstanding.remove(&id); }
                    Command::End { .. } | Command::Persist { .. } => {}
                    // Nothing here is queued offline.
                    Command::Replay(_) | Command::Synced(..) | Command::SaveQueue | Command::Headers { .. } | Command::WaitReplay { .. } | Command::Report { .. } | Command::WaitReport { .. } | Command::Watched { .. } | Command::WatchFailed { .. } | Command::WaitWatch { .. } | Command::WatchFetch { .. } => prop_assert!(false, "{c:?}"),
                    // No socket asks for the cloud here.
                    Command::CloudReady | Command::CloudFailed(_) => prop_assert!(false, "{c:?}"),
                }
            }
            Ok(())
        };
        for (action, pick, status) in events {
            now += 1.0;
            let ids: Vec<u32> = { let mut v: Vec<u32> = outstanding.keys().copied().collect(); v.sort(); v };
            let target = (!ids.is_empty()).then(|| ids[pick % ids.len()]);
            let commands = match (action, target) {
                (0, _) => { started += 1; e.start(get("/x"), now).unwrap().1 }
                (1, _) if init_running => { init_running = false; e.on_init(if pick % 3 == 0 { Err(timeout_failure()) } else { Ok(()) }, now) }
                (2, _) if init_waiting => e.on_init_timer(),
                (3, Some(id)) => e.cancel(id, now),
                (_, Some(id)) if outstanding[&id] == "outcome" => e.on_response(id, Answer::status(status, None), now).unwrap(),
                (_, Some(id)) => e.on_timer(id, now).unwrap(),
                _ => Vec::new(),
            };
            apply(commands, &mut outstanding, &mut settled, &mut init_running, &mut init_waiting)?;
            prop_assert_eq!(e.in_flight(), started - settled.len());
        }
    }
}

fn timeout_failure() -> mp_request::core::classify::Failure {
    timeout()
}
