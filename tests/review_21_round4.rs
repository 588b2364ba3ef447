//! Fourth hostile review of issue 21 item 2 (after commit 0efb94f, "Third
//! review ..."): each test shows a defect of that commit's design (each
//! failed before its fix), natively under a virtual clock.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawRequestCache, RawRule};
use mp_request::core::cache::validator::Validator;
use mp_request::core::config::RawConfig;
use mp_request::core::engine::{Answer, Command, Engine, WATCH_COALESCE_MS};
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

/// Whether `commands` tell watcher `w` anything (a value or a failure).
fn tells(commands: &[Command<String>], w: u32) -> bool {
    commands.iter().any(|c| match c {
        Command::Watched { watches, .. } | Command::WatchFailed { watches, .. } => {
            watches.contains(&w)
        }
        _ => false,
    })
}

/// The failure side of "a stream of invalidations starves no one": a page
/// watches the list (no entry yet) while the server fails every GET, and a
/// push arrives while each refetch is in flight. `reject_all`
/// (src/core/engine/mod.rs) now tells no watcher of an outdated fetch's
/// failure, so the page, which has heard nothing at all, hears nothing
/// however many fetches fail: it waits forever (before 0efb94f it heard
/// the first failure). An outdated success is heard by watchers that heard
/// nothing newer (`heard_from(.., false)`); its failure is not.
#[test]
fn a_watcher_that_heard_nothing_hears_failures_even_under_a_stream_of_pushes() {
    let mut e = orders();
    let (w, c) = e.watch(list(), 0.0).unwrap();
    let mut fetch = sends(&c);
    assert_eq!(fetch.len(), 1);
    let mut told = tells(&c, w);
    let mut now = 0.0;
    for _ in 0..5 {
        // A push while the GET is in flight: it is outdated.
        now += 100.0;
        let (_, c) = e.invalidate_pushed("/api/order/list").unwrap();
        told |= tells(&c, w);
        now += f64::from(WATCH_COALESCE_MS);
        let c = e.on_watch_timer(now);
        told |= tells(&c, w);
        assert!(sends(&c).is_empty(), "one fetch in flight per key");
        // The server fails it (404: not retried).
        now += 100.0;
        let c = e
            .on_response(fetch[0].id, Answer::status(404, None), now)
            .unwrap();
        told |= tells(&c, w);
        // The watcher is asked again.
        now += f64::from(WATCH_COALESCE_MS);
        let c = e.on_watch_timer(now);
        told |= tells(&c, w);
        fetch = sends(&c);
        assert_eq!(fetch.len(), 1, "refetched: {c:?}");
    }
    assert!(
        told,
        "five GETs failed for watcher {w}, which has heard nothing at all, and it was told nothing"
    );
}

/// `follow_user` (src/core/engine/attempt.rs) now drops an unsent GET's
/// `store` when it follows a new user. A watched query's fetch has no
/// caller: once it follows the new user, its answer goes to no caller, no
/// cache entry and no watcher. Yet it is still sent (the slot frees, out it
/// goes under Bob) and its answer is thrown away: a request for no one.
/// (Not introduced by 0efb94f, where Bob's watchers never heard it either;
/// but now it is no one's in every case, and is still sent.)
#[test]
fn a_callerless_watch_fetch_that_follows_a_new_user_is_not_sent_for_no_one() {
    let mut e = with_orders(RawConfig {
        max_concurrent: Some(1.0),
        ..cloud_config()
    });
    e.set_user(Some("alice".into()), 0.0);
    let (_, c) = e.start(get("/api/slow"), 0.0).unwrap();
    let slow = sends(&c);
    assert_eq!(slow.len(), 1);
    let (_w, c) = e.watch(list(), 1.0).unwrap();
    assert!(sends(&c).is_empty(), "queued behind the slow request");
    e.set_user(Some("bob".into()), 2.0);
    let freed = e.on_response(slow[0].id, answer("slow"), 3.0).unwrap();
    let Some(out) = sends(&freed).into_iter().next() else {
        return; // not sent: fine
    };
    let done = e.on_response(out.id, answer("bob's orders"), 5.0).unwrap();
    let used = done
        .iter()
        .any(|c| matches!(c, Command::Resolve(..) | Command::Watched { .. }))
        || e.cache_stats().entries > 1;
    assert!(
        used,
        "#{} was sent under Bob, and its answer reached no caller, no watcher and no entry: {done:?}",
        out.id
    );
}

/// Same setting: the page closes after Bob logged in. `unwatch`
/// (src/core/engine/watching.rs) looks for caller-less fetches of the
/// watcher's key in the current partition (Bob's); the fetch made for it
/// alone is keyed in Alice's, so it is not stopped and goes out when the
/// slot frees. (Missed by the "unwatch stops the fetch made for it alone
/// even once outdated" fix.)
#[test]
fn unwatching_after_set_user_stops_the_watchers_queued_fetch() {
    let mut e = with_orders(RawConfig {
        max_concurrent: Some(1.0),
        ..cloud_config()
    });
    e.set_user(Some("alice".into()), 0.0);
    let (_, c) = e.start(get("/api/slow"), 0.0).unwrap();
    let slow = sends(&c);
    let (w, c) = e.watch(list(), 1.0).unwrap();
    assert!(sends(&c).is_empty(), "queued behind the slow request");
    e.set_user(Some("bob".into()), 2.0);
    let (found, _) = e.unwatch(w, 2.5);
    assert!(found);
    assert_eq!(e.watchers(), 0);
    let freed = e.on_response(slow[0].id, answer("slow"), 3.0).unwrap();
    assert!(
        sends(&freed).is_empty(),
        "no page watches anything, and the closed page's GET goes out: {freed:?}"
    );
}

/// An entry "remembers the fetch that stored (or confirmed) it, so a
/// watcher that read it never hears an older outdated answer". A 304
/// (`revalidated`, src/core/engine/revalidation.rs) notes the confirming
/// fetch only for unserved watchers: a watcher that already held the value
/// keeps the older `heard`. Bob's reload (#O) is outdated by a push made
/// while Alice was current (the entry of Bob's stays); later a refresh #R
/// (begun after that push) confirms Bob's entry with a 304. A push drops
/// it, and #O answers: w (watching since before #R) hears #O's answer,
/// older than #R's confirmation, while w2 (which read the same entry after
/// the 304) does not.
#[test]
fn a_304_confirmation_counts_for_watchers_that_already_held_the_value() {
    let mut e = orders();
    e.set_user(Some("bob".into()), 0.0);
    let etag = Validator::of(Some("\"v1\""), None);
    let (_, c) = e.start(list(), 0.0).unwrap();
    let s = sends(&c);
    e.on_response(
        s[0].id,
        Answer {
            validator: etag,
            ..answer("bob v1")
        },
        1.0,
    )
    .unwrap();
    let (w, c) = e.watch(list(), 2.0).unwrap();
    assert_eq!(watched(&c), vec![(vec![w], "bob v1".to_owned())]);
    // #O: a reload of Bob's list, in flight.
    let reload = RawRequest {
        cache: RawRequestCache::Options {
            ttl_ms: Some(10_000.0),
            stale_ms: Some(60_000.0),
            tags: vec!["orders".into()],
            private: false,
            reload: true,
        },
        ..list()
    };
    let (_, c) = e.start(reload, 3.0).unwrap();
    let o = sends(&c);
    assert_eq!(o.len(), 1, "{c:?}");
    // Alice: a push outdates #O (every partition's fetches), Bob's entry stays.
    e.set_user(Some("alice".into()), 4.0);
    e.invalidate_pushed("/api/order/list").unwrap();
    let c = e.on_watch_timer(4.0 + f64::from(WATCH_COALESCE_MS));
    let g = sends(&c);
    assert_eq!(g.len(), 1);
    e.on_response(g[0].id, answer("alice"), 100.0).unwrap();
    // Bob again: w hears his fresh entry.
    let back = e.set_user(Some("bob".into()), 200.0);
    assert_eq!(watched(&back), vec![(vec![w], "bob v1".to_owned())]);
    // Stale now: a request is served it, and its refresh #R gets a 304.
    let (_, c) = e.start(list(), 10_500.0).unwrap();
    let r = sends(&c);
    assert_eq!(r.len(), 1, "{c:?}");
    assert_eq!(r[0].header("If-None-Match"), Some("\"v1\""));
    assert!(r[0].id > o[0].id);
    e.on_response(r[0].id, Answer::status(304, None), 10_600.0)
        .unwrap();
    // A second page reads the same (confirmed) entry.
    let (w2, c) = e.watch(list(), 10_700.0).unwrap();
    assert_eq!(watched(&c), vec![(vec![w2], "bob v1".to_owned())]);
    // A push drops Bob's entry; #O, begun before #R, answers.
    e.invalidate_pushed("/api/order/list").unwrap();
    let done = e
        .on_response(o[0].id, answer("bob (#O, before #R)"), 10_800.0)
        .unwrap();
    let heard = watched(&done);
    assert!(
        heard.is_empty(),
        "after #{} confirmed 'bob v1' (304), {heard:?} heard #{} (older); w = {w}, w2 = {w2}",
        r[0].id,
        o[0].id
    );
}
