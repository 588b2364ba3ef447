//! The managed socket's state machine, natively under a virtual clock.
#![cfg(not(target_arch = "wasm32"))]

use mp_request::core::socket::config::{RawSocketConfig, SocketConfig};
use mp_request::core::socket::machine::{Socket, SocketCommand, SocketEvent, State, GIVE_UP_CODE};
use proptest::prelude::*;

fn socket(config: SocketConfig) -> Socket {
    Socket::new(config, 7)
}

fn connect_epoch(commands: &[SocketCommand]) -> Option<u32> {
    commands.iter().find_map(|c| {
        if let SocketCommand::Connect { epoch } = c {
            Some(*epoch)
        } else {
            None
        }
    })
}

fn timer(commands: &[SocketCommand]) -> Option<f64> {
    commands.iter().rev().find_map(|c| {
        if let SocketCommand::Timer { at_ms } = c {
            Some(*at_ms)
        } else {
            None
        }
    })
}

fn reconnect_delay(commands: &[SocketCommand]) -> Option<(u32, u32)> {
    commands.iter().find_map(|c| match c {
        SocketCommand::Emit(SocketEvent::Reconnecting { attempt, delay_ms }) => {
            Some((*attempt, *delay_ms))
        }
        _ => None,
    })
}

fn transmitted(commands: &[SocketCommand]) -> Vec<String> {
    commands
        .iter()
        .filter_map(|c| {
            if let SocketCommand::Transmit { text, .. } = c {
                Some(text.clone())
            } else {
                None
            }
        })
        .collect()
}

/// Opens a fresh socket at `now`: returns its epoch.
fn open(s: &mut Socket, now: f64) -> u32 {
    let epoch = connect_epoch(&s.start(now)).expect("connects");
    s.on_open(epoch, now);
    epoch
}

#[test]
fn a_dropped_connection_reconnects_after_a_backoff_within_bounds() {
    let c = SocketConfig::DEFAULT;
    let mut s = socket(c);
    let epoch = open(&mut s, 0.0);
    let out = s.on_close(epoch, 1006, "abnormal", 100.0);
    let (attempt, delay) = reconnect_delay(&out).expect("reconnecting");
    assert_eq!(attempt, 1);
    assert!((c.min_delay_ms..=c.max_delay_ms).contains(&delay));
    assert_eq!(s.state(), State::Reconnecting);
    assert_eq!(timer(&out), Some(100.0 + f64::from(delay)));
    assert!(
        s.on_timer(100.0 + f64::from(delay) - 1.0)
            .iter()
            .all(|c| !matches!(c, SocketCommand::Connect { .. })),
        "not before its time"
    );
    let again = s.on_timer(100.0 + f64::from(delay));
    assert_eq!(
        connect_epoch(&again),
        Some(epoch + 2),
        "a new task, a new epoch"
    );
}

#[test]
fn a_flapping_server_meets_growing_delays_until_a_connection_lasts() {
    let mut c = SocketConfig::DEFAULT;
    c.factor_tenths = 20;
    let mut s = socket(c);
    let mut now = 0.0;
    let mut epoch = open(&mut s, now);
    let mut ceilings_seen = Vec::new();
    for expected_attempt in 1..=5 {
        now += 100.0; // open only 100 ms: shorter than the minimum uptime
        let out = s.on_close(epoch, 1006, "flap", now);
        let (attempt, delay) = reconnect_delay(&out).unwrap();
        assert_eq!(
            attempt, expected_attempt,
            "the backoff does not reset on a short connection"
        );
        ceilings_seen.push(delay);
        now += f64::from(delay);
        epoch = connect_epoch(&s.on_timer(now)).unwrap();
        s.on_open(epoch, now);
    }
    assert!(ceilings_seen.iter().all(|d| *d <= c.max_delay_ms));
    // A connection that lasts the minimum uptime starts the backoff over.
    now += f64::from(c.min_uptime_ms);
    let out = s.on_close(epoch, 1006, "later", now);
    assert_eq!(reconnect_delay(&out).unwrap().0, 1);
}

#[test]
fn error_then_close_of_the_same_task_reconnects_once() {
    let mut s = socket(SocketConfig::DEFAULT);
    let epoch = open(&mut s, 0.0);
    let first = s.on_error(epoch, "sendSocketMessage:fail", 10.0);
    assert!(reconnect_delay(&first).is_some());
    assert!(first.contains(&SocketCommand::CloseTask {
        epoch,
        code: GIVE_UP_CODE,
        reason: "error"
    }));
    assert!(
        s.on_close(epoch, 1006, "", 11.0).is_empty(),
        "a stale task's close is ignored"
    );
    assert!(
        s.on_message(epoch, "late", 12.0).is_empty(),
        "so are its messages"
    );
}

#[test]
fn a_connect_that_never_opens_times_out() {
    let c = SocketConfig::DEFAULT;
    let mut s = socket(c);
    let out = s.start(0.0);
    let epoch = connect_epoch(&out).unwrap();
    assert_eq!(timer(&out), Some(f64::from(c.connect_timeout_ms)));
    let out = s.on_timer(f64::from(c.connect_timeout_ms));
    assert!(out.contains(&SocketCommand::CloseTask {
        epoch,
        code: GIVE_UP_CODE,
        reason: "connect timeout"
    }));
    assert_eq!(s.state(), State::Reconnecting);
    assert!(
        s.on_open(epoch, f64::from(c.connect_timeout_ms) + 1.0)
            .is_empty(),
        "too late: ignored"
    );
}

#[test]
fn heartbeat_pings_at_the_interval_and_silence_means_death() {
    let c = SocketConfig::DEFAULT;
    let mut s = socket(c);
    let epoch = open(&mut s, 0.0);
    let interval = f64::from(c.heartbeat_interval_ms);
    let out = s.on_timer(interval);
    assert_eq!(
        transmitted(&out),
        [format!("{{\"type\":\"ping\",\"t\":{}}}", interval as u64)]
    );
    assert!(
        s.on_message(epoch, "{\"type\":\"pong\",\"t\":1}", interval + 5.0)
            .is_empty(),
        "pongs are the socket's own"
    );
    // Then the server goes silent (no close): dead once the timeout has passed since the last pong.
    let silent_since = interval + 5.0;
    s.on_timer(silent_since + interval);
    assert_eq!(s.state(), State::Open);
    let death = silent_since + f64::from(c.heartbeat_timeout_ms);
    let out = s.on_timer(death);
    assert!(out.contains(&SocketCommand::CloseTask {
        epoch,
        code: GIVE_UP_CODE,
        reason: "heartbeat timeout"
    }));
    assert_eq!(s.state(), State::Reconnecting);
}

#[test]
fn a_burst_of_late_timers_is_judged_by_the_clock_not_counted() {
    let c = SocketConfig::DEFAULT;
    let mut s = socket(c);
    let epoch = open(&mut s, 0.0);
    // Five timers fire at once, late but within the timeout of the last message.
    s.on_message(epoch, "hello", 20_000.0);
    for _ in 0..5 {
        s.on_timer(20_001.0);
    }
    assert_eq!(s.state(), State::Open, "no false alarm");
}

#[test]
fn max_attempts_gives_up() {
    let c = RawSocketConfig {
        max_attempts: Some(2.0),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut s = socket(c);
    let mut now = 0.0;
    s.start(now);
    for _ in 0..2 {
        now += f64::from(c.connect_timeout_ms);
        let out = s.on_timer(now);
        let (_, delay) = reconnect_delay(&out).unwrap();
        now += f64::from(delay);
        s.on_timer(now);
    }
    now += f64::from(c.connect_timeout_ms);
    let out = s.on_timer(now);
    assert_eq!(s.state(), State::Failed);
    assert!(out.iter().any(|c| matches!(c, SocketCommand::Emit(SocketEvent::Error { detail, .. }) if detail.contains("gave up after 2"))));
    assert!(s.send("1").is_err(), "a failed socket refuses to send");
}

#[test]
fn the_outbox_queues_while_not_open_and_flushes_in_order() {
    let mut s = socket(SocketConfig::DEFAULT);
    let epoch = connect_epoch(&s.start(0.0)).unwrap();
    for n in 1..=3 {
        assert!(s.send(&n.to_string()).unwrap().is_empty(), "queued");
    }
    let out = s.on_open(epoch, 5.0);
    assert_eq!(transmitted(&out), ["1", "2", "3"]);
    assert_eq!(
        transmitted(&s.send("4").unwrap()),
        ["4"],
        "sent at once while open"
    );
    let full = RawSocketConfig {
        outbox_max_messages: Some(1.0),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut small = socket(full);
    small.start(0.0);
    small.send("1").unwrap();
    assert!(small
        .send("2")
        .unwrap_err()
        .to_string()
        .contains("outbox is full"));
}

#[test]
fn acked_messages_are_resent_after_a_drop_until_acked() {
    let c = RawSocketConfig {
        acked: Some(true),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut s = socket(c);
    let epoch = open(&mut s, 0.0);
    let sent: Vec<String> = (1..=3)
        .flat_map(|n| transmitted(&s.send(&n.to_string()).unwrap()))
        .collect();
    assert_eq!(sent[0], "{\"type\":\"msg\",\"id\":1,\"data\":1}");
    assert!(
        s.on_message(epoch, "{\"type\":\"ack\",\"id\":1}", 1.0)
            .is_empty(),
        "acks are the socket's own"
    );
    let out = s.on_close(epoch, 1006, "drop", 2.0);
    let (_, delay) = reconnect_delay(&out).unwrap();
    let epoch = connect_epoch(&s.on_timer(2.0 + f64::from(delay))).unwrap();
    let resent = transmitted(&s.on_open(epoch, 3000.0));
    assert_eq!(
        resent,
        [
            "{\"type\":\"msg\",\"id\":2,\"data\":2}",
            "{\"type\":\"msg\",\"id\":3,\"data\":3}"
        ],
        "same ids, same order"
    );
    s.on_message(epoch, "{\"type\":\"ack\",\"id\":3}", 3001.0);
    assert_eq!(s.pending(), 0);
}

#[test]
fn closing_by_the_caller_never_reconnects() {
    let mut s = socket(SocketConfig::DEFAULT);
    let epoch = open(&mut s, 0.0);
    let out = s.close();
    assert!(out.contains(&SocketCommand::CloseTask {
        epoch,
        code: 1000,
        reason: "closed by the caller"
    }));
    assert_eq!(s.state(), State::Closed);
    assert!(s.on_close(epoch, 1000, "", 1.0).is_empty());
    assert!(s.on_timer(1e9).is_empty());
    assert!(s.set_online(true, 2.0).is_empty() && s.set_hidden(false, 3.0).is_empty());
}

#[test]
fn fatal_close_codes_stop_for_good() {
    let mut s = socket(SocketConfig::DEFAULT);
    let epoch = open(&mut s, 0.0);
    let out = s.on_close(epoch, 4401, "unauthorized", 1.0);
    assert_eq!(s.state(), State::Failed);
    assert!(reconnect_delay(&out).is_none());
}

#[test]
fn offline_pauses_and_the_network_back_reconnects_at_once() {
    let mut s = socket(SocketConfig::DEFAULT);
    let epoch = open(&mut s, 0.0);
    s.on_close(epoch, 1006, "", 10.0);
    assert!(s
        .set_online(false, 11.0)
        .contains(&SocketCommand::Emit(SocketEvent::State(State::Paused))));
    assert!(
        s.on_timer(1e6).is_empty(),
        "no reconnect loop while offline"
    );
    let back = s.set_online(true, 1e6 + 1.0);
    assert!(
        connect_epoch(&back).is_some(),
        "prompt, not after the backoff"
    );
    // Lost while offline: paused straight away.
    let epoch = connect_epoch(&back).unwrap();
    s.on_open(epoch, 1e6 + 2.0);
    s.set_online(false, 1e6 + 3.0);
    s.on_close(epoch, 1006, "", 1e6 + 4.0);
    assert_eq!(s.state(), State::Paused);
}

#[test]
fn background_pauses_and_show_reconnects_fresh() {
    let mut s = socket(SocketConfig::DEFAULT);
    let epoch = open(&mut s, 0.0);
    s.set_hidden(true, 100.0);
    // The platform closes sockets in the background: paused, no loop.
    let out = s.on_close(epoch, 1000, "interrupted", 200.0);
    assert!(reconnect_delay(&out).is_none());
    assert_eq!(s.state(), State::Paused);
    let shown = s.set_hidden(false, 60_000.0);
    assert!(
        connect_epoch(&shown).is_some(),
        "a fresh connection on show"
    );
    // Open through the background: timers were frozen, so no false death on show, one probe.
    let epoch = connect_epoch(&shown).unwrap();
    s.on_open(epoch, 60_001.0);
    s.set_hidden(true, 60_002.0);
    let out = s.set_hidden(false, 200_000.0);
    assert_eq!(s.state(), State::Open);
    assert_eq!(transmitted(&out).len(), 1, "a ping probe");
}

proptest! {
    #[test]
    fn never_two_tasks_live_and_delays_stay_in_bounds(
        events in proptest::collection::vec((0u8..8, 0u32..3000), 1..120),
    ) {
        let c = SocketConfig::DEFAULT;
        let mut s = socket(c);
        let mut now = 0.0;
        let mut live: Option<u32> = None; // the task the shim has open
        let apply = |out: Vec<SocketCommand>, live: &mut Option<u32>, now: f64| -> Result<(), TestCaseError> {
            for cmd in out {
                match cmd {
                    SocketCommand::Connect { epoch } => {
                        prop_assert!(live.is_none(), "a second task while {:?} is live", live);
                        *live = Some(epoch);
                    }
                    SocketCommand::CloseTask { epoch, .. } if *live == Some(epoch) => {
                        *live = None;
                    }
                    SocketCommand::Emit(SocketEvent::Reconnecting { delay_ms, .. }) => {
                        prop_assert!((c.min_delay_ms..=c.max_delay_ms).contains(&delay_ms));
                    }
                    SocketCommand::Timer { at_ms } => prop_assert!(at_ms >= now || at_ms.is_infinite()),
                    _ => {}
                }
            }
            Ok(())
        };
        apply(s.start(now), &mut live, now)?;
        for (kind, dt) in events {
            now += f64::from(dt);
            let epoch = live.unwrap_or(s.epoch());
            let out = match kind {
                0 => s.on_open(epoch, now),
                1 => { let out = s.on_close(epoch, 1006, "", now); if live == Some(epoch) { live = None; } out }
                2 => { let out = s.on_error(epoch, "x", now); if live == Some(epoch) { live = None; } out }
                3 => s.on_message(epoch, "m", now),
                4 => s.on_timer(now),
                5 => s.set_online(dt % 2 == 0, now),
                6 => s.set_hidden(dt % 2 == 0, now),
                _ => s.send("1").unwrap_or_default(),
            };
            apply(out, &mut live, now)?;
            if s.state() == State::Closed { prop_assert!(live.is_none()); }
        }
        apply(s.close(), &mut live, now)?;
        prop_assert!(live.is_none(), "closing by the caller closes the task");
        prop_assert!(s.on_timer(now + 1e9).is_empty());
    }
}
