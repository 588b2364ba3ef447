//! Fleet reports as the engine makes them, natively under a virtual clock and
//! a fixed seed: on schedule and on hide, deltas only, at most one retry, a
//! lost report merged into the next, never in mock mode, never through the
//! offline queue, never counted in the app's own statistics.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::config::RawConfig;
use mp_request::core::engine::{Command, Engine, Send};
use mp_request::core::fleet;
use mp_request::core::report::RawReport;
use mp_request::core::request::Body;
use support::*;

const EVERY_MS: u32 = 10_000;

fn reporting(mut raw: RawConfig) -> RawConfig {
    raw.report = Some(RawReport {
        path: Some("/api/fleet/report".into()),
        every_ms: Some(f64::from(EVERY_MS)),
        sample: None,
    });
    raw
}

/// An engine with reports on, started as the shim starts it.
fn started(raw: RawConfig) -> Engine {
    let mut e = engine(reporting(raw), 7);
    let (device, commands) = e.start_reports(None, "miniprogram", Some("1.2.0"));
    assert!(device.is_some());
    assert_eq!(commands, vec![Command::WaitReport { delay_ms: EVERY_MS }]);
    e
}

/// The report's `Send` among `commands`, and its body as a report.
fn report_sent(commands: &[Command]) -> Option<(Send, fleet::Report)> {
    commands.iter().find_map(|c| match c {
        Command::Send(send) => {
            let Some(Body::Json(text)) = &send.body else {
                panic!("a report's body is JSON: {send:?}")
            };
            Some((send.clone(), fleet::parse(text).expect("a valid report")))
        }
        _ => None,
    })
}

fn requests_of(report: &fleet::Report) -> u64 {
    report.rows.iter().map(|r| r.requests).sum()
}

#[test]
fn a_report_goes_on_schedule_with_what_the_statistics_gained() {
    let mut e = started(cloud_config());
    let mut d = Drive::new();
    d.run(
        &mut e,
        get("/api/order/7"),
        &mut [Outcome::Status(200)].into_iter(),
        40.0,
    );
    d.run(
        &mut e,
        get("/api/order/8"),
        &mut [Outcome::Status(503), Outcome::Status(200)].into_iter(),
        40.0,
    );

    let commands = e.on_report_timer(d.now);
    assert!(matches!(commands[0], Command::Report { .. }));
    assert_eq!(
        commands.last(),
        Some(&Command::WaitReport { delay_ms: EVERY_MS }),
        "the next one is scheduled"
    );
    let (send, report) = report_sent(&commands).expect("a report");
    assert_eq!(
        (send.target.as_str(), send.method.as_str()),
        ("/api/fleet/report", "POST")
    );
    assert_eq!(report.seq, 1);
    assert_eq!(
        (report.platform.as_str(), report.sdk.as_str()),
        ("Android", "3.6.0")
    );
    assert_eq!(
        (report.app.as_str(), report.env.as_str()),
        ("1.2.0", "develop")
    );
    let row = &report.rows[0];
    assert_eq!(
        (row.pattern.as_str(), row.requests, row.retries),
        ("/api/order/:id", 2, 1)
    );
    assert_eq!(row.latency.count(), 2);

    let before = e.stats().rows().1.requests;
    e.on_response(
        send.id,
        mp_request::core::engine::Answer::status(200, None),
        d.now + 5.0,
    )
    .unwrap();
    assert_eq!(e.fetching(), 0);
    // The report is none of the app's statistics.
    let (rows, total) = e.stats().rows();
    assert_eq!(total.requests, before);
    assert!(rows.iter().all(|r| r.pattern != "/api/fleet/report"));
    // Sent: nothing new to say, so nothing goes.
    let quiet = e.on_report_timer(d.now + 10_000.0);
    assert_eq!(quiet, vec![Command::WaitReport { delay_ms: EVERY_MS }]);
    // What comes next is the next report's, alone.
    d.now += 20_000.0;
    d.run(
        &mut e,
        get("/api/home/init"),
        &mut [Outcome::Status(200)].into_iter(),
        40.0,
    );
    let (_, next) = report_sent(&e.on_report_timer(d.now)).expect("a report");
    assert_eq!((next.seq, requests_of(&next)), (2, 1));
}

#[test]
fn a_lost_report_is_retried_once_then_merged_into_the_next() {
    let mut e = started(cloud_config());
    let mut d = Drive::new();
    d.run(
        &mut e,
        get("/api/a"),
        &mut [Outcome::Status(200)].into_iter(),
        10.0,
    );
    let (send, first) = report_sent(&e.on_report_timer(d.now)).unwrap();
    let mut attempts = 1;
    let mut commands = e.on_failure(send.id, reset(), d.now + 5.0).unwrap();
    // One retry at most, whatever the failure.
    loop {
        match commands
            .iter()
            .find(|c| matches!(c, Command::Wait { .. } | Command::Send(_)))
        {
            Some(Command::Wait { id, delay_ms }) => {
                d.now += 5.0 + f64::from(*delay_ms);
                commands = e.on_timer(*id, d.now).unwrap();
            }
            Some(Command::Send(s)) => {
                attempts += 1;
                commands = e.on_failure(s.id, reset(), d.now + 5.0).unwrap();
            }
            _ => break,
        }
    }
    assert_eq!(attempts, 2, "one retry");
    let key = send.header("Idempotency-Key").unwrap();
    assert!(
        key.starts_with(&format!("report-{}-", first.device)) && key.ends_with("-1"),
        "the endpoint can count a retried report once: {key}"
    );
    assert!(commands.contains(&Command::End { id: send.id }));
    assert!(
        commands.iter().all(|c| !matches!(c, Command::SaveQueue)),
        "never queued"
    );
    d.now += 1000.0;
    d.run(
        &mut e,
        get("/api/b"),
        &mut [Outcome::Status(200)].into_iter(),
        10.0,
    );
    let (_, next) = report_sent(&e.on_report_timer(d.now)).unwrap();
    assert_eq!(
        requests_of(&next),
        2,
        "the lost report's request and the new one"
    );
    assert_eq!(next.seq, 2);
}

#[test]
fn one_report_at_a_time_and_one_when_the_app_hides() {
    let mut e = started(cloud_config());
    let mut d = Drive::new();
    d.run(
        &mut e,
        get("/api/a"),
        &mut [Outcome::Status(200)].into_iter(),
        10.0,
    );
    let hidden = e.set_hidden(true, d.now);
    let (send, report) = report_sent(&hidden).expect("a report on hide");
    assert_eq!(requests_of(&report), 1);
    d.run(
        &mut e,
        get("/api/b"),
        &mut [Outcome::Status(200)].into_iter(),
        10.0,
    );
    // While it is in flight, the timer sends nothing more.
    assert!(report_sent(&e.on_report_timer(d.now)).is_none());
    e.on_response(
        send.id,
        mp_request::core::engine::Answer::status(204, None),
        d.now,
    )
    .unwrap();
    let (_, next) = report_sent(&e.on_report_timer(d.now)).unwrap();
    assert_eq!(requests_of(&next), 1, "only /api/b");
}

#[test]
fn no_reports_in_mock_mode_or_outside_the_sample() {
    let mut raw = cloud_config();
    raw.mode = Some("mock".into());
    raw.mock_routes = vec![mp_request::core::config::RawMockRoute {
        path: "/api/a".into(),
        ..Default::default()
    }];
    let mut e = engine(reporting(raw), 7);
    let (_, commands) = e.start_reports(None, "miniprogram", None);
    assert!(commands.is_empty());
    assert!(!e.reports_on());
    assert!(e.on_report_timer(1e6).is_empty());
    assert!(report_sent(&e.set_hidden(true, 1e6)).is_none());

    let mut raw = reporting(cloud_config());
    raw.report.as_mut().unwrap().sample = Some(0.0);
    let mut e = engine(raw, 7);
    let (device, commands) = e.start_reports(None, "miniprogram", None);
    assert!(device.is_some() && commands.is_empty() && !e.reports_on());
}

#[test]
fn offline_a_report_is_kept_for_later_not_queued() {
    let mut e = started(cloud_config());
    let mut d = Drive::new();
    d.run(
        &mut e,
        get("/api/a"),
        &mut [Outcome::Status(200)].into_iter(),
        10.0,
    );
    e.set_online(false, d.now);
    let commands = e.on_report_timer(d.now);
    assert!(report_sent(&commands).is_none(), "{commands:?}");
    assert!(commands.iter().all(|c| !matches!(c, Command::SaveQueue)));
    assert_eq!(e.fetching(), 0);
    e.set_online(true, d.now + 1.0);
    let (_, report) = report_sent(&e.on_report_timer(d.now + 2.0)).unwrap();
    assert_eq!(requests_of(&report), 1);
}

#[test]
fn the_device_id_is_kept_and_a_seed_fixes_a_new_one() {
    let mut a = engine(reporting(cloud_config()), 3);
    let mut b = engine(reporting(cloud_config()), 3);
    let (id_a, _) = a.start_reports(None, "miniprogram", None);
    let (id_b, _) = b.start_reports(None, "miniprogram", None);
    assert_eq!(id_a, id_b);
    let mut c = engine(reporting(cloud_config()), 4);
    let (id_c, _) = c.start_reports(id_a.as_deref(), "miniprogram", None);
    assert_eq!(id_c, id_a, "a stored id is the device's");
}

#[test]
fn failures_name_their_pattern_for_wechats_realtime_log_never_the_path() {
    let mut e = engine(cloud_config(), 1);
    let mut d = Drive::new();
    let failed = d.run(
        &mut e,
        get("/api/order/42?token=abc"),
        &mut [Outcome::Status(404)].into_iter(),
        10.0,
    );
    let Command::Reject(settled, _) = failed else {
        panic!("{failed:?}")
    };
    assert_eq!(settled.log_pattern.as_deref(), Some("/api/order/:id"));
    // A cancel is the app's doing, not a failure to log.
    let (id, _) = e.start(get("/api/order/43"), d.now).unwrap();
    let cancelled = e.cancel(id, d.now);
    let Some(Command::Reject(settled, _)) = cancelled.first() else {
        panic!("{cancelled:?}")
    };
    assert_eq!(settled.log_pattern, None);
    // Opted out.
    let mut raw = cloud_config();
    raw.realtime_log = Some(false);
    let mut e = engine(raw, 1);
    let failed = Drive::new().run(
        &mut e,
        get("/api/order/42"),
        &mut [Outcome::Status(404)].into_iter(),
        10.0,
    );
    let Command::Reject(settled, _) = failed else {
        panic!("{failed:?}")
    };
    assert_eq!(settled.log_pattern, None);
}

#[test]
fn a_report_waits_behind_the_apps_requests_for_a_slot() {
    let mut raw = cloud_config();
    raw.max_concurrent = Some(1.0);
    let mut e = started(raw);
    let mut d = Drive::new();
    d.run(
        &mut e,
        get("/api/a"),
        &mut [Outcome::Status(200)].into_iter(),
        10.0,
    );
    // The one slot is taken by the app's request; the report queues for it.
    let (app, sent) = e.start(get("/api/b"), d.now).unwrap();
    assert!(matches!(sent[..], [Command::Send(_)]), "{sent:?}");
    let report = e.on_report_timer(d.now);
    assert!(report_sent(&report).is_none(), "no slot: {report:?}");
    let Some(Command::Report { id: report_id }) = report.first().cloned() else {
        panic!("{report:?}")
    };
    // Another app request comes while both wait: at normal priority, it goes before the report.
    let (later, queued) = e.start(get("/api/c"), d.now + 1.0).unwrap();
    assert!(queued.iter().all(|c| !matches!(c, Command::Send(_))));
    let freed = e
        .on_response(
            app,
            mp_request::core::engine::Answer::status(200, None),
            d.now + 5.0,
        )
        .unwrap();
    let next = freed.iter().find_map(|c| match c {
        Command::Send(s) => Some(s.id),
        _ => None,
    });
    assert_eq!(next, Some(later), "the app's request first");
    let freed = e
        .on_response(
            later,
            mp_request::core::engine::Answer::status(200, None),
            d.now + 9.0,
        )
        .unwrap();
    let (send, _) = report_sent(&freed).expect("then the report");
    assert_eq!(send.id, report_id);
}

#[test]
fn stopping_reports_ends_the_one_in_flight_and_the_timer() {
    let mut e = started(cloud_config());
    let mut d = Drive::new();
    d.run(
        &mut e,
        get("/api/a"),
        &mut [Outcome::Status(200)].into_iter(),
        10.0,
    );
    let (send, _) = report_sent(&e.on_report_timer(d.now)).unwrap();
    // Interrupted in the background: parked until the app comes back, which a destroyed client never sees.
    e.set_hidden(true, d.now);
    let parked = e
        .on_failure(
            send.id,
            failure("request:fail interrupted", None),
            d.now + 1.0,
        )
        .unwrap();
    assert!(
        !parked.contains(&Command::End { id: send.id }),
        "{parked:?}"
    );
    assert_eq!(e.fetching(), 1);
    let stopped = e.stop_reports(d.now + 2.0);
    assert!(
        stopped.contains(&Command::End { id: send.id }),
        "{stopped:?}"
    );
    assert_eq!(e.fetching(), 0);
    assert!(
        e.on_report_timer(d.now + 10_000.0).is_empty(),
        "no timer after stop"
    );
    assert!(!e.reports_on());
    assert!(report_sent(&e.set_hidden(true, d.now + 20_000.0)).is_none());
}

#[test]
fn callers_sharing_a_failed_fetch_make_one_realtime_log_line() {
    let mut e = engine(cloud_config(), 1);
    let (first, c) = e.start(get("/api/order/list"), 0.0).unwrap();
    assert!(matches!(c[0], Command::InitCloud { .. }));
    let (_, joined) = e.start(get("/api/order/list"), 1.0).unwrap();
    assert_eq!(
        joined,
        vec![Command::End {
            id: joined_id(&joined)
        }]
    );
    let sent = e.on_init(Ok(()), 2.0);
    assert!(matches!(sent[0], Command::Send(_)));
    let failed = e
        .on_response(
            first,
            mp_request::core::engine::Answer::status(404, None),
            3.0,
        )
        .unwrap();
    let logged: Vec<_> = failed
        .iter()
        .filter_map(|c| match c {
            Command::Reject(s, _) => Some(s.log_pattern.is_some()),
            _ => None,
        })
        .collect();
    assert_eq!(logged, vec![true, false], "two callers, one line");
}

fn joined_id(commands: &[Command]) -> u32 {
    match commands {
        [Command::End { id }] => *id,
        other => panic!("{other:?}"),
    }
}
