//! The cache inside the engine, natively under a virtual clock: hits, request
//! sharing, stale-while-revalidate, user partitions, invalidation.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawInvalidation, RawRequestCache, RawRule};
use mp_request::core::engine::{ByHandle, Command, Engine, Invalidate};
use mp_request::core::error::ErrorKind;
use mp_request::core::request::RawRequest;
use support::{answer, cloud_config, platform, reset};

type E = Engine<String>;

fn engine(cache: RawCacheConfig) -> E {
    let mut raw = cloud_config();
    raw.cache = Some(cache);
    let mut e = Engine::new(raw.validate().unwrap(), platform(), 1);
    // Get the shared cloud init out of the way.
    let (_, c) = e.start(req("/warm", None), 0.0).unwrap();
    assert!(matches!(c[0], Command::InitCloud { .. }));
    let warm = sends(&e.on_init(Ok(()), 0.0))[0];
    e.on_response(warm, answer("warm"), 0.0).unwrap();
    assert_eq!(e.in_flight(), 0);
    e
}

fn rules() -> RawCacheConfig {
    RawCacheConfig {
        rules: vec![RawRule {
            path: "/api/home/*".into(),
            ttl_ms: Some(1000.0),
            stale_ms: Some(5000.0),
            tags: vec!["home".into()],
        }],
        invalidations: vec![RawInvalidation {
            method: Some("POST".into()),
            path: "/api/order/*".into(),
            prefixes: vec!["/api/order/list".into()],
            tags: vec![],
        }],
        ..RawCacheConfig::default()
    }
}

fn req(path: &str, data: Option<&str>) -> RawRequest {
    RawRequest {
        path: path.into(),
        data_json: data.map(str::to_owned),
        ..RawRequest::default()
    }
}

fn with_cache(path: &str, cache: RawRequestCache) -> RawRequest {
    RawRequest {
        cache,
        ..req(path, None)
    }
}

fn ttl(ms: f64) -> RawRequestCache {
    RawRequestCache::Options {
        ttl_ms: Some(ms),
        stale_ms: None,
        tags: vec![],
        private: false,
        reload: false,
    }
}

fn sends(commands: &[Command<String>]) -> Vec<u32> {
    commands
        .iter()
        .filter_map(|c| {
            if let Command::Send(s) = c {
                Some(s.id)
            } else {
                None
            }
        })
        .collect()
}

fn resolved(commands: &[Command<String>]) -> Vec<(u32, String, bool, bool)> {
    commands
        .iter()
        .filter_map(|c| {
            if let Command::Resolve(s, v) = c {
                Some((s.id, v.clone(), s.from_cache, s.stale))
            } else {
                None
            }
        })
        .collect()
}

/// Starts a GET, answers it with `value`, returns all commands seen.
fn fetch(e: &mut E, r: RawRequest, value: &str, now: f64) -> Vec<Command<String>> {
    let (_, mut commands) = e.start(r, now).unwrap();
    if let Some(id) = sends(&commands).first().copied() {
        commands.extend(e.on_response(id, answer(value), now).unwrap());
    }
    commands
}

#[test]
fn a_fresh_hit_resolves_at_once_with_the_stored_value_and_sends_nothing() {
    let mut e = engine(rules());
    let first = fetch(&mut e, req("/api/home/init", None), "home-v1", 10.0);
    assert_eq!(sends(&first).len(), 1);
    let (_, hit) = e.start(req("/api/home/init", None), 500.0).unwrap();
    assert!(sends(&hit).is_empty());
    let (_, value, from_cache, stale) = resolved(&hit)[0].clone();
    assert_eq!(
        (value.as_str(), from_cache, stale),
        ("home-v1", true, false)
    );
    assert!(matches!(hit.last(), Some(Command::End { .. })));
    let stats = e.cache_stats();
    assert_eq!((stats.entries, stats.hits, stats.bytes), (1, 1, 7));
}

#[test]
fn data_key_order_does_not_matter() {
    let mut e = engine(rules());
    fetch(
        &mut e,
        req("/api/home/list", Some(r#"{"a":1,"b":2}"#)),
        "v",
        0.0,
    );
    let (_, hit) = e
        .start(req("/api/home/list", Some(r#"{"b":2,"a":1}"#)), 1.0)
        .unwrap();
    assert_eq!(resolved(&hit).len(), 1);
    let (_, miss) = e
        .start(req("/api/home/list", Some(r#"{"a":2,"b":1}"#)), 1.0)
        .unwrap();
    assert_eq!(sends(&miss).len(), 1);
}

#[test]
fn a_hundred_identical_gets_share_one_send_and_all_get_the_answer() {
    let mut e = engine(RawCacheConfig::default());
    let mut ids = Vec::new();
    let mut all_sends = Vec::new();
    for _ in 0..100 {
        let (id, c) = e
            .start(req("/api/order/list", Some(r#"{"page":1}"#)), 0.0)
            .unwrap();
        ids.push(id);
        all_sends.extend(sends(&c));
    }
    assert_eq!(all_sends.len(), 1);
    assert_eq!(e.in_flight(), 100);
    let done = e.on_response(all_sends[0], answer("list"), 5.0).unwrap();
    let got = resolved(&done);
    assert_eq!(got.len(), 100);
    assert!(got
        .iter()
        .all(|(_, v, from_cache, _)| v == "list" && !from_cache));
    assert_eq!(e.in_flight(), 0);
    assert_eq!(e.cache_stats().entries, 0, "no TTL: shared, not stored");
}

#[test]
fn an_error_reaches_every_sharer() {
    let mut e = engine(RawCacheConfig::default());
    let mut send = None;
    for _ in 0..3 {
        let mut r = req("/x", None);
        r.retry = Some(mp_request::core::config::RawRetry::Disabled);
        let (_, c) = e.start(r, 0.0).unwrap();
        send = send.or(sends(&c).first().copied());
    }
    let out = e.on_failure(send.unwrap(), reset(), 1.0).unwrap();
    let rejected = out
        .iter()
        .filter(|c| matches!(c, Command::Reject(_, err) if err.kind() == ErrorKind::Network))
        .count();
    assert_eq!(rejected, 3);
}

#[test]
fn one_caller_cancelling_leaves_the_others_and_the_last_one_aborts() {
    let mut e = engine(RawCacheConfig::default());
    let (leader, c) = e.start(req("/x", None), 0.0).unwrap();
    let send = sends(&c)[0];
    let (second, _) = e.start(req("/x", None), 0.0).unwrap();
    let (third, _) = e.start(req("/x", None), 0.0).unwrap();
    let out = e.cancel(leader, 1.0);
    assert!(
        matches!(&out[..], [Command::Reject(s, err)] if s.id == leader && err.kind() == ErrorKind::Cancelled),
        "{out:?}"
    );
    e.cancel(second, 1.0);
    let done = e.on_response(send, answer("v"), 2.0).unwrap();
    assert_eq!(
        resolved(&done).iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![third]
    );
    // All callers gone: the fetch is aborted.
    let (only, c) = e.start(req("/y", None), 3.0).unwrap();
    let out = e.cancel(only, 4.0);
    assert!(
        out.contains(&Command::Abort { id: sends(&c)[0] })
            && out.contains(&Command::End { id: only })
    );
}

#[test]
fn cache_false_opts_out_of_sharing() {
    let mut e = engine(RawCacheConfig::default());
    let (_, a) = e
        .start(with_cache("/x", RawRequestCache::Off), 0.0)
        .unwrap();
    let (_, b) = e
        .start(with_cache("/x", RawRequestCache::Off), 0.0)
        .unwrap();
    assert_eq!(sends(&a).len() + sends(&b).len(), 2);
}

#[test]
fn stale_values_are_served_at_once_while_one_refresh_runs() {
    let mut e = engine(rules());
    fetch(&mut e, req("/api/home/init", None), "v1", 0.0);
    // TTL 1000, stale window 5000: at 2000 it is stale.
    let (_, first) = e.start(req("/api/home/init", None), 2000.0).unwrap();
    let got = resolved(&first);
    assert_eq!((got[0].1.as_str(), got[0].2, got[0].3), ("v1", true, true));
    let refresh = sends(&first);
    assert_eq!(refresh.len(), 1, "one background refresh");
    for _ in 0..5 {
        let (_, again) = e.start(req("/api/home/init", None), 2001.0).unwrap();
        assert!(sends(&again).is_empty(), "no second refresh");
        assert!(resolved(&again)[0].3, "still the stale value");
    }
    let done = e.on_response(refresh[0], answer("v2"), 2100.0).unwrap();
    assert!(resolved(&done).is_empty(), "the refresh has no caller");
    let (_, fresh) = e.start(req("/api/home/init", None), 2200.0).unwrap();
    assert_eq!(resolved(&fresh)[0].1, "v2");
    assert_eq!(e.cache_stats().stale_serves, 6);
    // Past the stale window: a miss.
    let (_, late) = e.start(req("/api/home/init", None), 9000.0).unwrap();
    assert!(resolved(&late).is_empty() && sends(&late).len() == 1);
}

#[test]
fn users_never_see_each_others_entries() {
    let mut e = engine(rules());
    e.set_user(Some("alice".into()), 0.0);
    fetch(&mut e, req("/api/home/init", None), "alice's home", 0.0);
    e.set_user(Some("bob".into()), 0.0);
    let (_, bob) = e.start(req("/api/home/init", None), 1.0).unwrap();
    assert!(resolved(&bob).is_empty(), "bob misses");
    let send = sends(&bob)[0];
    e.on_response(send, answer("bob's home"), 2.0).unwrap();
    e.set_user(Some("alice".into()), 0.0);
    let (_, alice) = e.start(req("/api/home/init", None), 3.0).unwrap();
    assert_eq!(resolved(&alice)[0].1, "alice's home");
}

#[test]
fn the_openid_the_backend_returns_becomes_the_partition() {
    let mut e = engine(rules());
    let (_, c) = e.start(req("/api/home/init", None), 0.0).unwrap();
    let mut a = answer("o-1 home");
    a.user = Some("o-1".into());
    e.on_response(sends(&c)[0], a, 1.0).unwrap();
    assert_eq!(e.user(), "o-1");
    let (_, hit) = e.start(req("/api/home/init", None), 2.0).unwrap();
    assert_eq!(resolved(&hit)[0].1, "o-1 home");
    e.set_user(Some("o-2".into()), 0.0);
    let (_, other) = e.start(req("/api/home/init", None), 3.0).unwrap();
    assert!(resolved(&other).is_empty());
}

#[test]
fn a_request_in_flight_under_one_user_is_not_joined_by_another() {
    let mut e = engine(RawCacheConfig::default());
    e.set_user(Some("alice".into()), 0.0);
    let (_, a) = e.start(req("/me", None), 0.0).unwrap();
    e.set_user(Some("bob".into()), 0.0);
    let (_, b) = e.start(req("/me", None), 0.0).unwrap();
    assert_eq!(sends(&a).len() + sends(&b).len(), 2);
}

#[test]
fn credentials_are_cached_only_when_private_and_a_user_is_known() {
    let mut e = engine(rules());
    let auth = |cache| RawRequest {
        headers: vec![("Authorization".into(), "Bearer t".into())],
        cache,
        ..req("/api/home/me", None)
    };
    fetch(&mut e, auth(RawRequestCache::Default), "me", 0.0);
    assert_eq!(e.cache_stats().entries, 0);
    let private = RawRequestCache::Options {
        ttl_ms: None,
        stale_ms: None,
        tags: vec![],
        private: true,
        reload: false,
    };
    fetch(&mut e, auth(private.clone()), "me", 0.0);
    assert_eq!(e.cache_stats().entries, 0, "anonymous: not cached");
    e.set_user(Some("u".into()), 0.0);
    fetch(&mut e, auth(private.clone()), "me", 0.0);
    assert_eq!(e.cache_stats().entries, 1);
}

#[test]
fn reload_refetches_and_replaces() {
    let mut e = engine(rules());
    fetch(&mut e, req("/api/home/init", None), "v1", 0.0);
    let reload = RawRequestCache::Options {
        ttl_ms: None,
        stale_ms: None,
        tags: vec![],
        private: false,
        reload: true,
    };
    let out = fetch(&mut e, with_cache("/api/home/init", reload), "v2", 1.0);
    assert!(!resolved(&out)[0].2, "from the network");
    let (_, hit) = e.start(req("/api/home/init", None), 2.0).unwrap();
    assert_eq!(resolved(&hit)[0].1, "v2");
}

#[test]
fn invalidation_by_prefix_tag_and_mutation() {
    let mut e = engine(rules());
    fetch(&mut e, req("/api/home/init", None), "home", 0.0);
    fetch(
        &mut e,
        with_cache("/api/order/list", ttl(60_000.0)),
        "orders",
        0.0,
    );
    fetch(
        &mut e,
        with_cache("/api/order/7", ttl(60_000.0)),
        "order 7",
        0.0,
    );
    assert_eq!(e.invalidate(&Invalidate::Tag("home".into())), 1);
    let post = RawRequest {
        method: Some("POST".into()),
        ..req("/api/order/create", Some("{}"))
    };
    fetch(&mut e, post, "created", 1.0);
    let (_, list) = e
        .start(with_cache("/api/order/list", ttl(60_000.0)), 2.0)
        .unwrap();
    assert!(
        resolved(&list).is_empty(),
        "POST /api/order/* invalidated the list"
    );
    let (_, seven) = e
        .start(with_cache("/api/order/7", ttl(60_000.0)), 2.0)
        .unwrap();
    assert_eq!(resolved(&seven).len(), 1, "other orders stay");
    let put = RawRequest {
        method: Some("PUT".into()),
        ..req("/api/order/7", Some("{}"))
    };
    fetch(&mut e, put, "updated", 3.0);
    let (_, seven) = e
        .start(with_cache("/api/order/7", ttl(60_000.0)), 4.0)
        .unwrap();
    assert!(
        resolved(&seven).is_empty(),
        "a mutation invalidates its own path"
    );
    assert_eq!(e.invalidate(&Invalidate::Prefix("/api/".into())), 0);
}

#[test]
fn an_answer_outdated_by_a_mutation_in_flight_is_not_stored() {
    let mut e = engine(rules());
    let (_, list) = e
        .start(with_cache("/api/order/list", ttl(60_000.0)), 0.0)
        .unwrap();
    let post = RawRequest {
        method: Some("POST".into()),
        ..req("/api/order/create", Some("{}"))
    };
    fetch(&mut e, post, "created", 1.0);
    let (_, joined) = e
        .start(with_cache("/api/order/list", ttl(60_000.0)), 1.5)
        .unwrap();
    assert_eq!(
        sends(&joined).len(),
        1,
        "a new request does not join the outdated fetch"
    );
    e.on_response(sends(&list)[0], answer("old list"), 2.0)
        .unwrap();
    e.on_response(sends(&joined)[0], answer("new list"), 2.0)
        .unwrap();
    let (_, hit) = e
        .start(with_cache("/api/order/list", ttl(60_000.0)), 3.0)
        .unwrap();
    assert_eq!(resolved(&hit)[0].1, "new list");
}

#[test]
fn an_aborted_request_is_never_served_even_from_the_cache() {
    let mut e = engine(rules());
    fetch(&mut e, req("/api/home/init", None), "v", 0.0);
    let mut aborted = req("/api/home/init", None);
    aborted.aborted = true;
    let (_, out) = e.start(aborted, 1.0).unwrap();
    assert!(matches!(out[0], Command::Reject(_, ref err) if err.kind() == ErrorKind::Cancelled));
}

fn persisting() -> RawCacheConfig {
    RawCacheConfig {
        persist: Some(true),
        persist_max_bytes: Some(20.0),
        ..rules()
    }
}

#[test]
fn changes_schedule_one_save_and_a_snapshot_respects_the_byte_budget() {
    let mut e = engine(persisting());
    let first = fetch(&mut e, req("/api/home/a", None), "aaaaaaaaaa", 0.0);
    assert!(first.contains(&Command::Persist { delay_ms: 1000 }));
    let second = fetch(&mut e, req("/api/home/b", None), "bbbbbbbbbb", 1.0);
    assert!(
        !second.iter().any(|c| matches!(c, Command::Persist { .. })),
        "one save for both"
    );
    fetch(&mut e, req("/api/home/c", None), "cccccccccc", 2.0);
    let (user, entries) = e.snapshot(3.0);
    assert_eq!(user, None);
    let values: Vec<&str> = entries
        .iter()
        .map(|(_, entry)| entry.value.as_str())
        .collect();
    assert_eq!(
        values,
        ["cccccccccc", "bbbbbbbbbb"],
        "most recent first, 20 bytes at most"
    );
    assert!(!e.persist_due());
    let later = fetch(&mut e, req("/api/home/d", None), "d", 4.0);
    assert!(
        later.contains(&Command::Persist { delay_ms: 1000 }),
        "due again after a snapshot"
    );
}

#[test]
fn a_snapshot_restores_into_a_new_engine_with_the_learnt_user_and_without_expired_entries() {
    let mut e = engine(RawCacheConfig {
        persist: Some(true),
        ..rules()
    });
    let (_, c) = e.start(req("/api/home/init", None), 0.0).unwrap();
    let mut a = answer("home of o-1");
    a.user = Some("o-1".into());
    e.on_response(sends(&c)[0], a, 0.0).unwrap();
    fetch(&mut e, req("/api/home/old", None), "old", 0.0);
    let (user, entries) = e.snapshot(100.0);
    let saved: Vec<(String, mp_request::core::cache::store::Entry<String>)> = entries
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(user, Some("o-1"));
    let mut fresh = engine(RawCacheConfig {
        persist: Some(true),
        ..rules()
    });
    assert_eq!(
        fresh.restore(user.map(str::to_owned), saved.clone(), 200.0),
        2
    );
    assert_eq!(fresh.user(), "o-1");
    let (_, hit) = fresh.start(req("/api/home/init", None), 300.0).unwrap();
    assert_eq!(resolved(&hit)[0].1, "home of o-1");
    let mut late = engine(RawCacheConfig {
        persist: Some(true),
        ..rules()
    });
    assert_eq!(
        late.restore(None, saved, 10_000.0),
        0,
        "past the stale window: skipped"
    );
}

#[test]
fn handles_serve_fresh_values_only_and_a_user_switch_voids_them() {
    let mut e = engine(rules());
    fetch(&mut e, req("/api/home/init", None), "v1", 0.0);
    let (_, h, hit) = e
        .start_with_handle(req("/api/home/init", None), 0.5)
        .unwrap();
    assert!(matches!(hit[0], Command::Resolve(ref s, _) if s.from_cache));
    let h = h.expect("a cached path has a handle");
    assert_eq!(e.by_handle(h, 1.0), ByHandle::Fresh("v1".to_string()));
    assert_eq!(e.cache_stats().hits, 2, "the start, then the handle");
    assert_eq!(
        e.by_handle(h, 2000.0),
        ByHandle::Start,
        "stale: not a hit by handle (start serves it and refreshes)"
    );
    assert_eq!(
        e.cache_stats().stale_serves,
        0,
        "nothing counted for what start will count"
    );
    e.set_user(Some("u".into()), 0.0);
    assert_eq!(
        e.by_handle(h, 1.0),
        ByHandle::Void,
        "another partition: void"
    );
    for bad in [-1.0, 1.5, f64::NAN, 1e12] {
        assert_eq!(e.by_handle(bad, 1.0), ByHandle::Void, "{bad}");
    }
    assert!(
        e.start_with_handle(req("no-slash", None), 1.0).is_err(),
        "invalid: start names it, no handle"
    );
    let (_, none, _) = e.start_with_handle(req("/no/rule", None), 1.0).unwrap();
    assert_eq!(none, None, "no TTL: nothing to look up");
    let first = e
        .start_with_handle(req("/api/home/init", None), 1.0)
        .unwrap()
        .1
        .unwrap();
    for _ in 0..e.handle_capacity() {
        e.start_with_handle(req("/api/home/init", None), 1.0)
            .unwrap();
    }
    assert_eq!(
        e.by_handle(first, 1.0),
        ByHandle::Void,
        "bounded: old handles are voided"
    );
}

#[test]
fn plain_starts_register_no_handles() {
    let mut e = engine(rules());
    fetch(&mut e, req("/api/home/init", None), "v1", 0.0);
    let (_, h, _) = e
        .start_with_handle(req("/api/home/init", None), 1.0)
        .unwrap();
    let h = h.expect("a handle");
    for _ in 0..=e.handle_capacity() {
        e.start(req("/api/home/init", None), 1.0).unwrap();
    }
    assert_eq!(
        e.by_handle(h, 1.0),
        ByHandle::Fresh("v1".to_string()),
        "a full table's worth of plain starts voided nothing"
    );
}

#[test]
fn every_key_a_full_cache_holds_can_keep_its_handle() {
    assert_eq!(engine(rules()).handle_capacity(), 4096, "the floor");
    let mut raw = rules();
    raw.max_entries = Some(100_000.0);
    let e = engine(raw);
    assert!(e.handle_capacity() >= 100_000, "{}", e.handle_capacity());
}

#[test]
fn requests_with_headers_and_options_have_handles_where_they_may_be_looked_up() {
    let mut e = engine(rules());
    let with = |headers: &[(&str, &str)], cache: RawRequestCache| RawRequest {
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        cache,
        priority: Some("high".into()),
        ..req("/api/home/init", None)
    };
    // Headers are part of the key: the same ones, the same entry.
    fetch(
        &mut e,
        with(&[("X-App", "1")], RawRequestCache::Default),
        "v1",
        0.0,
    );
    // The headers and options were checked and planned at the start: a handle.
    let (_, h, hit) = e
        .start_with_handle(with(&[("X-App", "1")], RawRequestCache::Default), 1.0)
        .unwrap();
    assert!(
        matches!(hit[0], Command::Resolve(ref s, _) if s.from_cache),
        "{hit:?}"
    );
    assert_eq!(
        e.by_handle(h.expect("a handle"), 2.0),
        ByHandle::Fresh("v1".into())
    );
    let (_, h, _) = e.start_with_handle(with(&[], ttl(60_000.0)), 1.0).unwrap();
    assert!(h.is_some(), "a per-request ttl still looks up");
    // Credentials without `private` are never looked up: no handle to stand for them.
    let (_, h, _) = e
        .start_with_handle(
            with(&[("Authorization", "Bearer t")], RawRequestCache::Default),
            1.0,
        )
        .unwrap();
    assert_eq!(
        h, None,
        "a credential without private: no lookup, no handle"
    );
    let (_, h, _) = e
        .start_with_handle(with(&[("X-App", "1")], RawRequestCache::Off), 1.0)
        .unwrap();
    assert_eq!(h, None, "cache: false: no handle");
}

#[test]
fn a_get_is_keyed_by_its_query_as_sent() {
    let mut e = engine(rules());
    fetch(
        &mut e,
        req("/api/home/init", Some(r#"{"b":2,"a":1}"#)),
        "v1",
        0.0,
    );
    for same in [r#"{"a":1,"b":2}"#, r#"{"a":"1","b":"2"}"#] {
        let (_, hit) = e.start(req("/api/home/init", Some(same)), 1.0).unwrap();
        assert!(
            matches!(hit[0], Command::Resolve(ref s, _) if s.from_cache),
            "{same}: the same query reaches the server"
        );
    }
    let (_, other) = e
        .start(req("/api/home/init", Some(r#"{"a":1,"b":3}"#)), 1.0)
        .unwrap();
    assert!(
        matches!(other[0], Command::Send(_)),
        "another query: {other:?}"
    );
}

#[test]
fn a_repeated_query_name_keeps_its_values_order() {
    // The server may take the first or the last `a`: `?a=1` with data {a:2}
    // and `?a=2` with data {a:1} are two requests.
    let mut e = engine(rules());
    fetch(
        &mut e,
        req("/api/home/init?a=1", Some(r#"{"a":2}"#)),
        "v1",
        0.0,
    );
    let (_, other) = e
        .start(req("/api/home/init?a=2", Some(r#"{"a":1}"#)), 1.0)
        .unwrap();
    assert!(
        matches!(other[0], Command::Send(_)),
        "a=2&a=1 is not a=1&a=2: {other:?}"
    );
    let (_, same) = e
        .start(req("/api/home/init?a=1", Some(r#"{"a":2}"#)), 1.0)
        .unwrap();
    assert!(
        matches!(same[0], Command::Resolve(ref s, _) if s.from_cache),
        "the same query: {same:?}"
    );
}

#[test]
fn a_handle_joins_the_fetch_in_flight_as_start_would() {
    let mut e = engine(rules());
    // The first request starts the fetch and gets a handle for its key.
    let (first, h, commands) = e
        .start_with_handle(req("/api/home/init", None), 0.0)
        .unwrap();
    let h = h.expect("a cached path has a handle");
    let fetch = sends(&commands)[0];
    // Repeats by handle while it is in flight: callers of that fetch, nothing sent.
    let ByHandle::Joined(second) = e.by_handle(h, 1.0) else {
        panic!("a fetch in flight is joined");
    };
    let ByHandle::Joined(third) = e.by_handle(h, 2.0) else {
        panic!("and joined again");
    };
    assert!(first != second && second != third && first != third);
    assert_eq!(e.cache_stats().misses, 3, "each join a miss, as a start");
    let answered = e.on_response(fetch, answer("v1"), 5.0).unwrap();
    let ids: Vec<u32> = resolved(&answered).iter().map(|r| r.0).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!([first, second, third].iter().all(|id| ids.contains(id)));
    assert!(resolved(&answered)
        .iter()
        .all(|r| r.1 == "v1" && !r.2 && !r.3));
    // Stored now: the handle answers with the value.
    assert_eq!(e.by_handle(h, 6.0), ByHandle::Fresh("v1".to_string()));
    // Stale with a refresh in flight: start serves the stale value, so the handle says start.
    let (_, stale) = e.start(req("/api/home/init", None), 2000.0).unwrap();
    assert!(resolved(&stale)[0].3, "stale, and a refresh started");
    assert_eq!(e.by_handle(h, 2001.0), ByHandle::Start);
    // Nothing in flight and nothing stored: start it.
    let mut e = engine(rules());
    let (only, h, _) = e
        .start_with_handle(req("/api/home/init", None), 0.0)
        .unwrap();
    let h = h.unwrap();
    e.cancel(only, 1.0);
    assert_eq!(e.by_handle(h, 2.0), ByHandle::Start);
}

#[test]
fn a_request_without_a_cache_rule_gets_a_handle_once_it_joins_and_its_repeats_join_by_it() {
    let mut e = engine(rules());
    // A one-off miss makes no handle.
    let (first, none, commands) = e.start_with_handle(req("/no/rule", None), 0.0).unwrap();
    assert_eq!(none, None, "alone: no handle");
    let fetch = sends(&commands)[0];
    assert_eq!(fetch, first);
    // The first repeat in flight joins through start, and gets a handle for the next ones.
    let (second, h, joined) = e.start_with_handle(req("/no/rule", None), 1.0).unwrap();
    assert_eq!(
        joined,
        vec![Command::End { id: second }],
        "a caller of the fetch"
    );
    let h = h.expect("joined: a handle");
    let ByHandle::Joined(third) = e.by_handle(h, 2.0) else {
        panic!("a repeat joins by handle");
    };
    assert_eq!(
        e.cache_stats().misses,
        0,
        "no cache rule: nothing looked up, nothing counted"
    );
    let answered = e.on_response(fetch, answer("v1"), 5.0).unwrap();
    let ids: Vec<u32> = resolved(&answered).iter().map(|r| r.0).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!([first, second, third].iter().all(|id| ids.contains(id)));
    // Answered and not stored: the handle never serves a value, it starts the request.
    assert_eq!(e.by_handle(h, 6.0), ByHandle::Start);
    let (_, _, again) = e.start_with_handle(req("/no/rule", None), 7.0).unwrap();
    assert_eq!(sends(&again).len(), 1, "fetched again");
}

#[test]
fn a_handle_answers_only_from_an_entry_stored_for_its_own_route_reason() {
    let mut e = engine(rules());
    // Stored by a request that let the engine choose the route.
    fetch(&mut e, req("/api/home/init", None), "v1", 0.0);
    let cloud = || RawRequest {
        route: Some("cloud".into()),
        ..req("/api/home/init", None)
    };
    // The same key with `route: 'cloud'`: start answers with its own reason.
    let (_, h, hit) = e.start_with_handle(cloud(), 1.0).unwrap();
    let Command::Resolve(settled, _) = &hit[0] else {
        panic!("a hit: {hit:?}");
    };
    assert_eq!(settled.reason, "route: 'cloud' requested");
    let h = h.expect("a handle");
    let hits = e.cache_stats().hits;
    assert_eq!(
        e.by_handle(h, 2.0),
        ByHandle::Start,
        "the stored response carries the other reason: start answers"
    );
    assert_eq!(
        e.cache_stats().hits,
        hits,
        "nothing counted for what start counts"
    );
    // Its own request's handle still answers from the entry.
    let (_, own, _) = e
        .start_with_handle(req("/api/home/init", None), 3.0)
        .unwrap();
    assert_eq!(
        e.by_handle(own.unwrap(), 4.0),
        ByHandle::Fresh("v1".to_string())
    );
}
