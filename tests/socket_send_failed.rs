//! Frames the platform refuses to send (`SocketTask.send` calls `fail`), natively
//! under a virtual clock: kept and sent again on the next connection, in order;
//! one reconnect however many refusals a dead task reports; named in an error
//! when they cannot be kept; nothing lost silently, nothing duplicated,
//! nothing growing past the outbox's bounds.
#![cfg(not(target_arch = "wasm32"))]

use mp_request::core::socket::config::SocketConfig;
use mp_request::core::socket::machine::{Socket, SocketCommand, SocketEvent, State, OWN_FRAME};
use proptest::prelude::*;

const NOT_CONNECTED: &str = "sendSocketMessage:fail WebSocket is not connected";

fn plain() -> SocketConfig {
    SocketConfig::DEFAULT
}

fn acked() -> SocketConfig {
    SocketConfig {
        acked: true,
        ..SocketConfig::DEFAULT
    }
}

fn connect_epoch(commands: &[SocketCommand]) -> Option<u32> {
    commands.iter().find_map(|c| match c {
        SocketCommand::Connect { epoch } => Some(*epoch),
        _ => None,
    })
}

/// `(epoch, seq, text)` of every frame handed to the platform.
fn transmits(commands: &[SocketCommand]) -> Vec<(u32, u64, String)> {
    commands
        .iter()
        .filter_map(|c| match c {
            SocketCommand::Transmit { epoch, seq, text } => Some((*epoch, *seq, text.clone())),
            _ => None,
        })
        .collect()
}

fn texts(commands: &[SocketCommand]) -> Vec<String> {
    transmits(commands).into_iter().map(|(_, _, t)| t).collect()
}

fn reconnects(commands: &[SocketCommand]) -> usize {
    commands
        .iter()
        .filter(|c| matches!(c, SocketCommand::Emit(SocketEvent::Reconnecting { .. })))
        .count()
}

/// `(detail, unsent)` of every error event.
fn errors(commands: &[SocketCommand]) -> Vec<(String, Vec<String>)> {
    commands
        .iter()
        .filter_map(|c| match c {
            SocketCommand::Emit(SocketEvent::Error { detail, unsent }) => {
                Some((detail.clone(), unsent.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Opens a fresh socket at `now`: its epoch.
fn open(s: &mut Socket, now: f64) -> u32 {
    let epoch = connect_epoch(&s.start(now)).expect("connects");
    s.on_open(epoch, now);
    epoch
}

/// Waits out the backoff and opens the next task: the commands of the open.
fn reconnect(s: &mut Socket, now: f64) -> (u32, Vec<SocketCommand>) {
    let epoch = connect_epoch(&s.on_timer(now)).expect("reconnects");
    (epoch, s.on_open(epoch, now))
}

/// Sends `payload` while open: the frame handed to the platform.
fn send_now(s: &mut Socket, payload: &str) -> (u32, u64, String) {
    transmits(&s.send(payload).unwrap()).remove(0)
}

#[test]
fn a_refused_frame_is_sent_again_on_the_next_connection_in_order_with_later_frames() {
    let mut s = Socket::new(plain(), 7);
    open(&mut s, 0.0);
    let first = send_now(&mut s, "1");
    let (epoch, seq, text) = send_now(&mut s, "2");
    let third = send_now(&mut s, "3");
    assert!((first.1, seq, third.1) == (1, 2, 3), "sequence numbers");
    // The task is dead: the platform refuses 2 and 3 (1 went out).
    let out = s.on_send_failed(epoch, seq, &text, NOT_CONNECTED, 10.0);
    assert_eq!(
        reconnects(&out),
        1,
        "a refusal on the current task loses it"
    );
    assert!(out.iter().any(|c| matches!(
        c,
        SocketCommand::CloseTask { epoch: e, reason: "send failed", .. } if *e == epoch
    )));
    assert!(errors(&out).is_empty(), "nothing lost: no error event");
    s.on_send_failed(epoch, third.1, &third.2, NOT_CONNECTED, 11.0);
    s.send("4").unwrap();
    assert_eq!(s.pending(), 3);
    let (next, out) = reconnect(&mut s, 20_000.0);
    assert_eq!(
        transmits(&out),
        [
            (next, 2, "2".to_owned()),
            (next, 3, "3".to_owned()),
            (next, 4, "4".to_owned())
        ],
        "the refused frames first, at their places, then the later one"
    );
    assert_eq!(s.pending(), 0);
}

#[test]
fn a_refusal_from_an_older_task_does_not_trigger_a_second_reconnect() {
    let mut s = Socket::new(plain(), 7);
    open(&mut s, 0.0);
    let (epoch, seq, text) = send_now(&mut s, "a");
    let late = send_now(&mut s, "b");
    let first = s.on_send_failed(epoch, seq, &text, NOT_CONNECTED, 10.0);
    assert_eq!(reconnects(&first), 1);
    let state = s.state();
    let out = s.on_send_failed(epoch, late.1, &late.2, NOT_CONNECTED, 11.0);
    assert!(out.is_empty(), "only kept: {out:?}");
    assert_eq!(s.state(), state);
    // Nor does the task's onError or onClose that follows.
    assert!(s.on_error(epoch, NOT_CONNECTED, 12.0).is_empty());
    assert!(s.on_close(epoch, 1006, "", 13.0).is_empty());
    let (_, out) = reconnect(&mut s, 20_000.0);
    assert_eq!(texts(&out), ["a", "b"], "but the frame is kept");
}

#[test]
fn a_refusal_reported_after_the_next_connection_opened_is_sent_there_at_once() {
    let mut s = Socket::new(plain(), 7);
    let old = open(&mut s, 0.0);
    let stale = send_now(&mut s, "late");
    s.on_close(old, 1006, "gone", 5.0);
    let (now_open, _) = reconnect(&mut s, 20_000.0);
    let out = s.on_send_failed(old, stale.1, &stale.2, NOT_CONNECTED, 20_001.0);
    assert_eq!(transmits(&out), [(now_open, stale.1, "late".to_owned())]);
    assert_eq!(reconnects(&out), 0);
    assert_eq!(s.state(), State::Open);
}

#[test]
fn an_outbox_that_cannot_take_a_refused_frame_back_emits_an_error_naming_it() {
    let mut s = Socket::new(
        SocketConfig {
            outbox_max_messages: 2,
            ..plain()
        },
        7,
    );
    open(&mut s, 0.0);
    let a = send_now(&mut s, "\"a\"");
    let b = send_now(&mut s, "{\"b\":2}");
    s.on_send_failed(a.0, a.1, &a.2, NOT_CONNECTED, 10.0);
    s.send("\"c\"").unwrap();
    assert_eq!(s.pending(), 2, "full: a back in, c queued");
    let out = s.on_send_failed(b.0, b.1, &b.2, NOT_CONNECTED, 11.0);
    let errors = errors(&out);
    assert_eq!(errors.len(), 1);
    let (detail, unsent) = &errors[0];
    assert_eq!(unsent, &["{\"b\":2}"], "the frame, as the caller sent it");
    assert!(
        detail.starts_with(NOT_CONNECTED) && detail.contains("the outbox is full (2 messages"),
        "{detail}"
    );
    assert_eq!(s.pending(), 2, "nothing grew past the bound");
    let (_, out) = reconnect(&mut s, 20_000.0);
    assert_eq!(texts(&out), ["\"a\"", "\"c\""]);
}

#[test]
fn a_refused_ping_loses_the_task_and_keeps_nothing() {
    let c = plain();
    let mut s = Socket::new(c, 7);
    let epoch = open(&mut s, 0.0);
    let interval = f64::from(c.heartbeat_interval_ms);
    let ping = transmits(&s.on_timer(interval)).remove(0);
    assert_eq!(ping.1, OWN_FRAME);
    let out = s.on_send_failed(epoch, ping.1, &ping.2, NOT_CONNECTED, interval + 1.0);
    assert_eq!(reconnects(&out), 1);
    assert_eq!(s.pending(), 0, "a ping is not kept");
}

#[test]
fn acked_mode_keeps_a_refused_frame_once_and_resends_it_with_its_id() {
    let mut s = Socket::new(acked(), 7);
    open(&mut s, 0.0);
    let one = send_now(&mut s, "1");
    let two = send_now(&mut s, "2");
    let out = s.on_send_failed(one.0, one.1, &one.2, NOT_CONNECTED, 10.0);
    assert_eq!(reconnects(&out), 1);
    s.on_send_failed(two.0, two.1, &two.2, NOT_CONNECTED, 11.0);
    s.on_send_failed(two.0, two.1, &two.2, NOT_CONNECTED, 12.0);
    assert_eq!(s.pending(), 2, "still the two unacked frames, no copies");
    let (_, out) = reconnect(&mut s, 20_000.0);
    assert_eq!(
        texts(&out),
        [
            "{\"type\":\"msg\",\"id\":1,\"data\":1}",
            "{\"type\":\"msg\",\"id\":2,\"data\":2}"
        ]
    );
}

#[test]
fn closing_with_frames_waiting_names_them_before_the_close_event() {
    let mut s = Socket::new(acked(), 7);
    open(&mut s, 0.0);
    send_now(&mut s, "{\"n\":1}"); // sent, not acked
    let epoch = s.epoch();
    s.on_close(epoch, 1006, "gone", 1.0);
    s.send("\"queued\"").unwrap();
    let out = s.close();
    assert_eq!(
        errors(&out),
        [(
            "closed by the caller; 2 message(s) were not sent".to_owned(),
            vec!["{\"n\":1}".to_owned(), "\"queued\"".to_owned()]
        )]
    );
    let error_at = out
        .iter()
        .position(|c| matches!(c, SocketCommand::Emit(SocketEvent::Error { .. })));
    let close_at = out
        .iter()
        .position(|c| matches!(c, SocketCommand::Emit(SocketEvent::Close { .. })));
    assert!(error_at < close_at);
    assert_eq!(s.pending(), 0);
    // A refusal reported after the close names its frame too (plain mode).
    let mut p = Socket::new(plain(), 7);
    open(&mut p, 0.0);
    let (epoch, seq, text) = send_now(&mut p, "last");
    p.close();
    let out = p.on_send_failed(epoch, seq, &text, NOT_CONNECTED, 2.0);
    assert_eq!(errors(&out)[0].1, ["last"]);
}

#[test]
fn giving_up_names_the_frames_still_waiting() {
    let mut s = Socket::new(plain(), 7);
    let epoch = open(&mut s, 0.0);
    s.on_close(epoch, 1006, "", 1.0);
    s.send("\"x\"").unwrap();
    let epoch = connect_epoch(&s.on_timer(20_000.0)).unwrap();
    let out = s.on_close(epoch, 4401, "unauthorized", 20_001.0);
    assert_eq!(s.state(), State::Failed);
    let errors = errors(&out);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].1, ["\"x\""]);
    assert!(errors[0].0.contains("reconnecting cannot help"));
    assert_eq!(s.pending(), 0);
}

/// A platform for the property test: it delivers frames on the open task
/// unless that task is broken, and reports refusals later, in order.
#[derive(Default)]
struct Platform {
    open_epoch: Option<u32>,
    connecting: Option<u32>,
    broken: bool,
    refusals: Vec<(u32, u64, String)>,
    /// Payload numbers the server received, per transmission.
    delivered: Vec<u32>,
    /// Payload numbers named in error events.
    reported: Vec<u32>,
    acked: bool,
    transmitted_since_open: Vec<u64>,
}

impl Platform {
    fn apply(&mut self, out: Vec<SocketCommand>) -> Result<(), TestCaseError> {
        for command in out {
            match command {
                SocketCommand::Connect { epoch } => {
                    prop_assert!(
                        self.open_epoch.is_none() && self.connecting.is_none(),
                        "a second task while one is live"
                    );
                    self.connecting = Some(epoch);
                    self.open_epoch = None;
                    self.broken = false;
                    self.transmitted_since_open.clear();
                }
                SocketCommand::CloseTask { epoch, .. } => {
                    if self.open_epoch == Some(epoch) {
                        self.open_epoch = None;
                    }
                    if self.connecting == Some(epoch) {
                        self.connecting = None;
                    }
                }
                SocketCommand::Transmit { epoch, seq, text } => {
                    if seq == OWN_FRAME {
                        continue;
                    }
                    prop_assert!(
                        !self.transmitted_since_open.contains(&seq),
                        "frame {} sent twice on one connection",
                        seq
                    );
                    self.transmitted_since_open.push(seq);
                    if self.open_epoch == Some(epoch) && !self.broken {
                        self.delivered.push(payload_number(&text, self.acked));
                    } else {
                        self.refusals.push((epoch, seq, text));
                    }
                }
                SocketCommand::Emit(SocketEvent::Error { unsent, .. }) => {
                    self.reported
                        .extend(unsent.iter().map(|t| payload_number(t, false)));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The payload number `n` of a frame: `n` in plain mode, or inside an acked frame.
fn payload_number(text: &str, acked: bool) -> u32 {
    let data = if acked {
        let at = text.find(",\"data\":").unwrap() + 8;
        &text[at..text.len() - 1]
    } else {
        text
    };
    data.parse().unwrap()
}

proptest! {
    #[test]
    fn nothing_is_lost_silently_duplicated_or_grown_past_its_bounds_and_one_task_at_a_time(
        acked_mode in any::<bool>(),
        ops in proptest::collection::vec((0u8..9, 0u32..3000), 1..150),
    ) {
        let config = SocketConfig {
            outbox_max_messages: 4,
            outbox_max_bytes: 200,
            acked: acked_mode,
            ..SocketConfig::DEFAULT
        };
        let mut s = Socket::new(config, 3);
        let mut platform = Platform { acked: acked_mode, ..Platform::default() };
        let mut now = 0.0;
        let mut accepted = Vec::new();
        let mut next = 0u32;
        platform.apply(s.start(now))?;
        for (op, dt) in ops {
            now += f64::from(dt);
            let out = match op {
                0 | 1 => {
                    next += 1;
                    match s.send(&next.to_string()) {
                        Ok(out) => { accepted.push(next); out }
                        Err(_) => Vec::new(), // refused to the caller's face: not lost silently
                    }
                }
                2 => match platform.connecting.take() {
                    Some(epoch) => {
                        platform.open_epoch = Some(epoch);
                        s.on_open(epoch, now)
                    }
                    None => Vec::new(),
                },
                3 => { platform.broken = true; Vec::new() }
                4 | 5 => {
                    if platform.refusals.is_empty() { Vec::new() } else {
                        let (epoch, seq, text) = platform.refusals.remove(0);
                        s.on_send_failed(epoch, seq, &text, NOT_CONNECTED, now)
                    }
                }
                6 => match platform.open_epoch.take() {
                    Some(epoch) => s.on_close(epoch, 1006, "", now),
                    None => Vec::new(),
                },
                7 => match (platform.open_epoch, acked_mode) {
                    // The server acks the newest frame it got (acks are cumulative).
                    (Some(epoch), true) => match platform.transmitted_since_open.last() {
                        Some(id) if !platform.broken => s.on_message(epoch, Some(&format!("{{\"type\":\"ack\",\"id\":{id}}}")), now),
                        _ => Vec::new(),
                    },
                    _ => Vec::new(),
                },
                _ => s.on_timer(now),
            };
            platform.apply(out)?;
            prop_assert!(s.pending() <= config.outbox_max_messages as usize);
        }
        platform.apply(s.close())?;
        while !platform.refusals.is_empty() {
            let (epoch, seq, text) = platform.refusals.remove(0);
            platform.apply(s.on_send_failed(epoch, seq, &text, NOT_CONNECTED, now))?;
        }
        prop_assert_eq!(s.pending(), 0);
        for n in accepted {
            let delivered = platform.delivered.iter().filter(|d| **d == n).count();
            let reported = platform.reported.iter().filter(|r| **r == n).count();
            prop_assert!(delivered + reported > 0, "message {} lost silently", n);
            prop_assert!(reported <= 1, "message {} reported {} times", n, reported);
            if !acked_mode {
                prop_assert_eq!(delivered + reported, 1, "message {}: delivered {} and reported {}", n, delivered, reported);
            }
        }
    }
}
