//! Property tests of the core, natively: validation never panics on any input,
//! and every started request settles exactly once whatever the event order.
#![cfg(not(target_arch = "wasm32"))]

use mp_request::core::classify::Failure;
use mp_request::core::config::{Platform, RawConfig};
use mp_request::core::engine::{Command, Engine};
use mp_request::core::request::RawRequest;
use proptest::prelude::*;
use std::collections::HashSet;

fn engine(has_cloud: bool) -> Engine {
    let config = RawConfig {
        env: Some("prod-5g94mx7a3d07e78c".into()),
        service: Some("golang-lfwy".into()),
        base_url: Some("http://127.0.0.1:9".into()),
        ..RawConfig::default()
    }
    .validate()
    .unwrap();
    Engine::new(config, Platform { has_cloud })
}

proptest! {
    #[test]
    fn validation_never_panics_and_accepts_only_sendable_paths(
        path in ".{0,80}",
        method in proptest::option::of("[A-Za-z]{0,8}"),
        headers in proptest::collection::vec((".{0,12}", ".{0,12}"), 0..4),
        timeout in proptest::option::of(proptest::num::f64::ANY),
    ) {
        let raw = RawRequest { path: path.clone(), method, headers, body_bytes: 0, timeout_ms: timeout };
        if let Ok(spec) = raw.validate() {
            prop_assert!(spec.path.starts_with('/') && !spec.path.starts_with("//"));
            prop_assert!(!spec.path.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#'));
            prop_assert!(spec.timeout_ms.is_none_or(|t| (1..=60_000).contains(&t)));
        }
    }

    #[test]
    fn every_request_settles_exactly_once(
        has_cloud in any::<bool>(),
        events in proptest::collection::vec((0u8..3, 0usize..8, 100u16..600), 1..60),
    ) {
        let mut e = engine(has_cloud);
        let spec = RawRequest { path: "/api/test".into(), ..RawRequest::default() }.validate().unwrap();
        let mut open: Vec<u32> = Vec::new();
        let mut settled: HashSet<u32> = HashSet::new();
        let mut now = 0.0;
        for (action, pick, status) in events {
            now += 1.0;
            match action {
                0 => {
                    let Command::Send(send) = e.start(&spec, now).unwrap() else { panic!("start sends") };
                    prop_assert!(!open.contains(&send.id) && !settled.contains(&send.id), "ids are fresh");
                    open.push(send.id);
                }
                _ if open.is_empty() => {}
                kind => {
                    let id = open.remove(pick % open.len());
                    let command = if kind == 1 {
                        e.on_response(id, status, now)
                    } else {
                        e.on_failure(id, Failure { err_msg: "x".into(), ..Failure::default() }, now)
                    }
                    .unwrap();
                    let settled_id = match command {
                        Command::Resolve(s) => { prop_assert!((200..300).contains(&status) && kind == 1); s.id }
                        Command::Reject(s, _) => s.id,
                        Command::Send(_) => panic!("no retries yet"),
                    };
                    prop_assert_eq!(settled_id, id);
                    prop_assert!(settled.insert(id));
                    prop_assert!(e.on_response(id, 200, now).is_err(), "a settled id is gone");
                }
            }
            prop_assert_eq!(e.in_flight(), open.len());
        }
    }
}
