//! Hostile review of issue 20 (fleet monitoring): each test showed a defect
//! the review found, and holds since its fix. F1: a report's retry took from
//! the app's retry budget; F2: a report held the half-open breaker's probe;
//! F3: report keys repeated across launches; F4: a non-finite clock evicted
//! fleet windows; F5: merged sums overflowed; F6: duplicate JSON keys were read
//! unlike JSON.parse; F7: personal data in patterns left the device.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::config::RawConfig;
use mp_request::core::engine::{Answer, Command, Engine, Send};
use mp_request::core::fleet;
use mp_request::core::report::RawReport;
use mp_request::core::request::Body;
use mp_request::core::resilience::breaker::RawBreaker;
use mp_request::core::route::Route;
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

fn started_with(raw: RawConfig, seed: u32, stored: Option<&str>) -> (Engine, String) {
    let mut e = engine(reporting(raw), seed);
    let (device, commands) = e.start_reports(stored, "miniprogram", Some("1.2.0"));
    assert_eq!(commands, vec![Command::WaitReport { delay_ms: EVERY_MS }]);
    (e, device.unwrap())
}

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

// ---------------------------------------------------------------------------
// F1: a report's retry spends the app's retry budget and never gives it back.
// ---------------------------------------------------------------------------
#[test]
fn f1_a_reports_retry_does_not_drain_the_apps_retry_budget() {
    let (mut e, _) = started_with(cloud_config(), 7, None);
    let mut d = Drive::new();
    d.run(
        &mut e,
        get("/api/a"),
        &mut [Outcome::Status(200)].into_iter(),
        10.0,
    );
    let full = e.budget(Route::Cloud).expect("a budget").0;
    // The report: 503 once, then 200 on its one retry.
    let (send, _) = report_sent(&e.on_report_timer(d.now)).expect("a report");
    let mut commands = e
        .on_response(send.id, Answer::status(503, None), d.now + 5.0)
        .unwrap();
    let mut now = d.now + 5.0;
    loop {
        match commands
            .iter()
            .find(|c| matches!(c, Command::Wait { .. } | Command::Send(_)))
            .cloned()
        {
            Some(Command::Wait { id, delay_ms }) => {
                now += f64::from(delay_ms);
                commands = e.on_timer(id, now).unwrap();
            }
            Some(Command::Send(s)) => {
                now += 5.0;
                commands = e.on_response(s.id, Answer::status(200, None), now).unwrap();
            }
            _ => break,
        }
    }
    assert_eq!(e.fetching(), 0, "the report is done");
    // An app request that retried once and then succeeded gets its tokens back;
    // the report "changes nothing of the app's: no budget" (engine/mod.rs) yet:
    assert_eq!(
        e.budget(Route::Cloud).unwrap().0,
        full,
        "the report's retry took tokens from the app's retry budget and kept them"
    );
}

// ---------------------------------------------------------------------------
// F2: a report takes the half-open breaker's one probe; the app is refused.
// ---------------------------------------------------------------------------
#[test]
fn f2_a_report_does_not_take_the_breakers_probe_from_the_app() {
    let mut raw = cloud_config();
    raw.breaker = RawBreaker {
        min_calls: Some(2.0),
        open_ms: Some(1000.0),
        ..RawBreaker::default()
    };
    let (mut e, _) = started_with(raw, 7, None);
    let mut d = Drive::new();
    // Failures open the breaker.
    for _ in 0..3 {
        d.run(
            &mut e,
            get("/api/a"),
            &mut std::iter::repeat_with(|| Outcome::Status(503)),
            10.0,
        );
    }
    let now = d.now + 5_000.0; // past open_ms: the next attempt is the probe
                               // Fixed: the report passes only a closed breaker; it waits (put back) instead.
    assert!(
        report_sent(&e.on_report_timer(now)).is_none(),
        "no report through a breaker that is not closed"
    );
    // The app's request is the probe.
    let (app, commands) = e.start(get("/api/b"), now + 1.0).unwrap();
    let refused = commands.iter().any(|c| matches!(c, Command::Reject(..)));
    assert!(
        !refused && commands.iter().any(|c| matches!(c, Command::Send(_))),
        "the app's request was refused because the fleet report holds the breaker's probe: {commands:?}"
    );
    // Its success closes the breaker; the next report carries everything, the held-back one included.
    e.on_response(
        app,
        mp_request::core::engine::Answer::status(200, None),
        now + 10.0,
    )
    .unwrap();
    let (_, report) = report_sent(&e.on_report_timer(now + 20.0)).expect("a report goes");
    assert_eq!(report.rows.iter().map(|r| r.requests).sum::<u64>(), 4);
}

// ---------------------------------------------------------------------------
// F3: the Idempotency-Key `report-<device>-<seq>` repeats across launches (and
// across two clients of one app): seq restarts at 1, the device id is kept.
// ---------------------------------------------------------------------------
#[test]
fn f3_two_different_reports_never_share_an_idempotency_key() {
    let mut keys = Vec::new();
    let mut stored: Option<String> = None;
    for (launch, path) in [(1u32, "/api/a"), (2, "/api/b")] {
        // Another launch: a new seed, the device id from storage.
        let (mut e, device) = started_with(cloud_config(), launch, stored.as_deref());
        stored = Some(device);
        let mut d = Drive::new();
        d.run(
            &mut e,
            get(path),
            &mut [Outcome::Status(200)].into_iter(),
            10.0,
        );
        let (send, report) = report_sent(&e.on_report_timer(d.now)).expect("a report");
        keys.push((
            send.header("Idempotency-Key").map(str::to_owned),
            report.rows[0].pattern.clone(),
        ));
    }
    assert_ne!(keys[0].1, keys[1].1, "two different reports");
    assert_ne!(
        keys[0].0, keys[1].0,
        "an endpoint that counts a key once drops (or 422s) the second launch's report"
    );
}

// ---------------------------------------------------------------------------
// F4: Fleet::add with a non-finite clock (JS `fleet.add(text)` passes NaN)
// leaves ghost windows that evict the real ones.
// ---------------------------------------------------------------------------
const REPORT: &str = r#"{"v":1,"seq":1,"device":"0123456789abcdef","ctx":{"platform":"iOS","sdk":"3.4.1","app":"","env":"release","build":"miniprogram","lib":"0.1.0"},"rows":[{"route":"cloud","pattern":"/a","requests":5,"retries":0,"cacheHits":0,"errors":{},"latency":{"sumMs":50,"maxMs":10,"buckets":[[27,5]]}}]}"#;

fn total_requests(summary: &str) -> u64 {
    let total = summary.split("\"total\":").nth(1).unwrap();
    let n = total.split("\"requests\":").nth(1).unwrap();
    n.split(',').next().unwrap().parse().unwrap()
}

#[test]
fn f4_a_non_finite_clock_never_evicts_real_windows() {
    let report = fleet::parse(REPORT).unwrap();
    let mut f = fleet::Fleet::new(60_000, 2);
    f.add(&report, 1_764_720_000_000.0);
    f.add(&report, 1_764_720_060_000.0);
    // Two reports whose clock is NaN (`fleet.add(text)` from JS: nowMs undefined).
    f.add(&report, f64::NAN);
    f.add(&report, f64::NAN);
    let summary = fleet::summary(f.windows(), f.window_ms());
    assert!(
        total_requests(&summary) >= 10,
        "both real windows were evicted by NaN ones: {summary}"
    );
    assert!(
        f.windows().iter().all(|w| w.start_ms.is_finite()),
        "ghost windows: {summary}"
    );
}

// ---------------------------------------------------------------------------
// F5: counts the parser accepted overflowed u64 when merged (a panic natively;
// in the release wasm the sums wrapped silently). Fixed: a count is at most
// 2^32 - 1, sums of the largest stay exact, and merges saturate, never wrap.
// ---------------------------------------------------------------------------
fn rows_of(requests: u64) -> String {
    let rows: Vec<String> = (0..40)
        .map(|i| format!(r#"{{"route":"cloud","pattern":"/p{i}","requests":{requests},"retries":0,"cacheHits":0,"errors":{{}},"latency":{{"sumMs":0,"maxMs":0,"buckets":[]}}}}"#))
        .collect();
    format!(
        r#"{{"v":1,"seq":1,"device":"0123456789abcdef","ctx":{{"platform":"iOS","sdk":"3.4.1","app":"","env":"release","build":"miniprogram","lib":"0.1.0"}},"rows":[{}]}}"#,
        rows.join(",")
    )
}

#[test]
fn f5_merging_accepted_reports_never_overflows() {
    // 40 rows of 2^53 - 1 requests each, under 8 KB: refused now.
    let text = rows_of(9_007_199_254_740_991);
    assert!(text.len() <= 8192, "{}", text.len());
    assert!(fleet::parse(&text).unwrap_err().contains("requests"));
    // The largest count accepted, merged 60 times: exact.
    let report = fleet::parse(&rows_of(4_294_967_295)).expect("the backend accepts it");
    let mut f = fleet::Fleet::new(60_000, 1);
    for _ in 0..60 {
        f.add(&report, 0.0);
    }
    let summary = fleet::summary(f.windows(), f.window_ms());
    assert_eq!(
        total_requests(&summary),
        40 * 60 * 4_294_967_295,
        "{summary}"
    );
    // And whatever is merged, sums saturate rather than wrap (or panic).
    let mut row =
        mp_request::core::stats::Row::new(mp_request::core::route::Route::Cloud, "/a".into());
    row.requests = u64::MAX - 1;
    let other = row.clone();
    row.merge(&other);
    assert_eq!(row.requests, u64::MAX);
}

// ---------------------------------------------------------------------------
// F6: duplicate keys are accepted and read as the FIRST occurrence, where
// JSON.parse (the dashboard, any JS consumer of the accepted text) reads the last.
// ---------------------------------------------------------------------------
#[test]
fn f6_a_report_with_duplicate_keys_is_refused() {
    let text = REPORT.replacen(r#""requests":5,"#, r#""requests":5,"requests":999999,"#, 1);
    assert!(
        fleet::parse(&text).is_err(),
        "accepted with requests = {:?}; JSON.parse reads 999999",
        fleet::parse(&text).map(|r| r.rows[0].requests)
    );
}

// ---------------------------------------------------------------------------
// F7: the realtime log (and the report) carry personal data from the path:
// segments that are not "id-like" (an e-mail, a phone number with '+', a name).
// ---------------------------------------------------------------------------
#[test]
fn f7_the_realtime_log_pattern_carries_no_personal_data_from_the_path() {
    let mut e = engine(cloud_config(), 1);
    let mut d = Drive::new();
    for path in [
        "/api/user/alice@example.com/orders",
        "/api/sms/+8613800138000",
        "/api/user/%E5%BC%A0%E4%B8%89",
    ] {
        let failed = d.run(
            &mut e,
            get(path),
            &mut [Outcome::Status(404)].into_iter(),
            10.0,
        );
        let Command::Reject(settled, _) = failed else {
            panic!("{failed:?}")
        };
        let logged = settled.log_pattern.unwrap();
        assert!(
            !logged.contains("alice")
                && !logged.contains("13800138000")
                && !logged.contains("%E5%BC%A0"),
            "written to WeChat's realtime log and sent in fleet reports: {logged}"
        );
    }
}
