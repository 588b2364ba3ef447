//! Invalidations a service pushes over a managed socket (issue 21, item 2),
//! natively under a virtual clock: the socket machine reads the library's
//! frames (`{"$mp":1,...}`) and never delivers them; the request engine drops
//! the current user's matching entries, refetches each watched one once per
//! burst (none while hidden), counts what it acted on and what was ignored,
//! and asks every watched query again when a socket opens.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawRule};
use mp_request::core::cache::validator::Validator;
use mp_request::core::engine::{Answer, Command, Engine, Invalidate, WATCH_COALESCE_MS};
use mp_request::core::error::ErrorKind;
use mp_request::core::socket::config::RawSocketConfig;
use mp_request::core::socket::machine::{Socket, SocketCommand};
use support::*;

/// Order lists and the home page cached for 10 s (stale for a minute).
fn orders() -> Engine<String> {
    engine_with(false)
}

/// `orders()`, the cache saved to storage when `persist`.
fn engine_with(persist: bool) -> Engine<String> {
    let mut raw = cloud_config();
    let rule = |path: &str, tag: &str| RawRule {
        path: path.into(),
        ttl_ms: Some(10_000.0),
        stale_ms: Some(60_000.0),
        tags: vec![tag.into()],
    };
    raw.cache = Some(RawCacheConfig {
        rules: vec![
            rule("/api/order/list", "orders"),
            rule("/api/home/init", "home"),
        ],
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

/// Stores `value` for `path` by a plain request at `now`.
fn store(e: &mut Engine<String>, path: &str, value: Answer<String>, now: f64) {
    let (id, c) = e.start(get(path), now).unwrap();
    assert_eq!(sends(&c).len(), 1, "{path}: a miss");
    e.on_response(id, value, now + 5.0).unwrap();
}

fn cached(e: &mut Engine<String>, path: &str, now: f64) -> bool {
    let (_, c) = e.start(get(path), now).unwrap();
    let hit = c
        .iter()
        .any(|c| matches!(c, Command::Resolve(s, _) if s.from_cache));
    if !hit {
        // Answer the miss, so that nothing is left in flight.
        let id = sends(&c)[0].id;
        e.on_response(id, answer("again"), now + 1.0).unwrap();
    }
    hit
}

#[test]
fn a_pushed_invalidation_drops_the_current_users_entries_by_path_and_by_tag() {
    let mut e = orders();
    e.set_user(Some("alice".into()), 1.0);
    store(&mut e, "/api/order/list?page=1", answer("a1"), 10.0);
    store(&mut e, "/api/order/list?page=2", answer("a2"), 20.0);
    store(&mut e, "/api/home/init", answer("home"), 30.0);
    e.set_user(Some("bob".into()), 40.0);
    store(&mut e, "/api/order/list?page=1", answer("b1"), 50.0);
    e.set_user(Some("alice".into()), 60.0);

    let (dropped, _) = e.invalidate_pushed("/api/order/list").unwrap();
    assert_eq!(dropped, 2, "alice's two pages");
    assert!(!cached(&mut e, "/api/order/list?page=1", 110.0));
    assert!(
        cached(&mut e, "/api/home/init", 120.0),
        "another path stays"
    );
    let (dropped, _) = e.invalidate_pushed("#home").unwrap();
    assert_eq!(dropped, 1, "by tag");
    assert!(!cached(&mut e, "/api/home/init", 140.0));
    // Bob's entry is his: a push to alice's sockets leaves it.
    e.set_user(Some("bob".into()), 150.0);
    assert!(cached(&mut e, "/api/order/list?page=1", 160.0));
    let stats = e.cache_stats();
    assert_eq!((stats.pushed_invalidations, stats.ignored_frames), (2, 0));
    e.frame_ignored();
    assert_eq!(e.cache_stats().ignored_frames, 1);
}

#[test]
fn a_burst_of_fifty_pushes_refetches_a_watched_list_once() {
    let mut e = orders();
    let (w, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("v1"), 20.0).unwrap();
    let mut armed = 0;
    for _ in 0..50 {
        let (_, c) = e.invalidate_pushed("/api/order/list").unwrap();
        assert!(sends(&c).is_empty(), "nothing before the window ends");
        armed += timers(&c);
    }
    assert_eq!(armed, 1, "one timer for the burst");
    let refetch = sends(&e.on_watch_timer(100.0 + f64::from(WATCH_COALESCE_MS)));
    assert_eq!(refetch.len(), 1, "one refetch for 50 pushes");
    let done = e.on_response(refetch[0].id, answer("v2"), 200.0).unwrap();
    assert_eq!(watched(&done), vec![(vec![w], "v2".to_owned())]);
    assert_eq!(e.cache_stats().pushed_invalidations, 50);
}

#[test]
fn a_push_during_the_refetch_lets_it_finish_then_asks_again_once_it_ends() {
    let mut e = orders();
    let (w, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("v1"), 20.0).unwrap();
    let (_, c) = e.invalidate_pushed("/api/order/list").unwrap();
    assert_eq!(timers(&c), 1);
    let first = sends(&e.on_watch_timer(150.0));
    assert_eq!(first.len(), 1);
    // The list changes again while the refetch runs: what it brings may be old.
    let (_, c) = e.invalidate_pushed("/api/order/list").unwrap();
    assert_eq!(timers(&c), 1);
    assert!(
        sends(&e.on_watch_timer(210.0)).is_empty(),
        "one fetch in flight for the key"
    );
    // It is heard (newer than what the watcher has), and the list is asked again.
    let done = e.on_response(first[0].id, answer("v2"), 230.0).unwrap();
    assert_eq!(watched(&done), vec![(vec![w], "v2".to_owned())]);
    assert_eq!(timers(&done), 1, "{done:?}");
    let second = sends(&e.on_watch_timer(280.0));
    assert_eq!(second.len(), 1);
    let done = e.on_response(second[0].id, answer("v3"), 300.0).unwrap();
    assert_eq!(watched(&done), vec![(vec![w], "v3".to_owned())]);
    assert!(sends(&e.on_watch_timer(350.0)).is_empty(), "settled");
}

#[test]
fn a_fetch_of_another_partition_that_would_store_into_this_one_is_outdated() {
    let mut e = orders();
    // Anonymous: the fetch is keyed in the anonymous partition...
    let (id, c) = e.start(get("/api/order/list"), 10.0).unwrap();
    assert_eq!(sends(&c).len(), 1);
    // ...another answer names the user first: the partition becomes hers...
    let (me, c) = e.start(get("/api/me"), 11.0).unwrap();
    assert_eq!(sends(&c).len(), 1);
    let named = Answer {
        user: Some("o-carol".into()),
        ..answer("me")
    };
    e.on_response(me, named.clone(), 12.0).unwrap();
    assert_eq!(e.user(), "o-carol");
    // ...a push for her lists arrives, then the old fetch's answer, naming her too.
    e.invalidate_pushed("/api/order/list").unwrap();
    let list = Answer {
        user: Some("o-carol".into()),
        ..answer("before the push")
    };
    e.on_response(id, list, 14.0).unwrap();
    assert!(
        !cached(&mut e, "/api/order/list", 15.0),
        "an answer begun before the push is not stored"
    );
}

#[test]
fn pushes_to_a_hidden_app_refetch_when_it_shows() {
    let mut e = orders();
    let (w, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("v1"), 20.0).unwrap();
    e.set_hidden(true, 30.0);
    let (_, c) = e.invalidate_pushed("/api/order/list").unwrap();
    assert!(sends(&c).is_empty());
    assert!(
        sends(&e.on_watch_timer(100.0)).is_empty(),
        "hidden: nothing"
    );
    let shown = e.set_hidden(false, 5000.0);
    let refetch = sends(&shown);
    assert_eq!(refetch.len(), 1, "{shown:?}");
    let done = e.on_response(refetch[0].id, answer("v2"), 5010.0).unwrap();
    assert_eq!(watched(&done), vec![(vec![w], "v2".to_owned())]);
}

#[test]
fn a_socket_that_opens_revalidates_every_watched_query_once() {
    let mut e = orders();
    let (_, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    let etagged = Answer {
        validator: Validator::of(Some("\"l1\""), None),
        ..answer("list")
    };
    e.on_response(sends(&c)[0].id, etagged, 20.0).unwrap();
    let (b, c) = e.watch(get("/api/home/init"), 30.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("home"), 40.0)
        .unwrap();
    let (a2, c) = e.watch(get("/api/order/list"), 50.0).unwrap();
    assert_eq!(watched(&c), vec![(vec![a2], "list".to_owned())]);

    // Two sockets open at once: one round of refetches.
    let first = e.socket_opened();
    assert_eq!(timers(&first), 1);
    assert!(e.socket_opened().is_empty(), "coalesced");
    let refetch = sends(&e.on_watch_timer(100.0));
    assert_eq!(refetch.len(), 2, "one per query: {refetch:?}");
    let list = refetch
        .iter()
        .find(|s| s.target.starts_with("/api/order/list"))
        .unwrap();
    assert_eq!(
        list.header("If-None-Match"),
        Some("\"l1\""),
        "asked whether it changed"
    );
    let home = refetch
        .iter()
        .find(|s| s.target.starts_with("/api/home"))
        .unwrap();
    assert_eq!(
        home.header("If-None-Match"),
        None,
        "no validator: asked whole"
    );
    // Unchanged: the watchers already have it and hear nothing; the entry is fresh again.
    let done = e
        .on_response(list.id, Answer::status(304, None), 110.0)
        .unwrap();
    assert!(watched(&done).is_empty(), "{done:?}");
    assert_eq!(e.cache_stats().revalidations, 1);
    let done = e.on_response(home.id, answer("home v2"), 120.0).unwrap();
    assert_eq!(watched(&done), vec![(vec![b], "home v2".to_owned())]);
    // No watchers: an open asks nothing.
    let mut quiet = orders();
    assert!(quiet.socket_opened().is_empty());
}

#[test]
fn bad_invalidations_are_refused_with_a_typed_error_and_the_engine_serves_on() {
    let mut e = orders();
    let many: Vec<String> = (0..65).map(|i| format!("/p{i}")).collect();
    for names in [
        "",
        "api/order",
        "#",
        "/a\n",
        "/a\n\n#b",
        "orders",
        &many.join("\n"),
    ] {
        let error = e.invalidate_pushed(names).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Invalid, "{names:?}");
        assert!(error.to_string().contains("invalidation"), "{error}");
    }
    assert_eq!(e.cache_stats().pushed_invalidations, 0, "nothing counted");
    store(&mut e, "/api/order/list", answer("v1"), 20.0);
    assert!(cached(&mut e, "/api/order/list", 30.0));
}

fn open_socket() -> (Socket, u32) {
    let config = RawSocketConfig::default().validate().unwrap();
    let mut s = Socket::new(config, 7);
    let epoch = match s.start(0.0).first() {
        Some(SocketCommand::Connect { epoch }) => *epoch,
        other => panic!("{other:?}"),
    };
    s.on_open(epoch, 1.0);
    (s, epoch)
}

#[test]
fn the_socket_hands_the_librarys_frames_to_the_engine_and_never_to_the_caller() {
    let (mut s, epoch) = open_socket();
    assert_eq!(
        s.on_message(
            epoch,
            Some(r#"{"$mp":1,"type":"invalidate","paths":["/api/order/list"],"tags":["orders"]}"#),
            2.0
        ),
        [SocketCommand::Invalidate {
            names: "/api/order/list\n#orders".into(),
        }]
    );
    for unknown in [
        r#"{"$mp":2,"type":"invalidate","paths":["/a"]}"#,
        r#"{"$mp":1,"type":"patch","paths":["/a"]}"#,
        r#"{"$mp":1,"type":"invalidate"}"#,
    ] {
        let c = s.on_message(epoch, Some(unknown), 3.0);
        assert!(
            matches!(&c[..], [SocketCommand::Ignored { detail }] if !detail.is_empty()),
            "{unknown}: {c:?}"
        );
    }
    // The app's own frames that merely look alike still reach it.
    for app in [r#"{"type":"invalidate","paths":["/a"]}"#, r#"{"mp":1}"#] {
        assert_eq!(
            s.on_message(epoch, Some(app), 4.0),
            [SocketCommand::Deliver]
        );
    }
}

#[test]
fn a_saved_cache_forgets_what_a_push_or_an_invalidate_dropped() {
    let persisted = |c: &[Command<String>]| c.iter().any(|c| matches!(c, Command::Persist { .. }));
    let mut e = engine_with(true);
    store(&mut e, "/api/order/list", answer("v1"), 10.0);
    store(&mut e, "/api/home/init", answer("home"), 20.0);
    e.snapshot(30.0);
    assert!(!e.persist_due());
    // Nothing matched: nothing to save.
    let (dropped, c) = e.invalidate_pushed("/api/none").unwrap();
    assert_eq!(dropped, 0);
    assert!(!persisted(&c));
    // Dropped: saved again, so that the next launch does not bring it back.
    let (dropped, c) = e.invalidate_pushed("/api/order/list").unwrap();
    assert_eq!(dropped, 1);
    assert!(persisted(&c), "{c:?}");
    let (_, saved) = e.snapshot(60.0);
    let paths: Vec<&str> = saved.iter().map(|(_, entry)| entry.path.as_str()).collect();
    assert_eq!(paths, ["/api/home/init"]);
    // The same for the app's own `invalidate`.
    let (dropped, c) = e.invalidate_watched(&Invalidate::Tag("home".into()));
    assert_eq!(dropped, 1);
    assert!(persisted(&c), "{c:?}");
    assert!(e.snapshot(80.0).1.is_empty());
}

#[test]
fn a_watcher_waiting_on_a_revalidation_begun_before_an_open_is_asked_again_after_its_304() {
    let mut e = orders();
    let (w, c) = e.watch(get("/api/order/list"), 10.0).unwrap();
    let etagged = Answer {
        validator: Validator::of(Some("\"l1\""), None),
        ..answer("list")
    };
    e.on_response(sends(&c)[0].id, etagged, 20.0).unwrap();
    // A socket opens: the list is asked whether it changed.
    assert_eq!(timers(&e.socket_opened()), 1);
    let first = sends(&e.on_watch_timer(100.0));
    assert_eq!(first[0].header("If-None-Match"), Some("\"l1\""));
    // It drops and opens again while that runs: the answer may predate the gap.
    assert_eq!(timers(&e.socket_opened()), 1);
    assert!(
        sends(&e.on_watch_timer(160.0)).is_empty(),
        "one fetch in flight"
    );
    let done = e
        .on_response(first[0].id, Answer::status(304, None), 200.0)
        .unwrap();
    assert!(watched(&done).is_empty(), "unchanged: no one told");
    assert_eq!(
        timers(&done),
        1,
        "asked again: it began before the second open"
    );
    let again = sends(&e.on_watch_timer(260.0));
    assert_eq!(again.len(), 1);
    let done = e.on_response(again[0].id, answer("v2"), 300.0).unwrap();
    assert_eq!(watched(&done), vec![(vec![w], "v2".to_owned())]);
    assert_eq!(timers(&done), 0, "nothing more owed");
}
