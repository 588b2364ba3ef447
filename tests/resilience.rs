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

fn keyed_post(key: Option<&str>, auto: bool) -> mp_request::core::request::RawRequest {
    mp_request::core::request::RawRequest {
        idempotency_key: key.map(str::to_owned),
        idempotent_auto: auto,
        ..post("/api/order/create")
    }
}

/// The keys of every attempt a request made, and how it ended.
fn attempt_keys(
    e: &mut mp_request::core::engine::Engine,
    request: mp_request::core::request::RawRequest,
    lost: usize,
    now: f64,
) -> (Vec<Option<String>>, Command) {
    let (_, mut commands) = e.start(request, now).unwrap();
    let mut keys = Vec::new();
    loop {
        commands = match one(commands) {
            Command::InitCloud { .. } => e.on_init(Ok(()), now),
            Command::Send(send) => {
                keys.push(send.header("Idempotency-Key").map(str::to_owned));
                if keys.len() <= lost {
                    e.on_failure(send.id, reset(), now).unwrap()
                } else {
                    e.on_response(send.id, Answer::status(200, None), now)
                        .unwrap()
                }
            }
            Command::Wait { id, .. } => e.on_timer(id, now).unwrap(),
            done => return (keys, done),
        };
    }
}

#[test]
fn an_idempotency_key_goes_with_every_attempt_and_makes_a_post_retryable() {
    let mut e = engine(cloud_config(), 7);
    let (keys, done) = attempt_keys(&mut e, keyed_post(Some("order-42"), false), 2, 0.0);
    assert!(matches!(done, Command::Resolve(..)), "{done:?}");
    assert_eq!(
        keys,
        vec![Some("order-42".to_owned()); 3],
        "one key, reused"
    );

    let (keys, done) = attempt_keys(&mut e, keyed_post(None, false), 1, 0.0);
    assert_eq!(
        keys,
        vec![None],
        "without a key a POST whose answer is lost is not repeated"
    );
    assert!(matches!(done, Command::Reject(..)));
}

#[test]
fn auto_makes_one_key_per_operation_reused_across_its_retries() {
    let mut e = engine(cloud_config(), 7);
    let (first, _) = attempt_keys(&mut e, keyed_post(None, true), 3, 1000.0);
    let (second, _) = attempt_keys(&mut e, keyed_post(None, true), 0, 1000.0);
    assert_eq!(first.len(), 4);
    let key = first[0].clone().unwrap();
    assert_eq!(key.len(), 32);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    assert!(first.iter().all(|k| k.as_deref() == Some(key.as_str())));
    assert_ne!(
        second[0].as_deref(),
        Some(key.as_str()),
        "a new operation, a new key"
    );
    // The same seed and clock make the same keys; another time of the first key, others.
    let mut again = engine(cloud_config(), 7);
    assert_eq!(
        attempt_keys(&mut again, keyed_post(None, true), 0, 1000.0).0[0],
        first[0]
    );
    let mut later = engine(cloud_config(), 7);
    assert_ne!(
        attempt_keys(&mut later, keyed_post(None, true), 0, 1001.0).0[0],
        first[0]
    );
    // The keys have their own generator: the retry jitter is the same with or without them.
    let waits = |auto: bool| {
        let mut e = engine(cloud_config(), 7);
        let mut d = Drive::new();
        let mut lost = [
            Outcome::Fail(reset()),
            Outcome::Fail(reset()),
            Outcome::Status(200),
        ]
        .into_iter();
        let request = mp_request::core::request::RawRequest {
            idempotent: Some(true),
            ..keyed_post(None, auto)
        };
        d.run(&mut e, request, &mut lost, 1.0);
        d.log
    };
    assert_eq!(waits(true), waits(false));
}

#[test]
fn bad_idempotency_keys_are_invalid_and_name_the_option() {
    let mut e = engine(cloud_config(), 7);
    for key in ["", "has space", "中文", &"k".repeat(256)] {
        let err = e.start(keyed_post(Some(key), false), 0.0).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`idempotencyKey` must be 1 to 255 visible ASCII"),
            "{err}"
        );
    }
    let contradiction = mp_request::core::request::RawRequest {
        idempotent: Some(false),
        ..keyed_post(Some("k"), false)
    };
    let err = e.start(contradiction, 0.0).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("`idempotent` cannot be false with an idempotencyKey"),
        "{err}"
    );
    assert!(
        e.start(keyed_post(Some("k-1"), false), 0.0).is_ok(),
        "still serves"
    );
}

fn interrupted() -> mp_request::core::classify::Failure {
    mp_request::core::classify::Failure {
        err_msg: "request:fail interrupted".into(),
        err_code: None,
        errno: Some(600_003),
        fault: false,
    }
}

fn http_engine(retry: Option<RawRetry>) -> mp_request::core::engine::Engine {
    engine(
        RawConfig {
            base_url: Some("https://api.example.com".into()),
            retry,
            breaker: small_breaker(),
            ..RawConfig::default()
        },
        7,
    )
}

#[test]
fn interrupted_in_the_background_it_waits_for_the_app_and_goes_again_with_a_new_deadline() {
    let mut e = http_engine(Some(RawRetry::Disabled));
    let (id, commands) = e.start(get("/api/page"), 0.0).unwrap();
    assert!(matches!(one(commands), Command::Send(_)));
    assert!(e.set_hidden(true, 10.0).is_empty());
    let parked = e.on_failure(id, interrupted(), 20.0).unwrap();
    assert!(
        parked.is_empty(),
        "nothing to do until the app is back: {parked:?}"
    );
    assert_eq!(e.in_flight(), 1);
    // Back after a minute, long past the 30 s deadline: sent again with its full timeout.
    let again = e.set_hidden(false, 60_000.0);
    let Command::Send(send) = one(again) else {
        panic!()
    };
    assert_eq!((send.id, send.attempt, send.timeout_ms), (id, 2, 10_000));
    let done = e
        .on_response(id, Answer::status(200, None), 60_100.0)
        .unwrap();
    let Some(Command::Resolve(settled, _)) = done.first() else {
        panic!("{done:?}")
    };
    assert_eq!(settled.attempts, 2);
}

#[test]
fn interruptions_do_not_count_against_the_service_and_in_the_foreground_retry_as_usual() {
    let mut e = http_engine(fast_retries());
    let mut d = Drive::new();
    for _ in 0..12 {
        let mut outcomes = [Outcome::Fail(interrupted()), Outcome::Status(200)].into_iter();
        let done = d.run(&mut e, get("/api/page"), &mut outcomes, 1.0);
        let Command::Resolve(settled, _) = done else {
            panic!("{done:?}")
        };
        assert_eq!(settled.attempts, 2, "visible: retried after its backoff");
    }
    let view = e.breaker(Route::Http, d.now).unwrap();
    assert_eq!(
        (view.state, view.calls, view.failures),
        (BreakerState::Closed, 12, 0)
    );
}

#[test]
fn an_interrupted_post_without_a_key_is_not_repeated_even_when_the_app_comes_back() {
    let mut e = http_engine(None);
    assert!(e.set_hidden(true, 0.0).is_empty());
    let (id, _) = e.start(post("/api/order/create"), 0.0).unwrap();
    let Command::Reject(settled, err) = one(e.on_failure(id, interrupted(), 1.0).unwrap()) else {
        panic!()
    };
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(
        settled.note.contains("POST is not idempotent"),
        "{}",
        settled.note
    );
    assert!(e.set_hidden(false, 2.0).is_empty());
}
