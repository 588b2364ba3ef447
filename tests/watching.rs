//! Watched queries (issue 21, item 1; the core's part), natively under a
//! virtual clock: the value at once or once fetched, again when the entry
//! changes; one entry and one fetch however many watch; invalidations
//! coalesced into one refetch, none while hidden; errors keep the last value.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawInvalidation, RawRule};
use mp_request::core::engine::{Command, Engine, Invalidate, WATCH_COALESCE_MS};
use mp_request::core::error::ErrorKind;
use support::*;

/// Order lists cached for 10 s (stale for a minute); creating an order invalidates them.
fn orders() -> Engine<String> {
    let mut raw = cloud_config();
    raw.cache = Some(RawCacheConfig {
        rules: vec![RawRule {
            path: "/api/order/list".into(),
            ttl_ms: Some(10_000.0),
            stale_ms: Some(60_000.0),
            tags: vec!["orders".into()],
        }],
        invalidations: vec![RawInvalidation {
            method: Some("POST".into()),
            path: "/api/order/create".into(),
            prefixes: vec!["/api/order/list".into()],
            tags: vec![],
        }],
        ..RawCacheConfig::default()
    });
    let mut e = Engine::new(raw.validate().unwrap(), platform(), 1);
    let (id, c) = e.start(get("/api/warm"), 0.0).unwrap();
    assert!(matches!(c[0], Command::InitCloud { .. }));
    e.on_init(Ok(()), 0.0);
    e.on_response(id, answer("warm"), 0.0).unwrap();
    e
}

#[test]
fn two_watchers_share_one_fetch_and_hear_its_value_and_later_changes() {
    let mut e = orders();
    let (a, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    let fetch = sends(&c);
    assert_eq!(fetch.len(), 1, "nothing cached: one fetch");
    assert!(watched(&c).is_empty());
    // A second watcher while it is in flight: no second fetch.
    let (b, c) = e.watch(get("/api/order/list"), 11.0).unwrap();
    assert!(sends(&c).is_empty() && watched(&c).is_empty(), "{c:?}");
    let done = e.on_response(fetch[0].id, answer("list v1"), 20.0).unwrap();
    assert_eq!(watched(&done), vec![(vec![a, b], "list v1".to_owned())]);
    // A third watcher gets the cached value at once, and nothing is fetched.
    let (c3, c) = e.watch(get("/api/order/list"), 30.0).unwrap();
    assert_eq!(watched(&c), vec![(vec![c3], "list v1".to_owned())]);
    assert!(sends(&c).is_empty());
    // A request of the page's own that stores a new answer reaches every watcher.
    let mut reload = get("/api/order/list");
    reload.cache = mp_request::core::cache::rules::RawRequestCache::Options {
        ttl_ms: None,
        stale_ms: None,
        tags: Vec::new(),
        private: false,
        reload: true,
    };
    let (id, c) = e.start(reload, 40.0).unwrap();
    let done = e
        .on_response(sends(&c)[0].id, answer("list v2"), 50.0)
        .unwrap();
    assert_eq!(id, sends(&c)[0].id);
    assert_eq!(watched(&done), vec![(vec![a, b, c3], "list v2".to_owned())]);
    // Unwatched: hears nothing more.
    assert!(e.unwatch(b, 60.0).0);
    assert!(!e.unwatch(b, 60.0).0);
    assert_eq!(e.watchers(), 2);
}

#[test]
fn a_burst_of_invalidations_refetches_once_after_the_coalescing_window() {
    let mut e = orders();
    let (w, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("v1"), 20.0).unwrap();
    let mut timers = 0;
    for _ in 0..50 {
        let (dropped, c) = e.invalidate_watched(&Invalidate::Tag("orders".into()));
        assert!(dropped <= 1);
        assert!(sends(&c).is_empty(), "nothing before the window ends");
        timers += c
            .iter()
            .filter(
                |c| matches!(c, Command::WaitWatch { delay_ms } if *delay_ms == WATCH_COALESCE_MS),
            )
            .count();
    }
    assert_eq!(timers, 1, "one timer for the burst");
    let refetch = e.on_watch_timer(200.0);
    let fetched = sends(&refetch);
    assert_eq!(fetched.len(), 1, "one refetch for 50 invalidations");
    let done = e.on_response(fetched[0].id, answer("v2"), 210.0).unwrap();
    assert_eq!(watched(&done), vec![(vec![w], "v2".to_owned())]);
}

#[test]
fn a_mutation_that_invalidates_a_watched_list_refetches_it() {
    let mut e = orders();
    let (w, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("old"), 20.0).unwrap();
    let (id, c) = e.start(post("/api/order/create"), 30.0).unwrap();
    assert_eq!(sends(&c)[0].id, id);
    let done = e.on_response(id, answer("created"), 40.0).unwrap();
    assert!(
        done.iter().any(|c| matches!(c, Command::WaitWatch { .. })),
        "{done:?}"
    );
    let refetch = sends(&e.on_watch_timer(90.0));
    assert_eq!(refetch.len(), 1);
    let done = e.on_response(refetch[0].id, answer("new"), 100.0).unwrap();
    assert_eq!(watched(&done), vec![(vec![w], "new".to_owned())]);
}

#[test]
fn a_hidden_app_refetches_when_it_shows_and_errors_keep_the_last_value() {
    let mut e = orders();
    let (w, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("v1"), 20.0).unwrap();
    e.set_hidden(true, 30.0);
    let (_, c) = e.invalidate_watched(&Invalidate::Prefix("/api/order".into()));
    assert_eq!(c.len(), 1);
    assert!(
        sends(&e.on_watch_timer(100.0)).is_empty(),
        "not while hidden"
    );
    let shown = e.set_hidden(false, 5000.0);
    let refetch = sends(&shown);
    assert_eq!(refetch.len(), 1, "refetched when it shows: {shown:?}");
    // It fails for good: the watcher hears why.
    let failed = e
        .on_response(
            refetch[0].id,
            mp_request::core::engine::Answer::status(404, None),
            5010.0,
        )
        .unwrap();
    let heard: Vec<_> = failed
        .iter()
        .filter_map(|c| match c {
            Command::WatchFailed { watches, error } => Some((watches.clone(), error.kind())),
            _ => None,
        })
        .collect();
    assert_eq!(heard, vec![(vec![w], ErrorKind::Http)]);
}

#[test]
fn a_stale_watched_entry_is_served_then_refreshed() {
    let mut e = orders();
    let (_, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("v1"), 20.0).unwrap();
    // Stale after 10 s: a new watcher gets it at once, and a refresh runs.
    let (w, c) = e.watch(get("/api/order/list"), 15_000.0).unwrap();
    assert_eq!(watched(&c), vec![(vec![w], "v1".to_owned())]);
    let refresh = sends(&c);
    assert_eq!(refresh.len(), 1);
    let done = e
        .on_response(refresh[0].id, answer("v2"), 15_010.0)
        .unwrap();
    assert_eq!(watched(&done)[0].1, "v2");
    assert_eq!(watched(&done)[0].0.len(), 2, "both watchers");
}

#[test]
fn only_a_cached_get_can_be_watched() {
    let mut e = orders();
    for raw in [get("/api/home/init"), post("/api/order/list")] {
        let error = e.watch(raw, 10.0).unwrap_err();
        assert!(error.to_string().contains("watch"), "{error}");
    }
    assert_eq!(e.watchers(), 0);
}

#[test]
fn watchers_follow_the_user() {
    let mut e = orders();
    let (w, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("A's list"), 20.0)
        .unwrap();
    // Another user: nothing cached for them, so the list is refetched under them.
    let switched = e.set_user(Some("B".into()), 30.0);
    assert!(
        switched
            .iter()
            .any(|c| matches!(c, Command::WaitWatch { .. })),
        "{switched:?}"
    );
    let refetch = sends(&e.on_watch_timer(100.0));
    assert_eq!(refetch.len(), 1);
    let done = e
        .on_response(refetch[0].id, answer("B's list"), 110.0)
        .unwrap();
    assert_eq!(watched(&done), vec![(vec![w], "B's list".to_owned())]);
    // Back to A, whose list is still cached and fresh: heard at once, nothing fetched.
    let back = e.set_user(None, 200.0);
    assert_eq!(watched(&back), vec![(vec![w], "A's list".to_owned())]);
    assert!(sends(&back).is_empty());
}

#[test]
fn the_last_unwatch_stops_the_fetch_made_for_it_alone() {
    let mut e = orders();
    let (a, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    let (b, _) = e.watch(get("/api/order/list"), 11.0).unwrap();
    let fetch = sends(&c)[0].id;
    assert!(e.unwatch(a, 12.0).1.is_empty(), "b still watches");
    let (found, stopped) = e.unwatch(b, 13.0);
    assert!(found);
    assert!(
        stopped.contains(&Command::Abort { id: fetch })
            && stopped.contains(&Command::End { id: fetch }),
        "{stopped:?}"
    );
    assert_eq!(e.fetching(), 0);
}
