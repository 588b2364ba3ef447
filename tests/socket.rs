//! The managed socket's state machine, natively under a virtual clock.
#![cfg(not(target_arch = "wasm32"))]

use mp_request::core::socket::config::{Heartbeat, RawSocketConfig, SocketConfig};
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
        s.on_message(epoch, Some("late"), 12.0).is_empty(),
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
        s.on_message(epoch, Some("{\"type\":\"pong\",\"t\":1}"), interval + 5.0)
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

/// Fires the timer every second from `from` to `to` (ms): every command.
fn tick(s: &mut Socket, from: f64, to: f64) -> Vec<SocketCommand> {
    let mut out = Vec::new();
    let mut now = from;
    while now <= to {
        out.extend(s.on_timer(now));
        now += 1000.0;
    }
    out
}

fn heartbeat(on: Option<bool>) -> SocketConfig {
    RawSocketConfig {
        heartbeat: on,
        ..Default::default()
    }
    .validate()
    .unwrap()
}

fn reconnected(commands: &[SocketCommand]) -> bool {
    commands
        .iter()
        .any(|c| matches!(c, SocketCommand::Emit(SocketEvent::Close { .. })))
}

#[test]
fn heartbeat_off_sends_no_pings_and_silence_never_reconnects() {
    let c = heartbeat(Some(false));
    assert_eq!(c.heartbeat, Heartbeat::Off);
    let mut s = socket(c);
    let epoch = open(&mut s, 0.0);
    let out = tick(&mut s, 0.0, 600_000.0);
    assert!(transmitted(&out).is_empty(), "no pings");
    assert!(!reconnected(&out), "ten silent minutes, still open");
    assert_eq!(s.state(), State::Open);
    assert_eq!(timer(&s.on_timer(1.0)), Some(f64::INFINITY), "nothing due");
    // Back from the background: no probe either.
    assert!(transmitted(&s.set_hidden(false, 600_001.0)).is_empty());
    // Pongs and acks that come anyway are still not the caller's.
    assert!(s
        .on_message(epoch, Some("{\"type\":\"pong\"}"), 600_002.0)
        .is_empty());
}

#[test]
fn auto_heartbeat_pings_a_service_that_ignores_them_but_never_reconnects_it() {
    let c = SocketConfig::DEFAULT;
    assert_eq!(c.heartbeat, Heartbeat::Auto, "the default");
    let mut s = socket(c);
    let epoch = open(&mut s, 0.0);
    // The service echoes app messages and never answers a ping.
    assert_eq!(
        s.on_message(epoch, Some("{\"type\":\"message\",\"n\":1}"), 5.0),
        [SocketCommand::Deliver]
    );
    let out = tick(&mut s, 0.0, 600_000.0);
    assert_eq!(
        transmitted(&out).len(),
        60,
        "a ping every 10 s keeps the gateway from reclaiming the socket"
    );
    assert!(!reconnected(&out), "quiet is not dead");
    assert_eq!(s.state(), State::Open);
}

#[test]
fn auto_heartbeat_counts_silence_once_the_service_answers_a_ping() {
    let c = SocketConfig::DEFAULT;
    let timeout = f64::from(c.heartbeat_timeout_ms);
    let mut s = socket(c);
    let epoch = open(&mut s, 0.0);
    let ping = transmitted(&s.on_timer(10_000.0)).pop().unwrap();
    // An echo service hands the ping back: an answer, not a message.
    assert!(s.on_message(epoch, Some(&ping), 10_010.0).is_empty());
    assert!(!reconnected(&tick(&mut s, 11_000.0, 10_009.0 + timeout)));
    let out = s.on_timer(10_010.0 + timeout);
    assert!(reconnected(&out), "dead after the timeout of silence");
    assert!(out.contains(&SocketCommand::CloseTask {
        epoch,
        code: GIVE_UP_CODE,
        reason: "heartbeat timeout"
    }));
    // The next connection must answer again before its silence counts: a
    // service that stopped answering pings is not reconnected every 25 s.
    let (_, delay) = reconnect_delay(&out).unwrap();
    let at = 10_010.0 + timeout + f64::from(delay);
    let epoch = connect_epoch(&s.on_timer(at)).unwrap();
    s.on_open(epoch, at);
    let out = tick(&mut s, at, at + 600_000.0);
    assert!(!reconnected(&out));
    assert_eq!(transmitted(&out).len(), 60);
    // It answers again: silence counts again.
    let now = at + 600_500.0;
    assert!(s
        .on_message(epoch, Some("{ \"t\": 1, \"type\": \"pong\" }"), now)
        .is_empty());
    assert!(reconnected(&tick(&mut s, now, now + timeout + 1000.0)));
}

#[test]
fn heartbeat_on_counts_silence_from_the_start() {
    let c = heartbeat(Some(true));
    assert_eq!(c.heartbeat, Heartbeat::On);
    let timeout = f64::from(c.heartbeat_timeout_ms);
    let mut s = socket(c);
    open(&mut s, 0.0);
    assert!(!reconnected(&tick(&mut s, 0.0, timeout - 1000.0)));
    let out = s.on_timer(timeout);
    assert!(reconnected(&out), "no answer to any ping: dead");
    assert_eq!(s.state(), State::Reconnecting);
}

#[test]
fn control_frames_are_parsed_and_everything_else_is_delivered() {
    let c = RawSocketConfig {
        acked: Some(true),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut s = socket(c);
    let epoch = open(&mut s, 0.0);
    for n in 1..=3 {
        s.send(&n.to_string()).unwrap();
    }
    assert_eq!(s.pending(), 3);
    // Key order and spacing do not matter.
    assert!(s
        .on_message(epoch, Some("{\"id\":1,\"type\":\"ack\"}"), 1.0)
        .is_empty());
    assert!(s
        .on_message(epoch, Some(" { \"type\" : \"ack\" , \"id\" : 2 } "), 2.0)
        .is_empty());
    assert_eq!(s.pending(), 1);
    for app in [
        "{\"type\":\"message\",\"content\":\"Hello WebSocket\"}",
        "{\"type\":\"ack\",\"id\":3,\"from\":\"chat\"}",
        "{\"type\":\"pong\",\"score\":3}",
        "{\"type\":\"ping\"}",
        "{\"type\":\"pong\"",
        "hello",
    ] {
        assert_eq!(
            s.on_message(epoch, Some(app), 3.0),
            [SocketCommand::Deliver],
            "{app}"
        );
    }
    assert_eq!(
        s.pending(),
        1,
        "an app message that looks like an ack acks nothing"
    );
    // Frames the shim did not copy in (large, binary) are the caller's.
    assert_eq!(s.on_message(epoch, None, 4.0), [SocketCommand::Deliver]);
    // Plain mode: an ack frame is the caller's message.
    let mut plain = socket(SocketConfig::DEFAULT);
    let epoch = open(&mut plain, 0.0);
    assert_eq!(
        plain.on_message(epoch, Some("{\"type\":\"ack\",\"id\":1}"), 1.0),
        [SocketCommand::Deliver]
    );
}

#[test]
fn a_burst_of_late_timers_is_judged_by_the_clock_not_counted() {
    let c = SocketConfig::DEFAULT;
    let mut s = socket(c);
    let epoch = open(&mut s, 0.0);
    // Five timers fire at once, late but within the timeout of the last message.
    s.on_message(epoch, Some("hello"), 20_000.0);
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
        s.on_message(epoch, Some("{\"type\":\"ack\",\"id\":1}"), 1.0)
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
    s.on_message(epoch, Some("{\"type\":\"ack\",\"id\":3}"), 3001.0);
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
                3 => s.on_message(epoch, Some("m"), now),
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
