//! Second hostile review of issue 21 item 2 (watched queries + pushed
//! invalidations, after commit 065dd9f): each test shows a defect that
//! commit introduced or left (each failed before its fix), natively under a
//! virtual clock.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawRequestCache, RawRule};
use mp_request::core::cache::validator::Validator;
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

/// Order lists cached for 10 s (stale for a minute).
fn orders() -> Engine<String> {
    let mut raw = cloud_config();
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

fn list() -> RawRequest {
    get("/api/order/list")
}

fn resolved(commands: &[Command<String>]) -> Option<(bool, bool, String)> {
    commands.iter().find_map(|c| match c {
        Command::Resolve(s, v) => Some((s.from_cache, s.stale, v.clone())),
        _ => None,
    })
}

fn with_etag(value: &str, tag: &str) -> Answer<String> {
    Answer {
        validator: Validator::of(Some(tag), None),
        ..answer(value)
    }
}

/// A socket that reconnects while the watcher's revalidation (begun after the
/// first open) is in flight: the watcher is deferred until that fetch ends.
/// It ends with a 304, and `revalidated` (src/core/engine/revalidation.rs)
/// never calls `serve_the_unserved`: the watcher stays in `dirty` with no
/// timer armed. Worse, it stays there for good: every later mark
/// (`mark_dirty`) finds it already dirty and arms nothing, so later opens and
/// pushes about the list never fetch it again.
#[test]
fn a_304_ending_the_fetch_a_deferred_watcher_waits_for_asks_it_again() {
    let mut e = orders();
    let (w, c) = e.watch(list(), 0.0).unwrap();
    e.on_response(sends(&c)[0].id, with_etag("v1", "\"v1\""), 10.0)
        .unwrap();
    // The socket opens: the watched list is revalidated.
    assert_eq!(timers(&e.socket_opened()), 1);
    let first = sends(&e.on_watch_timer(100.0));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].header("If-None-Match"), Some("\"v1\""));
    // It drops and reconnects at once, while that revalidation is out: pushes
    // sent meanwhile were lost, so the list must be asked after this open.
    assert_eq!(timers(&e.socket_opened()), 1);
    let deferred = e.on_watch_timer(200.0);
    assert!(
        sends(&deferred).is_empty(),
        "the older fetch is relied on first"
    );
    // The revalidation (begun before the reopen) says nothing changed.
    let done = e
        .on_response(first[0].id, Answer::status(304, None), 250.0)
        .unwrap();
    let mut after_reopen = sends(&done);
    let mut now = 250.0;
    let mut pending_timer = timers(&done) > 0;
    // Anything that follows: the timer, and later opens and pushes about the list.
    for round in 0..3 {
        if pending_timer {
            now += f64::from(WATCH_COALESCE_MS);
            let c = e.on_watch_timer(now);
            after_reopen.extend(sends(&c));
            pending_timer = timers(&c) > 0;
        }
        if !after_reopen.is_empty() {
            break;
        }
        now += 1000.0;
        let c = if round == 0 {
            e.socket_opened()
        } else {
            e.invalidate_pushed("/api/order/list").unwrap().1
        };
        pending_timer |= timers(&c) > 0;
    }
    assert!(
        !after_reopen.is_empty(),
        "watcher {w}: the socket reopened at 200 ms, the fetch it waited for ended with a 304 at \
         250 ms, and the list was never asked again, not even after a third open and two pushes \
         about it (no WaitWatch was ever armed again)"
    );
}

/// A caller's GET of the list is in flight; the page watches it too. A push
/// says the list changed: the GET is not outdated (a watched key's fetch goes
/// on and is heard, `invalidate_selected`, src/core/engine/watching.rs), on
/// the promise that the watcher asks again after it. The page closes
/// (unwatch) before the GET answers: no one asks again, and the pre-push
/// answer is stored fresh for the whole TTL. Any later request is served the
/// list from before the push, as fresh, and a page that watches it again
/// hears it with no fetch. Before 065dd9f the push outdated that GET.
#[test]
fn unwatching_before_the_deferred_fetch_ends_leaves_pre_push_data_fresh() {
    let mut e = orders();
    let (_caller, c) = e.start(list(), 0.0).unwrap();
    let get = sends(&c);
    assert_eq!(get.len(), 1);
    let (w, c) = e.watch(list(), 1.0).unwrap();
    assert!(
        sends(&c).is_empty(),
        "the watcher relies on the GET in flight"
    );
    // An order is created; the service pushes.
    let (_, pushed) = e.invalidate_pushed("/api/order/list").unwrap();
    let _ = pushed;
    // The page closes.
    let (found, _) = e.unwatch(w, 20.0);
    assert!(found);
    // The GET read the list before the order.
    e.on_response(get[0].id, answer("list before the order"), 30.0)
        .unwrap();
    // A second later another page asks for the list.
    let (_, c) = e.start(list(), 1000.0).unwrap();
    let served = resolved(&c);
    assert!(
        !matches!(&served, Some((true, false, v)) if v == "list before the order"),
        "a GET after the push is served the list from before it as fresh from the cache: {served:?}"
    );
}

/// The same with a user change: the GET in flight is Alice's; the push (for
/// Alice) leaves it going because she has a watcher; `setUser('bob')` moves
/// the watcher to Bob's partition before it answers. Alice's pre-push list
/// is stored fresh in her partition and no watcher of hers asks again; when
/// Alice comes back, her watcher hears the pre-push list from the cache as
/// fresh and nothing is fetched.
#[test]
fn a_user_change_during_the_deferred_fetch_leaves_pre_push_data_fresh() {
    let mut e = orders();
    e.set_user(Some("alice".into()), 0.0);
    let (_caller, c) = e.start(list(), 0.0).unwrap();
    let get = sends(&c);
    assert_eq!(get.len(), 1);
    let (w, c) = e.watch(list(), 1.0).unwrap();
    assert!(sends(&c).is_empty());
    let (_, pushed) = e.invalidate_pushed("/api/order/list").unwrap();
    assert_eq!(timers(&pushed), 1);
    // Bob logs in before Alice's GET answers; his list is fetched when the timer fires.
    e.set_user(Some("bob".into()), 10.0);
    let bob = sends(&e.on_watch_timer(51.0));
    assert_eq!(bob.len(), 1);
    e.on_response(get[0].id, answer("alice before the order"), 70.0)
        .unwrap();
    e.on_response(bob[0].id, answer("bob"), 80.0).unwrap();
    // Alice comes back a second later.
    let back = e.set_user(Some("alice".into()), 1000.0);
    let mut fetched = sends(&back);
    if timers(&back) > 0 {
        fetched.extend(sends(&e.on_watch_timer(1050.0)));
    }
    let heard = watched(&back);
    assert!(
        !fetched.is_empty()
            || !heard
                .iter()
                .any(|(ws, v)| ws.contains(&w) && v == "alice before the order"),
        "Alice's watcher hears her list from before the push as fresh and nothing asks again: \
         heard {heard:?}, fetched {fetched:?}"
    );
}

/// The watcher's own refetch after the push fails (a 404, say): the answer
/// of the GET begun before the push was stored fresh and stays so for the
/// full TTL, served to every other request as fresh although the service
/// said the list changed. Before 065dd9f that GET stored nothing.
#[test]
fn a_failed_refetch_after_a_push_leaves_the_pre_push_answer_fresh() {
    let mut e = orders();
    let (_caller, c) = e.start(list(), 0.0).unwrap();
    let get = sends(&c);
    let (w, _) = e.watch(list(), 1.0).unwrap();
    let (_, c) = e.invalidate_pushed("/api/order/list").unwrap();
    assert_eq!(timers(&c), 1);
    assert!(sends(&e.on_watch_timer(51.0)).is_empty(), "deferred");
    let done = e
        .on_response(get[0].id, answer("list before the order"), 100.0)
        .unwrap();
    assert_eq!(
        watched(&done),
        vec![(vec![w], "list before the order".to_owned())]
    );
    assert_eq!(timers(&done), 1);
    let again = sends(&e.on_watch_timer(150.0));
    assert_eq!(again.len(), 1, "asked again after the push");
    e.on_response(again[0].id, Answer::status(404, None), 200.0)
        .unwrap();
    // Another page asks for the list 5 s later.
    let (_, c) = e.start(list(), 5000.0).unwrap();
    let served = resolved(&c);
    assert!(
        !matches!(&served, Some((true, false, v)) if v == "list before the order"),
        "5 s after a push, the list from before it is served as fresh: {served:?}"
    );
}

/// docs/cache.md (Invalidation): "A GET still in flight when its entries are
/// invalidated does not store its (possibly outdated) answer. New requests do
/// not join it." With a watcher on the key, `client.invalidate`
/// (`invalidate_watched`) leaves the GET shared: a request made right AFTER
/// the invalidation joins the GET made before it and gets its answer.
#[test]
fn a_request_after_client_invalidate_does_not_join_the_get_from_before_it() {
    let mut e = orders();
    let (_first, c) = e.start(list(), 0.0).unwrap();
    let get = sends(&c);
    assert_eq!(get.len(), 1);
    let (_w, _) = e.watch(list(), 1.0).unwrap();
    let _ = e.invalidate_watched(&mp_request::core::engine::Invalidate::Prefix(
        "/api/order/".into(),
    ));
    // The app invalidated, then asks: it means to get the list from now on.
    let (second, c) = e.start(list(), 5.0).unwrap();
    let own = sends(&c);
    let done = e
        .on_response(get[0].id, answer("list before the invalidation"), 30.0)
        .unwrap();
    let joined = done.iter().any(|c| {
        matches!(c, Command::Resolve(s, v)
        if s.id == second && v == "list before the invalidation")
    });
    assert!(
        !joined && !own.is_empty(),
        "the request made after client.invalidate joined the GET from before it and got its \
         answer (its own sends: {own:?})"
    );
}

/// A private watched query (`cache: { private: true }`, cached per user)
/// after logout (`setUser(null)`): no user is known, so its plan shares but
/// stores nothing. Each refetch stores nothing, so the watcher is never
/// served, `serve_the_unserved` marks it again, and the coalescing timer
/// sends another GET: a GET every 50 ms + latency, for as long as the page
/// stays open, each answer dropped.
#[test]
fn a_private_watch_after_logout_does_not_refetch_forever() {
    let mut e = orders();
    e.set_user(Some("alice".into()), 0.0);
    let private = RawRequest {
        cache: RawRequestCache::Options {
            ttl_ms: Some(10_000.0),
            stale_ms: None,
            tags: vec![],
            private: true,
            reload: false,
        },
        ..get("/api/me/profile")
    };
    let (_w, c) = e.watch(private, 0.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("alice"), 10.0)
        .unwrap();
    // Logout.
    let mut commands = e.set_user(None, 100.0);
    let mut now = 100.0;
    let mut gets = 0;
    while now < 2100.0 {
        if timers(&commands) > 0 {
            now += f64::from(WATCH_COALESCE_MS);
            commands = e.on_watch_timer(now);
            continue;
        }
        let out = sends(&commands);
        if out.is_empty() {
            break;
        }
        gets += out.len();
        now += 20.0;
        commands = Vec::new();
        for s in out {
            commands.extend(e.on_response(s.id, answer("anonymous"), now).unwrap());
        }
    }
    assert!(
        gets <= 1,
        "two seconds after logout, {gets} GETs of the private watched query were sent (and \
         still going)"
    );
}

/// The emulator (and docs/live.md's service) pushes as soon as the change
/// ran, before its answer is on the way: the watching client's own POST is
/// answered after the push. The push's refetch is out by then (begun after
/// the change); the POST's configured invalidation (`Engine::invalidate`,
/// src/core/engine/mod.rs, which still outdates watched keys' fetches) drops
/// that GET's answer and `watched_entries_gone` sends a second GET while the
/// first is in flight: two GETs in flight for one watched key, against "a
/// query has one fetch in flight however fast frames come" (docs/live.md).
#[test]
fn a_post_answered_after_its_push_does_not_stack_a_second_get_for_the_watched_list() {
    use mp_request::core::cache::rules::RawInvalidation;
    let mut raw = cloud_config();
    raw.cache = Some(RawCacheConfig {
        rules: vec![rule("/api/order/list", "orders")],
        invalidations: vec![RawInvalidation {
            method: Some("POST".into()),
            path: "/api/order/create".into(),
            prefixes: vec!["/api/order/list".into()],
            tags: vec![],
        }],
        ..RawCacheConfig::default()
    });
    let mut e = Engine::new(raw.validate().unwrap(), platform(), 1);
    let (id, _) = e.start(get("/api/warm"), 0.0).unwrap();
    e.on_init(Ok(()), 0.0);
    e.on_response(id, answer("warm"), 0.0).unwrap();

    let (_w, c) = e.watch(list(), 0.0).unwrap();
    e.on_response(sends(&c)[0].id, answer("v0"), 10.0).unwrap();
    let (_, c) = e.start(post("/api/order/create"), 100.0).unwrap();
    let create = sends(&c);
    assert_eq!(create.len(), 1);
    // The order ran; the service pushes, then answers.
    let (_, c) = e.invalidate_pushed("/api/order/list").unwrap();
    assert_eq!(timers(&c), 1);
    let first = sends(&e.on_watch_timer(160.0));
    assert_eq!(first.len(), 1, "the push's refetch");
    let done = e
        .on_response(create[0].id, answer("created"), 200.0)
        .unwrap();
    let mut second = sends(&done);
    if timers(&done) > 0 {
        second.extend(sends(&e.on_watch_timer(250.0)));
    }
    assert!(
        second.is_empty(),
        "the GET begun after the change (#{}) is still in flight, yet another one went out: {:?}",
        first[0].id,
        second.iter().map(|s| s.id).collect::<Vec<_>>()
    );
}
