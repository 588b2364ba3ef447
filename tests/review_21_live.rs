//! Review of issue 21 item 2 (invalidations pushed over the managed socket):
//! the defects a hostile review found, each a test (they failed before the
//! fixes), natively under a virtual clock.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawRule};
use mp_request::core::engine::{Answer, Command, Engine, WATCH_COALESCE_MS};
use support::*;

fn rule(path: &str, tag: &str) -> RawRule {
    RawRule {
        path: path.into(),
        ttl_ms: Some(10_000.0),
        stale_ms: Some(60_000.0),
        tags: vec![tag.into()],
    }
}

/// Order lists cached for 10 s (stale for a minute), optionally persisted.
fn orders_with(persist: bool) -> Engine<String> {
    let mut raw = cloud_config();
    raw.cache = Some(RawCacheConfig {
        rules: vec![rule("/api/order/list", "orders")],
        persist: Some(persist),
        ..RawCacheConfig::default()
    });
    let mut e = Engine::new(raw.validate().unwrap(), platform(), 1);
    let (id, c) = e.start(get("/api/warm"), 0.0).unwrap();
    assert!(matches!(c[0], Command::InitCloud { .. }));
    e.on_init(Ok(()), 0.0);
    e.on_response(id, answer("warm"), 0.0).unwrap();
    e
}

fn persist_asked(commands: &[Command<String>]) -> bool {
    commands
        .iter()
        .any(|c| matches!(c, Command::Persist { .. }))
}

/// A pushed invalidation changes the cache (it drops entries) but schedules no
/// save. docs/cache.md: "After the cache changes, a snapshot is saved one second
/// later ... also saved when the app goes to the background": the shim saves at
/// hide only when a save is due (`persistTimer`), so the dropped entry stays in
/// storage and the next launch restores and serves it as fresh, although the
/// service said it changed. (A mutation's own invalidation does schedule one.)
#[test]
fn a_pushed_invalidation_schedules_a_save_so_a_relaunch_does_not_restore_what_it_dropped() {
    let mut e = orders_with(true);
    let (id, c) = e.start(get("/api/order/list"), 10.0).unwrap();
    let done = e
        .on_response(sends(&c)[0].id, answer("old list"), 20.0)
        .unwrap();
    let _ = id;
    assert!(persist_asked(&done), "storing it asked for a save");
    // The save timer fires: what storage holds now has the list.
    let saved: Vec<(String, mp_request::core::cache::store::Entry<String>)> = e
        .snapshot(1100.0)
        .1
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(saved.len(), 1);
    assert!(!e.persist_due());

    let (dropped, commands) = e.invalidate_pushed("/api/order/list").unwrap();
    assert_eq!(dropped, 1);
    assert!(
        persist_asked(&commands) || e.persist_due(),
        "the cache changed, yet no save is scheduled or due: storage keeps the dropped list \
         ({commands:?})"
    );
}

/// Every open asks each watched query again, but a GET for it that was sent
/// BEFORE the socket opened is relied on (`refetch` skips a key with a storing
/// fetch in flight). That GET may have read the list before a change whose
/// push reached nobody (the socket was not subscribed yet): its old answer is
/// stored and heard, and nothing asks again. The open repairs nothing.
#[test]
fn an_open_does_not_rely_on_a_watched_fetch_sent_before_the_socket_opened() {
    let mut e = orders_with(false);
    // The page watches its list; the GET goes out at 10 ms.
    let (w, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    let before_open = sends(&c);
    assert_eq!(before_open.len(), 1);
    // The service reads the list for it (old), then an order is created and pushed
    // to the user's sockets: none is open yet. The socket opens at 30 ms.
    let opened = e.socket_opened();
    assert_eq!(timers(&opened), 1);
    let mut after_open = sends(&e.on_watch_timer(30.0 + f64::from(WATCH_COALESCE_MS)));
    // The old GET's answer arrives.
    let done = e
        .on_response(before_open[0].id, answer("list before the order"), 120.0)
        .unwrap();
    assert_eq!(
        watched(&done),
        vec![(vec![w], "list before the order".to_owned())]
    );
    after_open.extend(sends(&done));
    if timers(&done) > 0 {
        after_open.extend(sends(&e.on_watch_timer(200.0)));
    }
    assert!(
        !after_open.is_empty(),
        "the socket opened at 30 ms, yet the list was never asked after it: the watcher keeps the \
         list from before the open"
    );
}

/// A service that pushes for every change, faster than its list answers
/// (a busy shop: a push every 20 ms, GETs taking 120 ms): each push outdates
/// the refetch in flight and the coalescing window (fixed, not a debounce)
/// sends another one 50 ms later, while the outdated ones still run. For the
/// whole second of pushes the watcher hears nothing and ~20 GETs go out, up to
/// three at once for one watched key.
#[test]
fn a_steady_stream_of_pushes_neither_starves_the_watcher_nor_stacks_refetches() {
    let mut e = orders_with(false);
    let (w, c) = e.watch(get("/api/order/list"), 0.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("v0"), 10.0).unwrap();

    const LATENCY: f64 = 120.0;
    let mut now = 100.0;
    let mut timer_at: Option<f64> = None;
    // (id, answer due at)
    let mut in_flight: Vec<(u32, f64)> = Vec::new();
    let mut gets = 0;
    let mut most_at_once = 0;
    let mut heard = 0;
    let handle = |commands: Vec<Command<String>>,
                  now: f64,
                  timer_at: &mut Option<f64>,
                  in_flight: &mut Vec<(u32, f64)>,
                  gets: &mut usize,
                  heard: &mut usize| {
        if timers(&commands) > 0 {
            *timer_at = Some(now + f64::from(WATCH_COALESCE_MS));
        }
        for s in sends(&commands) {
            *gets += 1;
            in_flight.push((s.id, now + LATENCY));
        }
        *heard += watched(&commands)
            .iter()
            .filter(|(ws, _)| ws.contains(&w))
            .count();
    };
    let stream_ends = 1100.0;
    let mut next_push = 100.0;
    let mut version = 1;
    while now <= stream_ends {
        if now >= next_push {
            let (_, c) = e.invalidate_pushed("/api/order/list").unwrap();
            handle(c, now, &mut timer_at, &mut in_flight, &mut gets, &mut heard);
            next_push += 20.0;
        }
        if timer_at.is_some_and(|at| now >= at) {
            timer_at = None;
            let c = e.on_watch_timer(now);
            handle(c, now, &mut timer_at, &mut in_flight, &mut gets, &mut heard);
        }
        let due: Vec<(u32, f64)> = in_flight
            .iter()
            .copied()
            .filter(|(_, at)| now >= *at)
            .collect();
        in_flight.retain(|(_, at)| now < *at);
        for (id, _) in due {
            version += 1;
            let c = e
                .on_response(id, answer(&format!("v{version}")), now)
                .unwrap();
            handle(c, now, &mut timer_at, &mut in_flight, &mut gets, &mut heard);
        }
        most_at_once = most_at_once.max(in_flight.len());
        now += 5.0;
    }
    assert!(
        heard > 0 && most_at_once <= 1,
        "a second of pushes: the watcher heard {heard} values, {gets} GETs were sent, \
         {most_at_once} at once for one key"
    );
}

/// A push selects entries by path prefix or tag, yet `invalidate_pushed` hands
/// `watched_entries_gone` every watcher whose entry is absent for ANY reason:
/// a watched query whose endpoint failed (no entry) is refetched on every
/// push about anything else. A service that pushes `#notifications` every
/// second keeps hammering a failing, unrelated endpoint (a new fetch each
/// time, outside any backoff), and the watcher hears a failure each time.
#[test]
fn a_push_about_other_paths_does_not_refetch_a_watcher_whose_fetch_failed() {
    let mut e = orders_with(false);
    let (w, c) = e.watch(get("/api/order/list"), 0.0).unwrap();
    let done = e
        .on_response(sends(&c)[0].id, Answer::status(404, None), 10.0)
        .unwrap();
    assert!(
        done.iter()
            .any(|c| matches!(c, Command::WatchFailed { watches, .. } if watches.contains(&w))),
        "{done:?}"
    );
    let mut refetches = 0;
    let mut failures_heard = 0;
    for i in 0..5 {
        let now = 1000.0 * f64::from(i + 1);
        // About something else entirely: no entry it selects, no fetch in flight.
        let (dropped, c) = e
            .invalidate_pushed("/api/notifications\n#notifications")
            .unwrap();
        assert_eq!(dropped, 0);
        let mut all = c;
        if timers(&all) > 0 {
            all.extend(e.on_watch_timer(now + f64::from(WATCH_COALESCE_MS)));
        }
        for s in sends(&all) {
            refetches += 1;
            let done = e
                .on_response(s.id, Answer::status(404, None), now + 100.0)
                .unwrap();
            failures_heard += done
                .iter()
                .filter(|c| matches!(c, Command::WatchFailed { .. }))
                .count();
        }
    }
    assert_eq!(
        (refetches, failures_heard),
        (0, 0),
        "five pushes about /api/notifications refetched the order list {refetches} times \
         (and its watcher heard {failures_heard} failures)"
    );
}
