//! Statistics as the engine records them, natively under a virtual clock and
//! a fixed seed: one count per caller, latency from start to settle, retries,
//! errors by kind, cache hits (shared and by handle), requests in flight.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawRule};
use mp_request::core::engine::{Answer, ByHandle, Command};
use mp_request::core::error::ErrorKind;
use mp_request::core::request::RawRequest;
use mp_request::core::route::Route;
use mp_request::core::stats::Row;
use support::*;

fn row<'a>(rows: &'a [&'a Row], pattern: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.pattern == pattern)
        .unwrap_or_else(|| panic!("no row {pattern}"))
}

fn statuses(list: &[u16]) -> impl Iterator<Item = Outcome> + '_ {
    list.iter().map(|s| Outcome::Status(*s))
}

#[test]
fn retries_errors_and_latency_land_in_the_paths_row() {
    let mut e = engine(cloud_config(), 42);
    let mut d = Drive::new();
    d.run(
        &mut e,
        get("/api/order/7"),
        &mut statuses(&[503, 200]),
        20.0,
    );
    d.run(&mut e, get("/api/order/8"), &mut statuses(&[404]), 30.0);
    let mut timeouts = std::iter::repeat_with(|| Outcome::Fail(timeout()));
    d.run(&mut e, get("/api/home/init"), &mut timeouts, 100.0);

    let (rows, total) = e.stats().rows();
    let order = row(&rows, "/api/order/:id");
    assert_eq!(order.route, Route::Cloud);
    assert_eq!((order.requests, order.retries, order.in_flight), (2, 1, 0));
    assert_eq!(order.errors, vec![(ErrorKind::Http, 1)]);
    let home = row(&rows, "/api/home/init");
    assert_eq!((home.requests, home.retries), (1, 3));
    assert_eq!(home.errors, vec![(ErrorKind::Timeout, 1)]);
    assert_eq!(total.requests, 3);
    assert_eq!(total.failed(), 2);
    // The 404 took exactly one 30 ms attempt: its bucket bound is within 1/8.
    assert_eq!(order.latency.count(), 2);
    let fastest = order.latency.quantile_ms(0.5);
    assert!((30.0..=30.0 * 1.125).contains(&fastest), "{fastest}");
}

#[test]
fn shared_callers_each_count_and_in_flight_follows_them() {
    let mut e = engine(cloud_config(), 1);
    let (first, c) = e.start(get("/api/order/list"), 0.0).unwrap();
    assert!(matches!(c[0], Command::InitCloud { .. }));
    let (_, joined) = e.start(get("/api/order/list"), 5.0).unwrap();
    assert!(
        matches!(joined[..], [Command::End { .. }]),
        "joined the fetch"
    );
    assert_eq!(e.stats().rows().0[0].in_flight, 2);
    let send = e.on_init(Ok(()), 10.0);
    assert!(matches!(send[0], Command::Send(_)));
    e.on_response(first, Answer::status(200, None), 50.0)
        .unwrap();
    let (rows, _) = e.stats().rows();
    assert_eq!((rows[0].requests, rows[0].in_flight), (2, 0));
    assert_eq!(rows[0].latency.max_ms(), 50.0);
    assert_eq!(rows[0].cache_hits, 0, "sharing a fetch is not a cache hit");
}

#[test]
fn cache_hits_count_with_no_latency_also_through_handles() {
    let mut raw = cloud_config();
    raw.cache = Some(RawCacheConfig {
        rules: vec![RawRule {
            path: "/api/home/*".into(),
            ttl_ms: Some(60_000.0),
            stale_ms: None,
            tags: vec![],
        }],
        ..RawCacheConfig::default()
    });
    let mut e = engine(raw, 1);
    let mut d = Drive::new();
    d.run(&mut e, get("/api/home/init"), &mut statuses(&[200]), 10.0);
    let (_, handle, hit) = e.start_with_handle(get("/api/home/init"), 20.0).unwrap();
    assert!(matches!(hit[0], Command::Resolve(ref s, _) if s.from_cache));
    let handle = handle.expect("a handle");
    assert!(matches!(e.by_handle(handle, 30.0), ByHandle::Fresh(_)));

    let (rows, total) = e.stats().rows();
    assert_eq!((rows[0].requests, rows[0].cache_hits), (3, 2));
    assert_eq!(
        rows[0].latency.count(),
        1,
        "only the network answer has a latency"
    );
    assert!((total.hit_ratio() - 2.0 / 3.0).abs() < 1e-9);
}

#[test]
fn cancelled_requests_count_as_cancelled_and_leave_nothing_in_flight() {
    let mut e = engine(cloud_config(), 1);
    let (id, _) = e.start(get("/api/test"), 0.0).unwrap();
    e.cancel(id, 40.0);
    let aborted = RawRequest {
        aborted: true,
        ..get("/api/test")
    };
    e.start(aborted, 50.0).unwrap();
    let (rows, _) = e.stats().rows();
    assert_eq!(rows[0].errors, vec![(ErrorKind::Cancelled, 2)]);
    assert_eq!((rows[0].requests, rows[0].in_flight), (2, 0));
}

#[test]
fn invalid_input_is_not_a_request_and_reset_keeps_what_is_in_flight() {
    let mut e = engine(cloud_config(), 1);
    assert!(e.start(get("no-slash"), 0.0).is_err());
    assert!(e.stats().rows().0.is_empty(), "nothing was started");
    let (_, _) = e.start(get("/api/test"), 0.0).unwrap();
    e.reset_stats();
    let (rows, total) = e.stats().rows();
    assert_eq!((rows.len(), total.requests, total.in_flight), (1, 0, 1));
}
