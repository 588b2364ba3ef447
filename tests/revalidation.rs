//! Revalidation (issue 21, item 3), natively under a virtual clock: a stale
//! entry that carried an ETag (or Last-Modified) is refreshed with a
//! conditional request; a 304 makes it fresh again and keeps the stored
//! body; a 200 replaces it; an entry gone meanwhile is asked for whole.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::cache::rules::{RawCacheConfig, RawRule};
use mp_request::core::cache::validator::Validator;
use mp_request::core::engine::{Answer, Command, Engine, Invalidate, Send};
use mp_request::core::request::RawRequest;
use support::*;

/// Fresh for 1 s, then stale (served while a refresh runs) for 10 s.
fn cached() -> Engine<String> {
    let mut raw = cloud_config();
    raw.cache = Some(RawCacheConfig {
        rules: vec![RawRule {
            path: "/api/list/*".into(),
            ttl_ms: Some(1000.0),
            stale_ms: Some(10_000.0),
            tags: vec![],
        }],
        ..RawCacheConfig::default()
    });
    raw.debug = true;
    let mut e = Engine::new(raw.validate().unwrap(), platform(), 1);
    // The cloud init, done once.
    let (id, c) = e.start(get("/api/warm"), 0.0).unwrap();
    assert!(matches!(c[0], Command::InitCloud { .. }));
    e.on_init(Ok(()), 0.0);
    e.on_response(id, answer("warm"), 0.0).unwrap();
    e
}

fn with(value: &str, validator: Option<Validator>) -> Answer<String> {
    Answer {
        validator,
        ..answer(value)
    }
}

fn etag(tag: &str) -> Option<Validator> {
    Validator::of(Some(tag), None)
}

fn send_of(commands: &[Command<String>]) -> Option<Send> {
    commands.iter().find_map(|c| match c {
        Command::Send(s) => Some(s.clone()),
        _ => None,
    })
}

fn resolved(commands: &[Command<String>]) -> Option<(bool, String)> {
    commands.iter().find_map(|c| match c {
        Command::Resolve(s, v) => Some((s.from_cache, v.clone())),
        _ => None,
    })
}

fn list() -> RawRequest {
    get("/api/list/a")
}

/// Stores "v1" with `validator` at t = 10.
fn stored(e: &mut Engine<String>, validator: Option<Validator>) {
    let (id, c) = e.start(list(), 10.0).unwrap();
    let send = send_of(&c).expect("a miss");
    assert_eq!(send.header("If-None-Match"), None);
    e.on_response(id, with("v1", validator), 20.0).unwrap();
}

#[test]
fn a_stale_entry_with_an_etag_is_revalidated_and_a_304_keeps_its_body() {
    let mut e = cached();
    stored(&mut e, etag("\"v1\""));
    // Stale at 2 s: served at once, and the refresh asks whether it changed.
    let (_, c) = e.start(list(), 2000.0).unwrap();
    assert_eq!(resolved(&c), Some((true, "v1".into())));
    let refresh = send_of(&c).expect("a background refresh");
    assert_eq!(refresh.header("If-None-Match"), Some("\"v1\""));
    let done = e
        .on_response(refresh.id, Answer::status(304, None), 2050.0)
        .unwrap();
    assert!(done.contains(&Command::End { id: refresh.id }));
    // Fresh again: answered from the cache with the stored body, nothing sent.
    let (_, c) = e.start(list(), 2500.0).unwrap();
    assert_eq!(resolved(&c), Some((true, "v1".into())));
    assert!(send_of(&c).is_none(), "{c:?}");
    let Some(Command::Resolve(settled, _)) = c.first() else {
        panic!("{c:?}")
    };
    let explain = settled.explain.as_ref().expect("debug");
    assert!(
        explain.cache_reason.contains("revalidated (304)"),
        "{explain:?}"
    );
    // Counted: in the path's row and in the cache's counters.
    let (rows, _) = e.stats().rows();
    let row = rows.iter().find(|r| r.pattern == "/api/list/a").unwrap();
    assert_eq!(row.revalidated, 1);
    assert_eq!(e.cache_stats().revalidations, 1);
}

#[test]
fn a_date_is_the_validator_without_an_etag_and_a_200_replaces_the_entry() {
    let mut e = cached();
    let date = "Tue, 01 Dec 2026 10:00:00 GMT";
    stored(&mut e, Validator::of(None, Some(date)));
    let (_, c) = e.start(list(), 2000.0).unwrap();
    let refresh = send_of(&c).unwrap();
    assert_eq!(refresh.header("If-Modified-Since"), Some(date));
    assert_eq!(refresh.header("If-None-Match"), None);
    // It did change: the new body and its new validator are stored.
    e.on_response(refresh.id, with("v2", etag("\"v2\"")), 2050.0)
        .unwrap();
    let (_, c) = e.start(list(), 2100.0).unwrap();
    assert_eq!(resolved(&c), Some((true, "v2".into())));
    let (_, c) = e.start(list(), 4000.0).unwrap();
    assert_eq!(send_of(&c).unwrap().header("If-None-Match"), Some("\"v2\""));
    assert_eq!(e.cache_stats().revalidations, 0);
}

#[test]
fn without_a_validator_the_refresh_is_unconditional() {
    let mut e = cached();
    stored(&mut e, None);
    let (_, c) = e.start(list(), 2000.0).unwrap();
    let refresh = send_of(&c).unwrap();
    assert_eq!(refresh.header("If-None-Match"), None);
    assert_eq!(refresh.header("If-Modified-Since"), None);
}

#[test]
fn an_entry_gone_before_the_304_is_asked_for_whole() {
    let mut e = cached();
    stored(&mut e, etag("\"v1\""));
    let (_, c) = e.start(list(), 2000.0).unwrap();
    let refresh = send_of(&c).unwrap();
    // Invalidated while the conditional request is out.
    e.invalidate(&Invalidate::Prefix("/api/list".into()));
    let again = e
        .on_response(refresh.id, Answer::status(304, None), 2050.0)
        .unwrap();
    let whole = send_of(&again).expect("asked again");
    assert_eq!(whole.id, refresh.id);
    assert_eq!(whole.header("If-None-Match"), None, "unconditional now");
    e.on_response(whole.id, with("v3", etag("\"v3\"")), 2100.0)
        .unwrap();
    assert_eq!(e.fetching(), 0);
    assert_eq!(e.cache_stats().revalidations, 0);
}

#[test]
fn a_304_the_engine_did_not_ask_for_is_an_error_as_before() {
    let mut e = cached();
    let mut raw = get("/api/other");
    raw.headers = vec![("If-None-Match".into(), "\"x\"".into())];
    let (id, c) = e.start(raw, 10.0).unwrap();
    assert!(send_of(&c).is_some());
    let out = e.on_response(id, Answer::status(304, None), 20.0).unwrap();
    assert!(
        out.iter().any(|c| matches!(c, Command::Reject(..))),
        "{out:?}"
    );
}
