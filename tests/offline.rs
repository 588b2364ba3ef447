//! The offline mutation queue inside the engine, natively under a virtual
//! clock: what is queued and when the caller is told so, the order and pace
//! of replays, what a replay's outcome does to the queue, whose replays run.
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

/// The delay of the `WaitReplay` among `commands`.
fn replay_wait(commands: &[Command]) -> Option<u32> {
    commands.iter().find_map(|c| match c {
        Command::WaitReplay { delay_ms } => Some(*delay_ms),
        _ => None,
    })
}

fn rejection(
    commands: &[Command],
) -> (
    &mp_request::core::engine::Settled,
    &mp_request::RequestError,
) {
    commands
        .iter()
        .find_map(|c| match c {
            Command::Reject(s, e) => Some((s, e)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no rejection in {commands:?}"))
}

#[test]
fn offline_a_queued_mutation_is_kept_with_a_key_and_the_caller_is_told_once_it_is_saved() {
    let mut e = http(None);
    e.set_online(false, 0.0);
    let (_, commands) = e
        .start(queued_post("/api/order/create", "{\"n\":1}"), 5.0)
        .unwrap();
    assert_eq!(
        commands,
        [Command::SaveQueue],
        "nobody is told anything before the queue is written"
    );
    let told = e.on_queue_saved(Ok(()), 5.0);
    let (settled, err) = rejection(&told);
    assert_eq!((err.kind(), settled.queued), (ErrorKind::Offline, Some(1)));
    let m = e.pending().next().unwrap().clone();
    assert_eq!(
        (m.method.as_str(), m.path.as_str()),
        ("POST", "/api/order/create")
    );
    assert_eq!(m.data_json.as_deref(), Some("{\"n\":1}"));
    assert_eq!(m.headers, vec![("X-Trace".to_owned(), "t1".to_owned())]);
    assert_eq!((m.idempotency_key.len(), m.queued_at), (32, 5.0));
    assert_eq!(m.user, None);
    // Without `offline: 'queue'` nothing is kept.
    let (_, commands) = e.start(post("/api/order/create"), 6.0).unwrap();
    assert_eq!(rejection(&commands).0.queued, None);
    assert_eq!(ids(&e), [1]);
}

#[test]
fn a_write_storage_refused_is_not_reported_saved_and_leaves_the_queue() {
    let mut e = http(None);
    e.set_online(false, 0.0);
    let (_, commands) = e.start(queued_post("/api/a", "{}"), 1.0).unwrap();
    assert_eq!(commands, [Command::SaveQueue]);
    let told = e.on_queue_saved(
        Err("setStorageSync:fail exceed storage max size 10MB".into()),
        1.0,
    );
    let (settled, err) = rejection(&told);
    assert_eq!((err.kind(), settled.queued), (ErrorKind::Offline, None));
    assert!(
        settled.note.contains(
            "not queued: the offline queue could not be saved (setStorageSync:fail exceed storage max size 10MB)"
        ),
        "{}",
        settled.note
    );
    assert!(ids(&e).is_empty(), "not kept in memory only either");
    // Back online, nothing replays: it was never saved.
    assert!(replays(&e.set_online(true, 2.0)).is_empty());
}

#[test]
fn back_online_they_replay_one_at_a_time_in_order_and_leave_the_queue_on_success() {
    let mut e = http(None);
    e.set_online(false, 0.0);
    for n in 1..=3 {
        let (_, commands) = e
            .start(
                queued_post("/api/order/create", &format!("{{\"n\":{n}}}")),
                1.0,
            )
            .unwrap();
        saved(&mut e, commands, 1.0);
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
        send.header("Idempotency-Key"),
        Some(first.idempotency_key.as_str())
    );
    assert_eq!(
        send.body,
        Some(mp_request::core::request::Body::Json("{\"n\":1}".into()))
    );
    let done = e
        .on_response(*fetch, Answer::status(200, None), 11.0)
        .unwrap();
    assert!(done
        .iter()
        .any(|c| matches!(c, Command::Synced(m, Ok(_)) if m.id == 1)));
    assert!(done.contains(&Command::SaveQueue));
    assert!(
        replays(&done).is_empty(),
        "the next one is a timer away, not a nested call"
    );
    assert_eq!(replay_wait(&done), Some(0));
    let next = replays(&e.on_replay_timer(11.0));
    assert_eq!(next[0].1.id, 2, "the next goes when the first is done");
    assert_eq!(ids(&e), [2, 3]);
}

#[test]
fn a_replay_that_fails_for_a_passing_reason_stays_and_a_permanent_failure_is_reported() {
    let mut e = http(Some(RawRetry::Disabled));
    e.set_online(false, 0.0);
    for (path, data) in [("/api/a", "{\"n\":1}"), ("/api/b", "{\"n\":2}")] {
        let (_, commands) = e.start(queued_post(path, data), 1.0).unwrap();
        saved(&mut e, commands, 1.0);
    }
    let back = e.set_online(true, 10.0);
    let (fetch, _) = replays(&back)[0].clone();
    // A 503: it may pass. It stays first, and the next replay waits a backoff.
    let failed = e
        .on_response(fetch, Answer::status(503, None), 11.0)
        .unwrap();
    assert!(replays(&failed).is_empty());
    assert!(!failed.iter().any(|c| matches!(c, Command::Synced(..))));
    assert_eq!(ids(&e), [1, 2]);
    assert_eq!(e.pending().next().unwrap().attempts, 1);
    let wait = replay_wait(&failed).expect("a timer for the next replay");
    assert!((1000..=2000).contains(&wait), "{wait}");
    // Coming back to the foreground before then does not hurry it.
    assert!(replays(&e.set_hidden(false, 12.0)).is_empty());
    let again = e.on_replay_timer(11.0 + f64::from(wait));
    let (fetch, _) = replays(&again)[0].clone();
    let done = e
        .on_response(fetch, Answer::status(422, None), 2000.0)
        .unwrap();
    let Some(Command::Synced(m, Err(err))) = done.iter().find(|c| matches!(c, Command::Synced(..)))
    else {
        panic!("{done:?}")
    };
    assert_eq!((m.id, err.status()), (1, Some(422)));
    assert_eq!(replay_wait(&done), Some(0));
    assert_eq!(
        replays(&e.on_replay_timer(2000.0))[0].1.id,
        2,
        "reported, dropped, and the next goes"
    );
}

/// Defect 1 of issue 16: a queued mutation meets an open breaker. Every
/// event that may start a replay used to take the same head item again and
/// again at the same instant, until the command list exhausted memory.
#[test]
fn a_replay_refused_by_an_open_breaker_waits_for_the_probe_instead_of_looping() {
    let mut e = http(None);
    // 20 network failures open the default breaker (20 calls, ratio 0.5).
    let mut d = Drive::new();
    for _ in 0..5 {
        let mut resets = std::iter::repeat_with(|| Outcome::Fail(reset()));
        d.run(&mut e, get("/api/list"), &mut resets, 1.0);
    }
    let now = d.now;
    e.set_online(false, now);
    let (_, commands) = e
        .start(queued_post("/api/order/create", "{}"), now)
        .unwrap();
    saved(&mut e, commands, now);
    assert_eq!(ids(&e), [1]);
    for (event, commands) in [
        ("online", e.set_online(true, now)),
        ("show", e.set_hidden(false, now)),
        ("timer", e.on_replay_timer(now)),
        ("user", e.set_user(None, now)),
    ] {
        assert!(
            commands.len() <= 6,
            "{event}: {} commands: {commands:?}",
            commands.len()
        );
    }
    assert_eq!(ids(&e), [1], "still queued");
    let m = e.pending().next().unwrap();
    assert_eq!(m.attempts, 1, "refused once, then it waits");
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
    let (_, commands) = e.start(queued_post("/api/a", "1"), 1.0).unwrap();
    saved(&mut e, commands, 1.0);
    let (_, commands) = e.start(queued_post("/api/b", "2"), 1.0).unwrap();
    let (settled, _) = rejection(&commands);
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
    let (_, commands) = e
        .start(queued_post("/api/order/create", "{\"n\":1}"), 1.0)
        .unwrap();
    saved(&mut e, commands, 1.0);
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
        send.header("Idempotency-Key"),
        Some(saved[0].idempotency_key.as_str())
    );
    assert_eq!(
        send.url.as_deref(),
        Some("https://api.example.com/api/order/create")
    );
}

/// Defect 6 of issue 16: queued writes belong to the user they were made
/// under, and replay only while that user is current.
#[test]
fn a_queued_write_replays_only_under_its_user_and_a_logout_can_drop_them() {
    let mut e = http(None);
    e.set_user(Some("A".into()), 0.0);
    e.set_online(false, 0.0);
    let (_, commands) = e
        .start(queued_post("/api/order/create", "{\"by\":\"A\"}"), 1.0)
        .unwrap();
    saved(&mut e, commands, 1.0);
    assert_eq!(e.pending().next().unwrap().user.as_deref(), Some("A"));
    // B signs in; the network returns: A's write waits.
    e.set_user(Some("B".into()), 2.0);
    assert!(replays(&e.set_online(true, 3.0)).is_empty());
    // A again: it replays one tick later (the app stores A's token right after setUser).
    let signed_in = e.set_user(Some("A".into()), 4.0);
    assert_eq!(signed_in, [Command::WaitReplay { delay_ms: 0 }]);
    let back = e.on_replay_timer(4.0);
    assert_eq!(replays(&back).len(), 1);
    // Another write of A's is queued; A logs out and drops what is left.
    let (fetch, _) = replays(&back)[0].clone();
    e.on_response(fetch, Answer::status(200, None), 5.0)
        .unwrap();
    e.set_online(false, 6.0);
    let (_, commands) = e
        .start(queued_post("/api/order/create", "{\"n\":2}"), 6.0)
        .unwrap();
    saved(&mut e, commands, 6.0);
    let (dropped, commands) = e.drop_pending(Some("A"), 7.0);
    assert_eq!(dropped, 1);
    let Some(Command::Synced(m, Err(err))) =
        commands.iter().find(|c| matches!(c, Command::Synced(..)))
    else {
        panic!("{commands:?}")
    };
    assert_eq!(
        (m.user.as_deref(), err.kind()),
        (Some("A"), ErrorKind::Cancelled)
    );
    assert!(commands.contains(&Command::SaveQueue));
    assert!(ids(&e).is_empty());
}

#[test]
fn a_replay_whose_user_changes_sends_no_further_attempt_under_the_new_user() {
    let mut e = http(None);
    e.set_user(Some("A".into()), 0.0);
    e.set_online(false, 0.0);
    let (_, commands) = e.start(queued_post("/api/a", "{}"), 1.0).unwrap();
    saved(&mut e, commands, 1.0);
    let back = e.set_online(true, 2.0);
    let (fetch, _) = replays(&back)[0].clone();
    e.set_user(Some("B".into()), 3.0);
    // The attempt sent under A fails; its retry would go out with B's token.
    let after = e
        .on_response(fetch, Answer::status(503, None), 4.0)
        .unwrap();
    assert!(
        !after
            .iter()
            .any(|c| matches!(c, Command::Wait { .. } | Command::Send(_))),
        "{after:?}"
    );
    assert_eq!(ids(&e), [1], "kept for A");
    assert!(
        replays(&e.on_replay_timer(5.0)).is_empty(),
        "B does not replay A's write"
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
        data_json: None,
        data_binary: Some(8),
        ..queued_post("/api/x", "")
    };
    assert!(e
        .start(binary, 0.0)
        .unwrap_err()
        .to_string()
        .contains("strings and binary data are not stored"));
    let contradiction = RawRequest {
        idempotent: Some(false),
        ..queued_post("/api/x", "{}")
    };
    assert!(e
        .start(contradiction, 0.0)
        .unwrap_err()
        .to_string()
        .starts_with("`idempotent` cannot be false with offline: 'queue'"));
    // Credentials are never written to storage: the client's `header` gives them.
    let with_token = RawRequest {
        headers: vec![("authorization".into(), "Bearer t".into())],
        ..queued_post("/api/x", "{}")
    };
    let err = e.start(with_token, 0.0).unwrap_err().to_string();
    assert!(
        err.starts_with("`header.authorization` is not kept with offline: 'queue'"),
        "{err}"
    );
}

#[test]
fn a_replay_answered_2xx_with_a_cut_off_json_body_is_delivered_not_kept() {
    // The server applied it (2xx); its key would only bring the same body back.
    let mut e = http(None);
    e.set_online(false, 0.0);
    for path in ["/api/order/create", "/api/test"] {
        let (_, commands) = e.start(queued_post(path, "{}"), 1.0).unwrap();
        saved(&mut e, commands, 1.0);
    }
    let back = e.set_online(true, 10.0);
    let (fetch, _) = replays(&back)[0].clone();
    let answer = Answer {
        body_not_json: true,
        validator: None,
        ..Answer::status(200, None)
    };
    let done = e.on_response(fetch, answer, 11.0).unwrap();
    assert!(
        done.iter()
            .any(|c| matches!(c, Command::Synced(m, Ok(_)) if m.id == 1)),
        "{done:?}"
    );
    assert_eq!(ids(&e), [2], "the next one is not blocked behind it");
}
