//! The request pipeline natively, under a virtual clock and a fixed seed:
//! routing, shared init with retry, retry policy, offline, cancellation.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::config::{RawConfig, RawRetry};
use mp_request::core::engine::{Answer, Command, CLOUD_MAX_TIMEOUT_MS};
use mp_request::core::error::ErrorKind;
use mp_request::core::route::Route;
use support::*;

fn statuses(list: &[u16]) -> impl Iterator<Item = Outcome> + '_ {
    list.iter().map(|s| Outcome::Status(*s))
}

#[test]
fn two_503s_then_success_resolves_after_three_attempts_with_the_seeded_delays() {
    let mut e = engine(cloud_config(), 42);
    let mut d = Drive::new();
    let done = d.run(
        &mut e,
        get("/api/test"),
        &mut statuses(&[503, 503, 200]),
        10.0,
    );
    let Command::Resolve(settled, _) = done else {
        panic!("{done:?}")
    };
    assert_eq!((settled.attempts, settled.route), (3, Route::Cloud));
    // The same seed gives the same schedule; the windows are 300 then 600 ms.
    let mut again = engine(cloud_config(), 42);
    let mut d2 = Drive::new();
    d2.run(
        &mut again,
        get("/api/test"),
        &mut statuses(&[503, 503, 200]),
        10.0,
    );
    assert_eq!(d.log, d2.log);
    let waits: Vec<u32> = d
        .log
        .iter()
        .filter_map(|l| l.strip_prefix("wait ")?.parse().ok())
        .collect();
    assert_eq!(waits.len(), 2);
    assert!(waits[0] <= 300 && waits[1] <= 600, "{waits:?}");
    assert_eq!(d.log[0], "init#1");
}

#[test]
fn four_timeouts_give_up_as_timeout_after_four_attempts() {
    let mut e = engine(cloud_config(), 1);
    let mut d = Drive::new();
    let mut outcomes = std::iter::repeat_with(|| Outcome::Fail(timeout()));
    let Command::Reject(settled, err) = d.run(&mut e, get("/api/test"), &mut outcomes, 500.0)
    else {
        panic!()
    };
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(settled.attempts, 4);
    assert_eq!(settled.note, "gave up after 4 attempts");
}

#[test]
fn a_post_whose_response_is_lost_is_not_retried_and_says_why() {
    let mut e = engine(cloud_config(), 1);
    let mut d = Drive::new();
    let mut outcomes = std::iter::once(Outcome::Fail(reset()));
    let Command::Reject(settled, err) =
        d.run(&mut e, post("/api/order/create"), &mut outcomes, 5.0)
    else {
        panic!()
    };
    assert_eq!((err.kind(), settled.attempts), (ErrorKind::Network, 1));
    assert!(
        settled
            .note
            .contains("POST is not idempotent and may have reached the server"),
        "{}",
        settled.note
    );
    // Marked idempotent, the same failure is retried.
    let mut e = engine(cloud_config(), 1);
    let mut marked = post("/api/order/create");
    marked.idempotent = Some(true);
    let mut outcomes = [Outcome::Fail(reset()), Outcome::Status(200)].into_iter();
    let Command::Resolve(s, _) = Drive::new().run(&mut e, marked, &mut outcomes, 5.0) else {
        panic!()
    };
    assert_eq!(s.attempts, 2);
}

#[test]
fn retry_after_is_honoured_bounded_by_the_cap() {
    let mut e = engine(cloud_config(), 9);
    let mut d = Drive::new();
    let mut outcomes = [Outcome::StatusRetryAfter(429, "2"), Outcome::Status(200)].into_iter();
    d.run(&mut e, get("/x"), &mut outcomes, 1.0);
    assert!(d.log.contains(&"wait 2000".to_string()), "{:?}", d.log);
    let mut e = engine(cloud_config(), 9);
    let mut d = Drive::new();
    let mut outcomes = [Outcome::StatusRetryAfter(503, "3600"), Outcome::Status(200)].into_iter();
    d.run(&mut e, get("/x"), &mut outcomes, 1.0);
    assert!(d.log.contains(&"wait 5000".to_string()), "{:?}", d.log);
}

#[test]
fn retry_can_be_disabled_or_tuned_per_request() {
    let mut e = engine(cloud_config(), 3);
    let mut once = get("/x");
    once.retry = Some(RawRetry::Disabled);
    let Command::Reject(s, _) = Drive::new().run(&mut e, once, &mut statuses(&[503]), 1.0) else {
        panic!()
    };
    assert_eq!(s.attempts, 1);
    let mut two = get("/x");
    two.retry = Some(RawRetry::Custom {
        limit: Some(1.0),
        base_ms: Some(10.0),
        cap_ms: Some(10.0),
        deadline_ms: None,
    });
    let mut d = Drive::new();
    let Command::Reject(s, _) = d.run(&mut e, two, &mut statuses(&[503, 503]), 1.0) else {
        panic!()
    };
    assert_eq!(s.attempts, 2);
}

#[test]
fn the_deadline_bounds_attempts_and_their_timeouts() {
    let mut raw = cloud_config();
    raw.retry = Some(RawRetry::Custom {
        limit: Some(10.0),
        base_ms: Some(100.0),
        cap_ms: Some(100.0),
        deadline_ms: Some(25_000.0),
    });
    let mut e = engine(raw, 5);
    let mut d = Drive::new();
    let mut outcomes = std::iter::repeat_with(|| Outcome::Fail(timeout()));
    let Command::Reject(s, err) = d.run(&mut e, get("/x"), &mut outcomes, f64::INFINITY) else {
        panic!()
    };
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(d.now <= 25_000.0, "finished at {}", d.now);
    assert_eq!(s.attempts, 3, "{:?}", d.log);
    assert!(s.note.contains("deadline"), "{}", s.note);
}

#[test]
fn concurrent_cloud_requests_share_one_init() {
    let mut e = engine(cloud_config(), 1);
    let first = e.start(get("/a"), 0.0).unwrap().1;
    assert_eq!(first, init_with_deadline(1));
    assert_eq!(
        e.start(get("/b"), 0.0).unwrap().1,
        [deadline(2)],
        "waits for the same init, within its deadline"
    );
    assert_eq!(e.start(get("/c"), 0.0).unwrap().1, [deadline(3)]);
    let sends = e.on_init(Ok(()), 5.0);
    assert_eq!(sends.len(), 3);
    assert!(sends.iter().all(|c| matches!(c, Command::Send(_))));
    assert!(
        matches!(one(e.start(get("/d"), 6.0).unwrap().1), Command::Send(_)),
        "ready now"
    );
}

#[test]
fn init_fails_twice_then_succeeds_and_the_request_goes_through() {
    let mut e = engine(cloud_config(), 1);
    assert_eq!(e.start(get("/x"), 0.0).unwrap().1, init_with_deadline(1));
    let mut now = 0.0;
    for attempt in 2..=3 {
        assert_eq!(
            e.on_init(
                Err(failure(
                    "cloud.init:fail Cloud API isn't enabled",
                    Some(-601034)
                )),
                now
            ),
            vec![Command::WaitInit { delay_ms: 300 }]
        );
        now += 300.0;
        assert_eq!(e.on_init_timer(), vec![Command::InitCloud { attempt }]);
    }
    let send = one(e.on_init(Ok(()), now));
    let Command::Resolve(s, _) = one(e
        .on_response(id_of(&send), Answer::status(200, None), now + 1.0)
        .unwrap())
    else {
        panic!()
    };
    assert_eq!(s.attempts, 1);
}

#[test]
fn init_failing_four_times_fails_with_kind_init_and_the_next_request_tries_again() {
    let mut e = engine(cloud_config(), 1);
    e.start(get("/x"), 0.0).unwrap();
    e.start(post("/y"), 0.0).unwrap();
    let fail = || failure("cloud.init:fail Cloud API isn't enabled", Some(-601034));
    for _ in 0..3 {
        e.on_init(Err(fail()), 0.0);
        e.on_init_timer();
    }
    let commands = e.on_init(Err(fail()), 1200.0);
    let rejected: Vec<_> = commands
        .iter()
        .filter(|c| matches!(c, Command::Reject(..)))
        .collect();
    assert_eq!(rejected.len(), 2);
    assert_eq!(
        commands
            .iter()
            .filter(|c| matches!(c, Command::End { .. }))
            .count(),
        2
    );
    for command in rejected {
        let Command::Reject(s, err) = command else {
            panic!()
        };
        assert_eq!((err.kind(), err.code()), (ErrorKind::Init, Some(-601034)));
        assert_eq!(s.attempts, 0, "nothing was sent");
        assert!(
            err.to_string().contains("next request tries again"),
            "{err}"
        );
    }
    assert_eq!(e.in_flight(), 0);
    assert_eq!(e.start(get("/z"), 2000.0).unwrap().1, init_with_deadline(3));
}

#[test]
fn cloud_api_not_enabled_on_a_call_reinitialises_and_retries_even_a_post() {
    let mut e = engine(cloud_config(), 1);
    e.start(get("/warm"), 0.0).unwrap();
    let warm = one(e.on_init(Ok(()), 0.0));
    e.on_response(id_of(&warm), Answer::status(200, None), 1.0)
        .unwrap();
    let send = one(e.start(post("/api/order/create"), 2.0).unwrap().1);
    let not_enabled = failure(
        "cloud.callContainer:fail Cloud API isn't enabled",
        Some(-601034),
    );
    let wait = one(e.on_failure(id_of(&send), not_enabled, 3.0).unwrap());
    let Command::Wait { id, delay_ms } = wait else {
        panic!("{wait:?}")
    };
    assert_eq!(
        one(e.on_timer(id, 3.0 + f64::from(delay_ms)).unwrap()),
        Command::InitCloud { attempt: 1 }
    );
    let resend = one(e.on_init(Ok(()), 10.0));
    assert!(matches!(resend, Command::Send(ref s) if s.attempt == 2));
}

#[test]
fn offline_fails_fast_and_recovers() {
    let mut e = engine(cloud_config(), 1);
    assert!(e.set_online(false, 0.0).is_empty());
    let Command::Reject(s, err) = one(e.start(get("/x"), 0.0).unwrap().1) else {
        panic!()
    };
    assert_eq!((err.kind(), s.attempts), (ErrorKind::Offline, 0));
    assert_eq!(
        err.user_message(mp_request::core::locale::Locale::ZhCn),
        "网络不可用，请检查网络设置"
    );
    assert!(e.set_online(true, 1.0).is_empty(), "nothing queued");
    assert_eq!(
        one(e.start(get("/x"), 1.0).unwrap().1),
        Command::InitCloud { attempt: 1 }
    );
}

#[test]
fn going_offline_stops_retries() {
    let mut e = engine(cloud_config(), 1);
    e.start(get("/x"), 0.0).unwrap();
    let send = one(e.on_init(Ok(()), 0.0));
    e.set_online(false, 5.0);
    let Command::Reject(s, err) = one(e.on_failure(id_of(&send), timeout(), 10.0).unwrap()) else {
        panic!()
    };
    assert_eq!((err.kind(), s.attempts), (ErrorKind::Offline, 1));
    assert!(s.note.contains("went offline"));
}

#[test]
fn cancel_settles_at_once_and_late_events_are_ignored() {
    let mut e = engine(cloud_config(), 1);
    e.start(get("/warm"), 0.0).unwrap();
    let warm = one(e.on_init(Ok(()), 0.0));
    e.on_response(id_of(&warm), Answer::status(200, None), 1.0)
        .unwrap();
    let send = one(e.start(get("/x"), 0.0).unwrap().1);
    let wait = one(e
        .on_response(id_of(&send), Answer::status(503, None), 1.0)
        .unwrap());
    let Command::Reject(s, err) = one(e.cancel(id_of(&wait), 2.0)) else {
        panic!()
    };
    assert_eq!(
        (err.kind(), err.is_retryable(), s.attempts),
        (ErrorKind::Cancelled, false, 1)
    );
    assert_eq!(
        e.on_timer(id_of(&wait), 500.0),
        Ok(vec![]),
        "the timer of a cancelled request"
    );
    assert!(
        e.cancel(id_of(&wait), 3.0).is_empty(),
        "cancel twice is a no-op"
    );
    // Cancelling a request that waits for init removes it from the queue.
    let mut e = engine(cloud_config(), 1);
    e.start(get("/a"), 0.0).unwrap();
    e.start(get("/b"), 0.0).unwrap();
    e.cancel(1, 0.0);
    let sends = e.on_init(Ok(()), 1.0);
    assert_eq!(sends.len(), 1);
    assert_eq!(id_of(&sends[0]), 2);
}

#[test]
fn an_already_aborted_request_is_cancelled_before_anything_happens() {
    let mut e = engine(cloud_config(), 1);
    let mut aborted = get("/x");
    aborted.aborted = true;
    let (_, commands) = e.start(aborted, 0.0).unwrap();
    let Command::Reject(s, err) = one(commands) else {
        panic!()
    };
    assert_eq!((err.kind(), s.attempts), (ErrorKind::Cancelled, 0));
    assert_eq!(
        e.start(get("/y"), 0.0).unwrap().1,
        init_with_deadline(2),
        "init untouched"
    );
}

#[test]
fn events_out_of_order_are_ignored_not_panics() {
    let mut e = engine(cloud_config(), 1);
    let init = e.start(get("/x"), 0.0).unwrap().1;
    assert_eq!(init, init_with_deadline(1));
    assert_eq!(
        e.on_response(1, Answer::status(200, None), 0.0),
        Ok(vec![]),
        "still waiting for init: a stray answer changes nothing"
    );
    assert_eq!(
        e.on_timer(1, 0.0),
        Ok(vec![deadline(1)]),
        "a timer before the deadline arms what is left of it"
    );
    assert!(e.on_init_timer().is_empty(), "no init retry pending");
    assert_eq!(
        e.on_response(99, Answer::status(200, None), 0.0),
        Ok(vec![])
    );
    assert_eq!(e.in_flight(), 1, "the request still waits for init");
    assert!(matches!(one(e.on_init(Ok(()), 1.0)), Command::Send(_)));
}

#[test]
fn http_and_mock_routes_need_no_init_and_carry_what_the_shim_needs() {
    let raw = RawConfig {
        base_url: Some("http://127.0.0.1:8080/".into()),
        ..RawConfig::default()
    };
    let mut e = engine(raw, 1);
    let Command::Send(s) = one(e.start(get("/api/test?a=1"), 0.0).unwrap().1) else {
        panic!()
    };
    assert_eq!(s.route.route, Route::Http);
    assert_eq!(s.url.as_deref(), Some("http://127.0.0.1:8080/api/test?a=1"));
    let mut cloud = engine(cloud_config(), 1);
    let mut slow = get("/x");
    slow.timeout_ms = Some(40_000.0);
    cloud.start(slow, 0.0).unwrap();
    let Command::Send(s) = one(cloud.on_init(Ok(()), 0.0)) else {
        panic!()
    };
    assert_eq!(
        (s.timeout_ms, s.clamped_from),
        (CLOUD_MAX_TIMEOUT_MS, Some(40_000))
    );
}

/// The first cloud request: the init, and request `id`'s deadline while it runs.
fn init_with_deadline(id: u32) -> Vec<Command> {
    vec![Command::InitCloud { attempt: 1 }, deadline(id)]
}

/// Request `id`'s timer for its whole deadline (30 s by default).
fn deadline(id: u32) -> Command {
    Command::Wait {
        id,
        delay_ms: 30_000,
    }
}

#[test]
fn a_cloud_init_that_never_finishes_fails_its_requests_at_their_deadline() {
    let mut e = engine(cloud_config(), 1);
    e.start(get("/x"), 0.0).unwrap();
    let Command::Reject(s, err) = one(e.on_timer(1, 30_000.0).unwrap()) else {
        panic!()
    };
    assert_eq!((err.kind(), s.attempts), (ErrorKind::Timeout, 0));
    assert!(
        err.to_string().contains("wx.cloud init did not finish"),
        "{err}"
    );
    assert_eq!(e.in_flight(), 0);
    // The init may still answer: nothing is left to send.
    assert!(e.on_init(Ok(()), 31_000.0).is_empty());
}
