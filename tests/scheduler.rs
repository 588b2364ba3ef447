//! The scheduler inside the engine, natively under a virtual clock: slots per
//! transport, the priority queue, the queue's share of the deadline.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::config::{RawConfig, RawRetry};
use mp_request::core::engine::{Answer, Command, Engine, RequestId};
use mp_request::core::error::ErrorKind;
use mp_request::core::request::RawRequest;
use mp_request::core::route::Route;
use support::*;

/// An engine whose cloud init is done, with `limit` slots.
fn ready(limit: u32, retry: Option<RawRetry>) -> Engine {
    let mut e = engine(
        RawConfig {
            max_concurrent: Some(f64::from(limit)),
            retry,
            ..cloud_config()
        },
        7,
    );
    let (_, c) = e.start(get("/warm"), 0.0).unwrap();
    assert!(matches!(c[0], Command::InitCloud { .. }));
    let warm = sends(&e.on_init(Ok(()), 0.0));
    e.on_response(warm[0], Answer::status(200, None), 0.0)
        .unwrap();
    e
}

fn sends(commands: &[Command]) -> Vec<RequestId> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(s) => Some(s.id),
            _ => None,
        })
        .collect()
}

fn with_priority(path: &str, priority: &str) -> RawRequest {
    RawRequest {
        priority: Some(priority.into()),
        ..get(path)
    }
}

#[test]
fn at_most_ten_attempts_run_and_the_rest_queue_until_a_slot_frees() {
    let mut e = ready(10, None);
    let mut running = Vec::new();
    let mut queued = Vec::new();
    for i in 0..15 {
        let (id, commands) = e.start(get(&format!("/api/item/{i}")), 1.0).unwrap();
        match one(commands) {
            Command::Send(_) => running.push(id),
            Command::Wait { delay_ms, .. } => {
                assert_eq!(
                    delay_ms, 30_000,
                    "the wait for a slot is bounded by the deadline"
                );
                queued.push(id);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((running.len(), queued.len()), (10, 5));
    let next = e
        .on_response(running[0], Answer::status(200, None), 2.0)
        .unwrap();
    assert_eq!(
        sends(&next),
        vec![queued[0]],
        "the freed slot goes to the first in line"
    );
    let next = e.on_failure(running[1], reset(), 3.0).unwrap();
    assert_eq!(
        sends(&next),
        vec![queued[1]],
        "a failed attempt frees its slot too"
    );
    assert!(
        next.iter()
            .any(|c| matches!(c, Command::Wait { id, .. } if *id == running[1])),
        "and its retry waits its backoff without a slot"
    );
}

#[test]
fn the_queue_serves_high_then_normal_then_low_in_arrival_order() {
    let mut e = ready(1, None);
    let (first, _) = e.start(get("/api/first"), 0.0).unwrap();
    let mut ids = Vec::new();
    for (path, priority) in [
        ("/api/prefetch-1", "low"),
        ("/api/list", "normal"),
        ("/api/page-1", "high"),
        ("/api/prefetch-2", "low"),
        ("/api/page-2", "high"),
    ] {
        ids.push((e.start(with_priority(path, priority), 0.0).unwrap().0, path));
    }
    let mut order = Vec::new();
    let mut done = first;
    for _ in 0..ids.len() {
        let next = sends(&e.on_response(done, Answer::status(200, None), 1.0).unwrap());
        assert_eq!(next.len(), 1);
        done = next[0];
        order.push(ids.iter().find(|(id, _)| *id == done).unwrap().1);
    }
    assert_eq!(
        order,
        [
            "/api/page-1",
            "/api/page-2",
            "/api/list",
            "/api/prefetch-1",
            "/api/prefetch-2"
        ]
    );
}

#[test]
fn a_request_whose_deadline_passes_in_the_queue_fails_as_timeout_unsent() {
    let mut e = ready(1, None);
    let (first, _) = e.start(get("/api/slow"), 0.0).unwrap();
    let request = RawRequest {
        retry: Some(RawRetry::Custom {
            limit: None,
            base_ms: None,
            cap_ms: None,
            deadline_ms: Some(1000.0),
        }),
        ..get("/api/waiting")
    };
    let (queued, commands) = e.start(request, 0.0).unwrap();
    let Command::Wait { delay_ms, .. } = one(commands) else {
        panic!()
    };
    assert_eq!(delay_ms, 1000);
    let Command::Reject(settled, err) = one(e.on_timer(queued, 1000.0).unwrap()) else {
        panic!()
    };
    assert_eq!((err.kind(), settled.attempts), (ErrorKind::Timeout, 0));
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "not sent: waited 1000 ms for one of the 1 slots of cloud; the deadline passed"
    );
    assert!(
        sends(
            &e.on_response(first, Answer::status(200, None), 1500.0)
                .unwrap()
        )
        .is_empty(),
        "it left the queue"
    );
}

#[test]
fn time_in_the_queue_shortens_the_attempt_timeout() {
    let mut e = ready(1, None);
    let (first, _) = e.start(get("/api/slow"), 0.0).unwrap();
    let (_, _) = e.start(get("/api/next"), 0.0).unwrap();
    // 25 s of the 30 s deadline went by in the queue: 5 s are left, below the 10 s timeout.
    let next = e
        .on_response(first, Answer::status(200, None), 25_000.0)
        .unwrap();
    let Some(Command::Send(send)) = next.iter().find(|c| matches!(c, Command::Send(_))) else {
        panic!("{next:?}")
    };
    assert_eq!(send.timeout_ms, 5_000);
}

#[test]
fn a_cancelled_request_leaves_the_queue_and_a_cancelled_attempt_frees_its_slot() {
    let mut e = ready(1, None);
    let (first, _) = e.start(get("/api/a"), 0.0).unwrap();
    let (second, _) = e.start(get("/api/b"), 0.0).unwrap();
    let (third, _) = e.start(get("/api/c"), 0.0).unwrap();
    let cancelled = e.cancel(second, 1.0);
    assert!(sends(&cancelled).is_empty(), "{cancelled:?}");
    let aborted = e.cancel(first, 2.0);
    assert!(aborted.iter().any(|c| matches!(c, Command::Abort { .. })));
    assert_eq!(
        sends(&aborted),
        vec![third],
        "the freed slot skips the cancelled one"
    );
}

#[test]
fn transports_have_their_own_slots() {
    let mut e = engine(
        RawConfig {
            max_concurrent: Some(1.0),
            base_url: Some("https://api.example.com".into()),
            ..cloud_config()
        },
        7,
    );
    let _ = e.start(get("/warm"), 0.0).unwrap();
    let warm = sends(&e.on_init(Ok(()), 0.0));
    assert_eq!(warm.len(), 1, "the cloud slot is taken");
    let http = RawRequest {
        route: Some("http".into()),
        ..get("/api/x")
    };
    let (_, commands) = e.start(http, 0.0).unwrap();
    let Command::Send(send) = one(commands) else {
        panic!()
    };
    assert_eq!(send.route.route, Route::Http);
}

#[test]
fn max_concurrent_is_checked() {
    let raw = RawConfig {
        max_concurrent: Some(0.0),
        ..cloud_config()
    };
    let err = raw.validate().unwrap_err().to_string();
    assert_eq!(
        err,
        "`maxConcurrent` must be a whole number from 1 to 100, got 0"
    );
}
