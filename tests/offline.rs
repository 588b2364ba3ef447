//! The offline mutation queue inside the engine, natively under a virtual
//! clock: what is queued, the order and pace of replays, what a replay's
//! outcome does to the queue.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::config::{RawConfig, RawRetry};
use mp_request::core::engine::{Answer, Command, Engine};
use mp_request::core::error::ErrorKind;
use mp_request::core::offline::Mutation;
use mp_request::core::request::RawRequest;
use support::*;

fn http(retry: Option<RawRetry>) -> Engine {
    engine(
        RawConfig {
            base_url: Some("https://api.example.com".into()),
            retry,
            ..RawConfig::default()
        },
        7,
    )
}

fn queued_post(path: &str, data: &str) -> RawRequest {
    RawRequest {
        offline: Some("queue".into()),
        data_json: Some(data.into()),
        headers: vec![("X-Trace".into(), "t1".into())],
        ..post(path)
    }
}

fn ids(e: &Engine) -> Vec<u32> {
    e.pending().map(|m| m.id).collect()
}

/// The replays among `commands`: (fetch id, mutation).
fn replays(commands: &[Command]) -> Vec<(u32, Mutation)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Replay(r) => Some((r.id, r.mutation.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn offline_a_queued_mutation_is_kept_with_a_key_and_the_caller_is_told() {
    let mut e = http(None);
    e.set_online(false, 0.0);
    let (_, commands) = e
        .start(queued_post("/api/order/create", "{\"n\":1}"), 5.0)
        .unwrap();
    let Some(Command::Reject(settled, err)) = commands.first() else {
        panic!("{commands:?}")
    };
    assert_eq!((err.kind(), settled.queued), (ErrorKind::Offline, Some(1)));
    assert!(commands.contains(&Command::SaveQueue));
    let m = e.pending().next().unwrap().clone();
    assert_eq!(
        (m.method.as_str(), m.path.as_str()),
        ("POST", "/api/order/create")
    );
    assert_eq!(m.data_json.as_deref(), Some("{\"n\":1}"));
    assert_eq!(m.headers, vec![("X-Trace".to_owned(), "t1".to_owned())]);
    assert_eq!((m.idempotency_key.len(), m.queued_at), (32, 5.0));
    // Without `offline: 'queue'` nothing is kept.
    let (_, commands) = e.start(post("/api/order/create"), 6.0).unwrap();
    assert!(matches!(&commands[0], Command::Reject(s, _) if s.queued.is_none()));
    assert_eq!(ids(&e), [1]);
}

#[test]
fn back_online_they_replay_one_at_a_time_in_order_and_leave_the_queue_on_success() {
    let mut e = http(None);
    e.set_online(false, 0.0);
    for n in 1..=3 {
        e.start(
            queued_post("/api/order/create", &format!("{{\"n\":{n}}}")),
            1.0,
        )
        .unwrap();
    }
    assert_eq!(ids(&e), [1, 2, 3]);
    let back = e.set_online(true, 10.0);
    let started = replays(&back);
    assert_eq!(started.len(), 1, "one at a time");
    let (fetch, first) = &started[0];
    assert_eq!(first.id, 1);
    let Some(Command::Send(send)) = back.iter().find(|c| matches!(c, Command::Send(_))) else {
        panic!("{back:?}")
    };
    assert_eq!(send.id, *fetch);
    assert_eq!(
        send.idempotency_key.as_deref(),
        Some(first.idempotency_key.as_str())
    );
    let done = e
        .on_response(*fetch, Answer::status(200, None), 11.0)
        .unwrap();
    assert!(done
        .iter()
        .any(|c| matches!(c, Command::Synced(m, Ok(_)) if m.id == 1)));
    assert!(done.contains(&Command::SaveQueue));
    let next = replays(&done);
    assert_eq!(next[0].1.id, 2, "the next goes when the first is done");
    assert_eq!(ids(&e), [2, 3]);
}

#[test]
fn a_replay_that_fails_for_a_passing_reason_stays_and_a_permanent_failure_is_reported() {
    let mut e = http(Some(RawRetry::Disabled));
    e.set_online(false, 0.0);
    e.start(queued_post("/api/a", "1"), 1.0).unwrap();
    e.start(queued_post("/api/b", "2"), 1.0).unwrap();
    let back = e.set_online(true, 10.0);
    let (fetch, _) = replays(&back)[0].clone();
    // A 503: it may pass. It stays first, and the replays pause for the next chance.
    let failed = e
        .on_response(fetch, Answer::status(503, None), 11.0)
        .unwrap();
    assert!(replays(&failed).is_empty());
    assert!(!failed.iter().any(|c| matches!(c, Command::Synced(..))));
    assert_eq!(ids(&e), [1, 2]);
    assert_eq!(e.pending().next().unwrap().attempts, 1);
    // Coming back to the foreground is a chance: now a 422 will not pass.
    let again = e.set_hidden(false, 20.0);
    let (fetch, _) = replays(&again)[0].clone();
    let done = e
        .on_response(fetch, Answer::status(422, None), 21.0)
        .unwrap();
    let Some(Command::Synced(m, Err(err))) = done.iter().find(|c| matches!(c, Command::Synced(..)))
    else {
        panic!("{done:?}")
    };
    assert_eq!((m.id, err.status()), (1, Some(422)));
    assert_eq!(
        replays(&done)[0].1.id,
        2,
        "reported, dropped, and the next goes"
    );
}

#[test]
fn a_network_failure_online_queues_it_after_its_retries() {
    let mut e = http(Some(RawRetry::Custom {
        limit: Some(2.0),
        base_ms: Some(1.0),
        cap_ms: Some(1.0),
        deadline_ms: None,
    }));
    let mut d = Drive::new();
    let mut resets = std::iter::repeat_with(|| Outcome::Fail(reset()));
    let Command::Reject(settled, err) = d.run(
        &mut e,
        queued_post("/api/order/create", "{}"),
        &mut resets,
        1.0,
    ) else {
        panic!()
    };
    assert_eq!(
        (err.kind(), settled.attempts, settled.queued),
        (ErrorKind::Network, 3, Some(1))
    );
    // A 4xx is an answer, not a reason to queue.
    let mut bad = std::iter::once(Outcome::Status(400));
    let Command::Reject(settled, _) = d.run(
        &mut e,
        queued_post("/api/order/create", "{}"),
        &mut bad,
        1.0,
    ) else {
        panic!()
    };
    assert_eq!(settled.queued, None);
    assert_eq!(ids(&e), [1]);
}

#[test]
fn the_queue_is_bounded_and_says_so() {
    let mut e = engine(
        RawConfig {
            base_url: Some("https://api.example.com".into()),
            offline_queue_max_items: Some(1.0),
            ..RawConfig::default()
        },
        7,
    );
    e.set_online(false, 0.0);
    e.start(queued_post("/api/a", "1"), 1.0).unwrap();
    let (_, commands) = e.start(queued_post("/api/b", "2"), 1.0).unwrap();
    let Some(Command::Reject(settled, _)) = commands.first() else {
        panic!()
    };
    assert_eq!(settled.queued, None);
    assert_eq!(
        settled.note,
        "not queued: the offline queue holds its maximum of 1 mutations"
    );
}

#[test]
fn restored_mutations_replay_at_start_and_keep_their_keys() {
    let mut e = http(None);
    e.set_online(false, 0.0);
    e.start(queued_post("/api/order/create", "{\"n\":1}"), 1.0)
        .unwrap();
    let saved: Vec<Mutation> = e.pending().cloned().collect();

    let mut restarted = http(None);
    let (dropped, commands) = restarted.restore_queue(saved.clone(), 100.0);
    assert_eq!(dropped, 0);
    let started = replays(&commands);
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].1, saved[0], "the same mutation, key and all");
    let Some(Command::Send(send)) = commands.iter().find(|c| matches!(c, Command::Send(_))) else {
        panic!()
    };
    assert_eq!(
        send.idempotency_key.as_deref(),
        Some(saved[0].idempotency_key.as_str())
    );
    assert_eq!(
        send.url.as_deref(),
        Some("https://api.example.com/api/order/create")
    );
}

#[test]
fn offline_queue_options_are_checked() {
    let mut e = http(None);
    let get_queued = RawRequest {
        offline: Some("queue".into()),
        ..get("/api/x")
    };
    assert!(e
        .start(get_queued, 0.0)
        .unwrap_err()
        .to_string()
        .starts_with("`offline` 'queue' is for mutations (POST, PUT, DELETE, PATCH), not GET"));
    let other = RawRequest {
        offline: Some("later".into()),
        ..post("/api/x")
    };
    assert_eq!(
        e.start(other, 0.0).unwrap_err().to_string(),
        "`offline` must be 'queue', got \"later\""
    );
    let binary = RawRequest {
        data_json: Some("\u{0}binary".into()),
        ..queued_post("/api/x", "")
    };
    assert!(e
        .start(binary, 0.0)
        .unwrap_err()
        .to_string()
        .contains("binary data cannot be stored"));
    let contradiction = RawRequest {
        idempotent: Some(false),
        ..queued_post("/api/x", "{}")
    };
    assert!(e
        .start(contradiction, 0.0)
        .unwrap_err()
        .to_string()
        .starts_with("`idempotent` cannot be false with offline: 'queue'"));
}
