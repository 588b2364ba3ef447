//! Retry budgets and circuit breakers inside the engine, natively under a
//! virtual clock (the driver's `now`) and a fixed seed.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::config::{RawConfig, RawRetry};
use mp_request::core::engine::{Answer, Command};
use mp_request::core::error::{ErrorKind, RequestError};
use mp_request::core::locale::Locale;
use mp_request::core::resilience::breaker::RawBreaker;
use mp_request::core::resilience::budget::RawBudget;
use mp_request::core::resilience::BreakerState;
use mp_request::core::route::Route;
use support::*;

fn no_breaker() -> RawBreaker {
    RawBreaker {
        disabled: true,
        ..RawBreaker::default()
    }
}

fn fast_retries() -> Option<RawRetry> {
    Some(RawRetry::Custom {
        limit: Some(3.0),
        base_ms: Some(1.0),
        cap_ms: Some(1.0),
        deadline_ms: None,
    })
}

/// Sends made by `n` requests in a row against a backend answering `status`.
fn sends_for(raw: RawConfig, n: usize, status: u16) -> (usize, Vec<Command>) {
    let mut e = engine(raw, 7);
    let mut d = Drive::new();
    let mut ends = Vec::new();
    for _ in 0..n {
        let mut outcomes = std::iter::repeat_with(|| Outcome::Status(status));
        ends.push(d.run(&mut e, get("/api/test"), &mut outcomes, 1.0));
    }
    let sends = d.log.iter().filter(|l| l.starts_with("send#")).count();
    (sends, ends)
}

#[test]
fn a_dead_backend_under_1000_requests_gets_a_bounded_number_of_retries() {
    let budgeted = RawConfig {
        retry: fast_retries(),
        breaker: no_breaker(),
        ..cloud_config()
    };
    let (sends, ends) = sends_for(budgeted, 1000, 503);
    // 500 tokens at 5 a retry: 100 retries in all, not 3 per request.
    assert_eq!(sends, 1000 + 100);
    let Command::Reject(settled, err) = &ends[999] else {
        panic!("{:?}", ends[999])
    };
    assert_eq!((err.kind(), settled.attempts), (ErrorKind::Service, 1));
    assert!(
        settled
            .note
            .contains("retry budget is spent (0 of 500 tokens left"),
        "{}",
        settled.note
    );

    let unbudgeted = RawConfig {
        retry: fast_retries(),
        breaker: no_breaker(),
        retry_budget: RawBudget {
            disabled: true,
            ..RawBudget::default()
        },
        ..cloud_config()
    };
    assert_eq!(
        sends_for(unbudgeted, 1000, 503).0,
        4000,
        "without it: 4× the load"
    );
}

#[test]
fn timeouts_cost_twice_and_successes_refill_the_budget() {
    let raw = RawConfig {
        retry: fast_retries(),
        breaker: no_breaker(),
        retry_budget: RawBudget {
            capacity: Some(30.0),
            ..RawBudget::default()
        },
        ..cloud_config()
    };
    let mut e = engine(raw, 7);
    let mut d = Drive::new();
    // Three retries after timeouts spend all 30 tokens.
    let mut timeouts = std::iter::repeat_with(|| Outcome::Fail(timeout()));
    let Command::Reject(first, _) = d.run(&mut e, get("/api/a"), &mut timeouts, 1.0) else {
        panic!()
    };
    assert_eq!(first.attempts, 4);
    let Command::Reject(second, _) = d.run(&mut e, get("/api/b"), &mut timeouts, 1.0) else {
        panic!()
    };
    assert_eq!(second.attempts, 1, "the budget is empty");
    // A request whose one retry succeeds returns that retry's cost.
    for _ in 0..5 {
        let mut ok = std::iter::once(Outcome::Status(200));
        d.run(&mut e, get("/api/ok"), &mut ok, 1.0);
    }
    let mut once = [Outcome::Status(503), Outcome::Status(200)].into_iter();
    let Command::Resolve(retried, _) = d.run(&mut e, get("/api/c"), &mut once, 1.0) else {
        panic!()
    };
    assert_eq!(
        retried.attempts, 2,
        "5 successes refilled 5 tokens: one retry"
    );
    let mut again = [Outcome::Status(503), Outcome::Status(200)].into_iter();
    let Command::Resolve(again, _) = d.run(&mut e, get("/api/c"), &mut again, 1.0) else {
        panic!()
    };
    assert_eq!(again.attempts, 2, "its success gave back what it spent");
}

/// Half of 10 attempts within 10 s opens it for 5 s.
fn small_breaker() -> RawBreaker {
    RawBreaker {
        window_ms: Some(10_000.0),
        min_calls: Some(10.0),
        ..RawBreaker::default()
    }
}

fn breaker_config() -> RawConfig {
    RawConfig {
        retry: Some(RawRetry::Disabled),
        breaker: small_breaker(),
        ..cloud_config()
    }
}

/// Fails 10 requests in a row at 1 ms apart: the small breaker opens.
fn open_the_breaker(e: &mut mp_request::core::engine::Engine, d: &mut Drive) {
    for _ in 0..10 {
        let mut fail = std::iter::once(Outcome::Status(503));
        d.run(e, get("/api/test"), &mut fail, 1.0);
    }
}

#[test]
fn an_open_breaker_fails_fast_with_kind_service_then_one_probe_closes_it() {
    let mut e = engine(breaker_config(), 7);
    let mut d = Drive::new();
    open_the_breaker(&mut e, &mut d);
    let sent = d.log.len();

    let (_, commands) = e.start(get("/api/test"), d.now).unwrap();
    let Command::Reject(settled, err) = one(commands) else {
        panic!()
    };
    assert_eq!(d.log.len(), sent, "nothing was sent");
    assert_eq!((err.kind(), settled.attempts), (ErrorKind::Service, 0));
    assert!(!err.is_retryable());
    assert!(
        err.to_string()
            .starts_with("circuit open for cloud: 10 of 10 attempts failed"),
        "{err}"
    );
    assert_eq!(
        err.user_message(Locale::ZhCn),
        "服务暂时不可用，已暂停请求以待恢复，请稍后重试"
    );
    assert_eq!(
        e.breaker(Route::Cloud, d.now).unwrap().state,
        BreakerState::Open
    );

    // After openMs one request probes; while it is in flight others fail fast.
    d.now += 5_000.0;
    let (probe, commands) = e.start(get("/api/test"), d.now).unwrap();
    assert!(matches!(one(commands), Command::Send(_)));
    let (_, commands) = e.start(get("/api/other"), d.now).unwrap();
    let Command::Reject(_, RequestError::CircuitOpen { retry_in_ms, .. }) = one(commands) else {
        panic!()
    };
    assert_eq!(retry_in_ms, 0, "a probe is in flight");
    e.on_response(probe, Answer::status(200, None), d.now + 1.0)
        .unwrap();
    assert_eq!(
        e.breaker(Route::Cloud, d.now).unwrap().state,
        BreakerState::Closed
    );
    let mut ok = std::iter::once(Outcome::Status(200));
    assert!(matches!(
        d.run(&mut e, get("/api/test"), &mut ok, 1.0),
        Command::Resolve(..)
    ));
}

#[test]
fn a_failed_probe_opens_it_again_and_a_cancelled_one_lets_the_next_probe() {
    let mut e = engine(breaker_config(), 7);
    let mut d = Drive::new();
    open_the_breaker(&mut e, &mut d);
    d.now += 5_000.0;
    let mut fail = std::iter::once(Outcome::Fail(reset()));
    assert!(matches!(
        d.run(&mut e, get("/api/test"), &mut fail, 1.0),
        Command::Reject(..)
    ));
    let view = e.breaker(Route::Cloud, d.now).unwrap();
    assert_eq!((view.state, view.opened), (BreakerState::Open, 2));

    d.now += 5_000.0;
    let (probe, commands) = e.start(get("/api/test"), d.now).unwrap();
    assert!(matches!(one(commands), Command::Send(_)));
    let cancelled = e.cancel(probe, d.now);
    assert!(cancelled.iter().any(|c| matches!(c, Command::Abort { .. })));
    let (_, commands) = e.start(get("/api/test"), d.now).unwrap();
    assert!(
        matches!(one(commands), Command::Send(_)),
        "the next request is the probe"
    );
}

#[test]
fn client_errors_do_not_open_it() {
    let mut e = engine(breaker_config(), 7);
    let mut d = Drive::new();
    for status in [404, 401, 429, 400, 404, 404, 401, 429, 400, 404, 404, 404] {
        let mut answer = std::iter::once(Outcome::Status(status));
        d.run(&mut e, get("/api/test"), &mut answer, 1.0);
    }
    let view = e.breaker(Route::Cloud, d.now).unwrap();
    assert_eq!(
        (view.state, view.calls, view.failures),
        (BreakerState::Closed, 12, 0)
    );
}

#[test]
fn the_breaker_opening_mid_request_stops_its_retries() {
    let raw = RawConfig {
        retry: Some(RawRetry::Custom {
            limit: Some(10.0),
            base_ms: Some(1.0),
            cap_ms: Some(1.0),
            deadline_ms: None,
        }),
        breaker: small_breaker(),
        ..cloud_config()
    };
    let mut e = engine(raw, 7);
    let mut d = Drive::new();
    let mut fail = std::iter::repeat_with(|| Outcome::Status(503));
    let Command::Reject(settled, err) = d.run(&mut e, get("/api/test"), &mut fail, 1.0) else {
        panic!()
    };
    assert_eq!(
        settled.attempts, 10,
        "the 10th failure opened it; the 11th attempt was refused"
    );
    assert!(matches!(err, RequestError::CircuitOpen { .. }), "{err:?}");
}

#[test]
fn with_base_url_an_open_cloud_breaker_falls_back_to_http() {
    let raw = RawConfig {
        base_url: Some("https://api.example.com".into()),
        ..breaker_config()
    };
    let mut e = engine(raw, 7);
    let mut d = Drive::new();
    open_the_breaker(&mut e, &mut d);
    let (_, commands) = e.start(get("/api/test?x=1"), d.now).unwrap();
    let Command::Send(send) = one(commands) else {
        panic!()
    };
    assert_eq!(send.route.route, Route::Http);
    assert_eq!(
        send.route.reason,
        "the cloud's circuit is open: falling back to baseUrl"
    );
    assert_eq!(
        send.url.as_deref(),
        Some("https://api.example.com/api/test?x=1")
    );
    let done = e
        .on_response(send.id, Answer::status(200, None), d.now)
        .unwrap();
    let Some(Command::Resolve(settled, _)) = done.first() else {
        panic!("{done:?}")
    };
    assert_eq!(settled.route, Route::Http);
    assert_eq!(
        e.breaker(Route::Cloud, d.now).unwrap().state,
        BreakerState::Open,
        "the cloud's breaker is not probed by HTTP successes"
    );
}

#[test]
fn disabled_there_is_no_breaker() {
    let raw = RawConfig {
        breaker: no_breaker(),
        ..breaker_config()
    };
    let mut e = engine(raw, 7);
    let mut d = Drive::new();
    open_the_breaker(&mut e, &mut d);
    assert!(e.breaker(Route::Cloud, d.now).is_none());
    let (_, commands) = e.start(get("/api/test"), d.now).unwrap();
    assert!(matches!(one(commands), Command::Send(_)));
}
