//! Third hostile review of issue 21 item 2 (watched queries under
//! invalidation, after commit 4192b98): each test shows a defect of that
//! design (each failed before its fix), natively under a virtual clock.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawRule};
use mp_request::core::config::RawConfig;
use mp_request::core::engine::{Command, Engine, WATCH_COALESCE_MS};
use mp_request::core::request::RawRequest;
use support::*;

fn rule(path: &str, tag: &str) -> RawRule {
    RawRule {
        path: path.into(),
        ttl_ms: Some(10_000.0),
        stale_ms: Some(60_000.0),
        tags: vec![tag.into()],
    }
}

fn with_orders(mut raw: RawConfig) -> Engine<String> {
    raw.cache = Some(RawCacheConfig {
        rules: vec![rule("/api/order/list", "orders")],
        ..RawCacheConfig::default()
    });
    let mut e = Engine::new(raw.validate().unwrap(), platform(), 1);
    let (id, c) = e.start(get("/api/warm"), 0.0).unwrap();
    assert!(matches!(c[0], Command::InitCloud { .. }));
    e.on_init(Ok(()), 0.0);
    e.on_response(id, answer("warm"), 0.0).unwrap();
    e
}

/// Order lists cached for 10 s (stale for a minute).
fn orders() -> Engine<String> {
    with_orders(cloud_config())
}

fn list() -> RawRequest {
    get("/api/order/list")
}

/// A GET (#A) is in flight when a push outdates it; a GET after the push
/// (#C) stores v2. A page opens and watches the list: it hears v2 from the
/// cache (`watch` peeks it; its `heard` stays 0). Another push drops the
/// entry; before the refetch, #A (begun before the first push) answers: its
/// answer is outdated, the entry is absent, and `heard_from(.., false)`
/// finds `heard` (0) older than #A, so the page hears the list from before
/// the first push after the one from after it. The same with a second
/// watcher joining late while the first heard #C's store.
#[test]
fn a_watcher_that_peeked_a_newer_entry_never_hears_an_older_outdated_fetch() {
    let mut e = orders();
    let (_a, c) = e.start(list(), 0.0).unwrap();
    let a = sends(&c);
    assert_eq!(a.len(), 1);
    // An order is created: push. #A is outdated and no longer joined.
    e.invalidate_pushed("/api/order/list").unwrap();
    let (_c, c) = e.start(list(), 5.0).unwrap();
    let newer = sends(&c);
    assert_eq!(newer.len(), 1, "a GET after the push does not join #A");
    assert!(newer[0].id > a[0].id);
    // An early watcher hears #C's store.
    let (w1, c) = e.watch(list(), 6.0).unwrap();
    assert!(sends(&c).is_empty(), "relies on #C");
    e.on_response(newer[0].id, answer("v2 (after the first push)"), 10.0)
        .unwrap();
    // A page opens later: it hears v2 from the cache.
    let (w2, c) = e.watch(list(), 20.0).unwrap();
    assert_eq!(
        watched(&c),
        vec![(vec![w2], "v2 (after the first push)".to_owned())]
    );
    // A second push drops the entry.
    let (_, c) = e.invalidate_pushed("/api/order/list").unwrap();
    assert_eq!(timers(&c), 1);
    // #A, begun before the first push, answers before the timer fires.
    let done = e
        .on_response(a[0].id, answer("v1 (before the first push)"), 30.0)
        .unwrap();
    let heard = watched(&done);
    let older: Vec<u32> = heard
        .iter()
        .filter(|(_, v)| v.starts_with("v1"))
        .flat_map(|(ws, _)| ws.clone())
        .collect();
    assert!(
        older.is_empty(),
        "watchers {older:?} heard #{} (begun before the first push) after #{} (begun after it); \
         w1 = {w1}, w2 = {w2} (w2 heard #{} from the cache)",
        a[0].id,
        newer[0].id,
        newer[0].id
    );
}

/// The same through `setUser`: Alice's watcher is moved away and back, and
/// hears her fresh entry (stored by a GET after the push) from the cache;
/// a push drops it and Alice's GET from before the first push is heard.
#[test]
fn a_watcher_that_peeked_on_set_user_never_hears_an_older_outdated_fetch() {
    let mut e = orders();
    // Bob's list is cached first (its GET is older than everything below).
    e.set_user(Some("bob".into()), 0.0);
    let (_, c) = e.start(list(), 0.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("bob"), 1.0).unwrap();
    // Alice: #A in flight, outdated by a push; #C after it stores v2.
    e.set_user(Some("alice".into()), 2.0);
    let (_, c) = e.start(list(), 2.0).unwrap();
    let a = sends(&c);
    e.invalidate_pushed("/api/order/list").unwrap();
    let (_, c) = e.start(list(), 3.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("alice v2"), 4.0)
        .unwrap();
    // A page watches as Bob (from the cache), then Alice logs in again.
    e.set_user(Some("bob".into()), 5.0);
    let (w, c) = e.watch(list(), 5.0).unwrap();
    assert_eq!(watched(&c), vec![(vec![w], "bob".to_owned())]);
    let back = e.set_user(Some("alice".into()), 6.0);
    assert_eq!(watched(&back), vec![(vec![w], "alice v2".to_owned())]);
    e.invalidate_pushed("/api/order/list").unwrap();
    let done = e
        .on_response(a[0].id, answer("alice v1 (before the first push)"), 7.0)
        .unwrap();
    assert!(
        watched(&done).is_empty(),
        "after 'alice v2', the watcher heard {:?} from a GET begun before it",
        watched(&done)
    );
}

/// Alice's watched list is queued (maxConcurrent 1, a slow request holds the
/// slot). Bob logs in; the slot frees and the unsent GET follows the current
/// user (`follow_user`, src/core/engine/attempt.rs): it goes out under Bob,
/// outdated, its key still Alice's. Alice logs in again before it answers:
/// her entry is absent, so `succeed`'s outdated branch
/// (src/core/engine/mod.rs) delivered Bob's answer to Alice's watcher. Since
/// the fourth review such a caller-less GET is not sent under Bob at all.
#[test]
fn an_outdated_fetch_sent_under_another_user_is_not_heard_by_this_users_watchers() {
    let mut e = with_orders(RawConfig {
        max_concurrent: Some(1.0),
        ..cloud_config()
    });
    e.set_user(Some("alice".into()), 0.0);
    let (_, c) = e.start(get("/api/slow"), 0.0).unwrap();
    let slow = sends(&c);
    assert_eq!(slow.len(), 1);
    let (w, c) = e.watch(list(), 1.0).unwrap();
    assert!(sends(&c).is_empty(), "queued behind the slow request");
    // Bob logs in; the slot frees: the queued GET goes out under Bob.
    e.set_user(Some("bob".into()), 2.0);
    let freed = e.on_response(slow[0].id, answer("slow"), 3.0).unwrap();
    // Since round 4: a watch's own GET is not sent under Bob at all (its
    // answer would be no one's); it ends, and nothing of Bob's reaches Alice.
    assert!(sends(&freed).is_empty(), "{freed:?}");
    let back = e.set_user(Some("alice".into()), 4.0);
    let heard = watched(&freed).into_iter().chain(watched(&back));
    assert!(
        !heard
            .into_iter()
            .any(|(ws, v)| ws.contains(&w) && v == "bob's orders"),
        "Alice's watcher heard an answer of Bob's"
    );
}

/// `unwatch`: "The last watcher of a query stops the fetch made for it
/// alone" (and destroy() relies on it: "the fetches made for them alone
/// stop"). Once a push outdated that fetch, it is out of `sharing`, so
/// `unwatch` (src/core/engine/watching.rs) no longer finds it: the GET runs
/// on for a page that closed.
#[test]
fn unwatching_stops_the_watchers_fetch_even_after_a_push_outdated_it() {
    let mut e = orders();
    let (w, c) = e.watch(list(), 0.0).unwrap();
    let fetch = sends(&c);
    assert_eq!(fetch.len(), 1);
    e.invalidate_pushed("/api/order/list").unwrap();
    let (found, c) = e.unwatch(w, 10.0);
    assert!(found);
    let stopped = c
        .iter()
        .any(|c| matches!(c, Command::End { id } if *id == fetch[0].id));
    assert!(
        stopped,
        "the last watcher left, and the GET made for it alone (#{}) goes on: {c:?}",
        fetch[0].id
    );
}

/// Two pages watch Alice's private profile; she logs out. The watched query
/// is kept for nobody now: `refetch` fails it (WatchFailed), but
/// `refetch_dirty` (src/core/engine/watching.rs) refetches one watcher per
/// key and drops the others from `dirty` as served by that fetch: the
/// failure names the first watcher only, and the second hears nothing.
#[test]
fn every_watcher_of_a_private_query_hears_it_fail_after_logout() {
    use mp_request::core::cache::rules::RawRequestCache;
    let mut e = orders();
    e.set_user(Some("alice".into()), 0.0);
    let private = || RawRequest {
        cache: RawRequestCache::Options {
            ttl_ms: Some(10_000.0),
            stale_ms: None,
            tags: vec![],
            private: true,
            reload: false,
        },
        ..get("/api/me/profile")
    };
    let (w1, c) = e.watch(private(), 0.0).unwrap();
    let (w2, _) = e.watch(private(), 1.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("alice"), 10.0)
        .unwrap();
    let out = e.set_user(None, 100.0);
    assert_eq!(timers(&out), 1);
    let mut now = 100.0;
    let mut told: Vec<u32> = Vec::new();
    let mut commands = out;
    for _ in 0..5 {
        if timers(&commands) == 0 {
            break;
        }
        now += f64::from(WATCH_COALESCE_MS);
        commands = e.on_watch_timer(now);
        for c in &commands {
            if let Command::WatchFailed { watches, .. } = c {
                told.extend(watches);
            }
        }
    }
    assert!(
        told.contains(&w1) && told.contains(&w2),
        "after logout, the failure reached {told:?} of the watchers [{w1}, {w2}]"
    );
}

/// The failure side of "never after a newer one": the page heard v2 (stored
/// by a GET after the push); the GET from before the push (#A, outdated)
/// then fails. `reject_all` (src/core/engine/mod.rs) tells every watcher
/// of its key, outdated or not, heard or not: the page hears an error about
/// a fetch older than the answer it shows.
#[test]
fn an_outdated_fetch_failing_after_a_newer_answer_was_heard_tells_no_watcher() {
    let mut e = orders();
    let (_a, c) = e.start(list(), 0.0).unwrap();
    let a = sends(&c);
    e.invalidate_pushed("/api/order/list").unwrap();
    let (w, c) = e.watch(list(), 5.0).unwrap();
    let newer = sends(&c);
    assert_eq!(newer.len(), 1);
    let done = e
        .on_response(newer[0].id, answer("v2 (after the push)"), 10.0)
        .unwrap();
    assert_eq!(
        watched(&done),
        vec![(vec![w], "v2 (after the push)".to_owned())]
    );
    let failed = e
        .on_response(
            a[0].id,
            mp_request::core::engine::Answer::status(404, None),
            20.0,
        )
        .unwrap();
    let told: Vec<_> = failed
        .iter()
        .filter_map(|c| match c {
            Command::WatchFailed { watches, error } => Some((watches.clone(), error.clone())),
            _ => None,
        })
        .collect();
    assert!(
        told.is_empty(),
        "after hearing #{}'s answer, the watcher hears #{} (begun before the push) fail: {told:?}",
        newer[0].id,
        a[0].id
    );
}
