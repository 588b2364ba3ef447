//! `explain` natively: what the engine records with `debug: true`, and that
//! it records nothing without it.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawRule};
use mp_request::core::config::{RawConfig, RawRetry};
use mp_request::core::engine::{Answer, Command};
use mp_request::core::explain::CacheUse;
use mp_request::core::resilience::BreakerState;
use mp_request::core::route::Route;
use support::*;

fn debug_config() -> RawConfig {
    RawConfig {
        debug: true,
        retry: Some(RawRetry::Custom {
            limit: Some(2.0),
            base_ms: Some(100.0),
            cap_ms: Some(100.0),
            deadline_ms: None,
        }),
        cache: Some(RawCacheConfig {
            rules: vec![RawRule {
                path: "/api/home/*".into(),
                ttl_ms: Some(1000.0),
                ..RawRule::default()
            }],
            ..RawCacheConfig::default()
        }),
        ..cloud_config()
    }
}

#[test]
fn a_retried_request_explains_each_attempt_the_route_the_cache_and_the_guards() {
    let mut e = engine(debug_config(), 3);
    let mut d = Drive::new();
    let mut outcomes = [
        Outcome::Status(503),
        Outcome::Fail(reset()),
        Outcome::Status(200),
    ]
    .into_iter();
    let Command::Resolve(settled, _) = d.run(&mut e, get("/api/home/init"), &mut outcomes, 10.0)
    else {
        panic!()
    };
    let x = settled.explain.expect("debug: true records");
    assert_eq!(
        (x.route, x.route_reason),
        (Route::Cloud, "env configured and wx.cloud available")
    );
    assert_eq!(
        (x.cache, x.cache_reason),
        (CacheUse::Miss, "cached: a cache rule covers this path")
    );
    let attempts: Vec<(u32, &str, &str)> = x
        .attempts
        .iter()
        .map(|a| (a.attempt, a.outcome.as_str(), a.decision.as_str()))
        .collect();
    assert_eq!(attempts[0].1, "HTTP 503");
    assert!(attempts[0].2.starts_with("retry in "), "{:?}", attempts[0]);
    assert!(
        attempts[0]
            .2
            .ends_with("ms, for 5 tokens of the retry budget"),
        "{:?}",
        attempts[0]
    );
    assert!(attempts[1].1.starts_with("network: "), "{:?}", attempts[1]);
    assert_eq!((attempts[2].1, attempts[2].2), ("HTTP 200", ""));
    assert_eq!(x.attempts[0].at_ms, 0.0);
    assert!(x.attempts[2].at_ms > x.attempts[1].at_ms);
    assert_eq!(x.attempts[0].timeout_ms, 10_000);
    let breaker = x.breaker.unwrap();
    assert_eq!(
        (breaker.state, breaker.calls, breaker.failures),
        (BreakerState::Closed, 3, 2)
    );
    assert_eq!(
        x.budget,
        Some((495, 500)),
        "two retries spent 10; the success gave its last retry's 5 back"
    );

    // The same request again: a hit.
    let (_, commands) = e.start(get("/api/home/init"), d.now + 1.0).unwrap();
    let Command::Resolve(hit, _) = one(commands) else {
        panic!()
    };
    let x = hit.explain.unwrap();
    assert_eq!((x.cache, x.cache_reason), (CacheUse::Hit, "a fresh entry"));
    assert!(x.attempts.is_empty());
}

#[test]
fn a_failure_explains_why_it_was_not_retried_and_a_post_why_it_was_not_cached() {
    let mut e = engine(debug_config(), 3);
    let mut d = Drive::new();
    let mut lost = std::iter::once(Outcome::Fail(reset()));
    let Command::Reject(settled, _) = d.run(&mut e, post("/api/order/create"), &mut lost, 5.0)
    else {
        panic!()
    };
    let x = settled.explain.unwrap();
    assert_eq!(
        (x.cache, x.cache_reason),
        (CacheUse::Bypass, "not cached: only GET is")
    );
    assert_eq!(x.attempts.len(), 1);
    assert!(
        x.attempts[0]
            .decision
            .contains("POST is not idempotent and may have reached the server"),
        "{:?}",
        x.attempts[0]
    );
    let mut bad = std::iter::once(Outcome::Status(404));
    let Command::Reject(settled, _) = d.run(&mut e, get("/api/nothing"), &mut bad, 5.0) else {
        panic!()
    };
    let x = settled.explain.unwrap();
    assert_eq!(x.attempts[0].decision, "returned: http is not retried");
    assert_eq!(x.cache_reason, "not cached: no cache rule covers this path");
}

#[test]
fn callers_that_joined_say_so() {
    let mut e = engine(debug_config(), 3);
    let (first, _) = e.start(get("/api/live"), 0.0).unwrap();
    let send = one(e.on_init(Ok(()), 0.0));
    let (second, joined) = e.start(get("/api/live"), 1.0).unwrap();
    assert_eq!(joined, vec![Command::End { id: second }]);
    let done = e
        .on_response(id_of(&send), Answer::status(200, None), 2.0)
        .unwrap();
    let uses: Vec<(u32, CacheUse)> = done
        .iter()
        .filter_map(|c| match c {
            Command::Resolve(s, _) => Some((s.id, s.explain.as_ref().unwrap().cache)),
            _ => None,
        })
        .collect();
    assert_eq!(
        uses,
        [(first, CacheUse::Bypass), (second, CacheUse::Shared)]
    );
}

#[test]
fn without_debug_nothing_is_recorded() {
    let mut e = engine(cloud_config(), 3);
    let mut d = Drive::new();
    let mut ok = std::iter::once(Outcome::Status(200));
    let Command::Resolve(settled, _) = d.run(&mut e, get("/api/x"), &mut ok, 1.0) else {
        panic!()
    };
    assert!(settled.explain.is_none());
}
