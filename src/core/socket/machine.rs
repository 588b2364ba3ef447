//! One managed socket's state machine. The shim reports what the SocketTask
//! and the platform did (open, message, close, error, timer, network,
//! app hide/show) and executes the commands this answers with. Each
//! SocketTask gets an epoch: events of an older task are ignored, so a task
//! reporting both `onError` and `onClose` never causes two reconnects.
//! Deadlines are instants compared with `now`, not counted timer ticks, so a
//! burst of late timers after the app returns from the background is harmless.
//! Nothing the caller sent is lost silently: a frame the platform refuses
//! goes back to the outbox, and frames given up are named in an `error` event.

use super::config::{Heartbeat, SocketConfig};
use super::control::{control, Control};
use super::outbox::{Frame, Outbox};
use super::pushed::Pushed;
use crate::core::error::RequestError;
use crate::core::rng::Rng;
use crate::prelude::*;

/// Where a managed socket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not started yet.
    Idle,
    /// A SocketTask is being opened.
    Connecting,
    /// Open: messages flow.
    Open,
    /// Waiting to reconnect.
    Reconnecting,
    /// No reconnecting while offline or in the background.
    Paused,
    /// Closed by the caller: never reconnects.
    Closed,
    /// Gave up (too many attempts, or the server refused for good).
    Failed,
}

impl State {
    /// The stable name JS sees.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Connecting => "connecting",
            State::Open => "open",
            State::Reconnecting => "reconnecting",
            State::Paused => "paused",
            State::Closed => "closed",
            State::Failed => "failed",
        }
    }
}

/// What the shim must do.
#[derive(Clone, Debug, PartialEq)]
pub enum SocketCommand {
    /// Open a new SocketTask for this epoch.
    Connect {
        /// Events of this task carry it.
        epoch: u32,
    },
    /// Close the SocketTask of this epoch.
    CloseTask {
        /// The task.
        epoch: u32,
        /// Close code.
        code: u16,
        /// Close reason (at most 123 bytes).
        reason: &'static str,
    },
    /// Send a text frame on the task of this epoch.
    Transmit {
        /// The task.
        epoch: u32,
        /// The frame's sequence number, reported back if the platform refuses
        /// it; `OWN_FRAME` for the socket's own frames (pings).
        seq: u64,
        /// The frame.
        text: String,
    },
    /// Give the frame just reported (`on_message`) to the caller, as it
    /// was received: the shim holds it (most frames never cross into the
    /// wasm).
    Deliver,
    /// A service pushed an invalidation (`pushed`): hand it to the request
    /// engine, which drops the current user's matching entries.
    Invalidate {
        /// What to drop: `Pushed::Invalidate`'s `names`.
        names: String,
    },
    /// A frame of the library's that this version does not act on: count it
    /// (it never reaches the caller).
    Ignored {
        /// Why.
        detail: &'static str,
    },
    /// Tell the caller.
    Emit(SocketEvent),
    /// Call `on_timer` at this instant (replaces any earlier request).
    Timer {
        /// Epoch ms.
        at_ms: f64,
    },
}

/// What the caller hears about.
#[derive(Clone, Debug, PartialEq)]
pub enum SocketEvent {
    /// The socket is open (again).
    Open,
    /// The connection is gone.
    Close {
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
        /// Whether a reconnect will follow.
        reconnecting: bool,
    },
    /// Something went wrong (the detail says what).
    Error {
        /// What.
        detail: String,
        /// What the caller sent and will never be sent, in order, as given
        /// (strings as they are, other data as JSON). Usually empty.
        unsent: Vec<String>,
    },
    /// A reconnect is scheduled.
    Reconnecting {
        /// 1 for the first reconnect in a row.
        attempt: u32,
        /// After this long.
        delay_ms: u32,
    },
    /// The state changed.
    State(State),
}

/// Codes after which reconnecting cannot help: policy and authorisation.
/// Refresh the credentials and open a new socket instead.
pub fn is_fatal_close(code: u16) -> bool {
    matches!(code, 1008 | 4001 | 4003 | 4401 | 4403)
}

/// Close code used when this side gives a task up (no answer in time).
pub const GIVE_UP_CODE: u16 = 4000;

/// The sequence number of the socket's own frames (pings): nothing to keep
/// when the platform refuses one.
pub const OWN_FRAME: u64 = 0;

/// One managed socket.
#[derive(Debug)]
pub struct Socket {
    config: SocketConfig,
    state: State,
    epoch: u32,
    /// Reconnect attempts in a row without a lasting connection.
    attempt: u32,
    connect_deadline: f64,
    retry_at: f64,
    opened_at: f64,
    last_seen: f64,
    next_ping_at: f64,
    /// The service answers pings (`Heartbeat::Auto` counts silence only then).
    answers_pings: bool,
    online: bool,
    hidden: bool,
    outbox: Outbox,
    rng: Rng,
}

impl Socket {
    /// A socket that has not started.
    pub fn new(config: SocketConfig, seed: u32) -> Self {
        Socket {
            outbox: Outbox::new(
                config.outbox_max_messages,
                config.outbox_max_bytes,
                config.acked,
            ),
            config,
            state: State::Idle,
            epoch: 0,
            attempt: 0,
            connect_deadline: 0.0,
            retry_at: 0.0,
            opened_at: 0.0,
            last_seen: 0.0,
            next_ping_at: 0.0,
            answers_pings: false,
            online: true,
            hidden: false,
            rng: Rng::new(u64::from(seed)),
        }
    }

    /// Where it is.
    pub fn state(&self) -> State {
        self.state
    }

    /// Messages waiting to be sent or acked.
    pub fn pending(&self) -> usize {
        self.outbox.pending()
    }

    /// The epoch of the current task.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Starts connecting.
    pub fn start(&mut self, now: f64) -> Vec<SocketCommand> {
        if self.state != State::Idle {
            return Vec::new();
        }
        self.connect(now)
    }

    /// The task of `epoch` opened.
    pub fn on_open(&mut self, epoch: u32, now: f64) -> Vec<SocketCommand> {
        if epoch != self.epoch || self.state != State::Connecting {
            return Vec::new();
        }
        self.state = State::Open;
        self.opened_at = now;
        self.last_seen = now;
        self.next_ping_at = now + f64::from(self.config.heartbeat_interval_ms);
        // What waited goes out before listeners hear `open`: one that sends
        // or closes from there cannot overtake or strand it.
        let mut out = Vec::new();
        for frame in self.outbox.flush() {
            out.push(SocketCommand::Transmit {
                epoch,
                seq: frame.seq,
                text: frame.text,
            });
        }
        out.push(SocketCommand::Emit(SocketEvent::Open));
        out.push(SocketCommand::Emit(SocketEvent::State(State::Open)));
        out.push(self.timer());
        out
    }

    /// A frame arrived on the task of `epoch`: its text when it may be a
    /// control frame (small, starting with `{`), None for any other frame
    /// (larger text, binary), which is the caller's whatever it holds. Every
    /// frame is a sign of life. Pongs, the socket's own pings coming back
    /// from an echo service, and acks (acked mode) are the socket's own;
    /// frames a service pushes to the library go to the request engine;
    /// everything else goes to the caller.
    pub fn on_message(&mut self, epoch: u32, text: Option<&str>, now: f64) -> Vec<SocketCommand> {
        if epoch != self.epoch || self.state != State::Open {
            return Vec::new();
        }
        self.last_seen = now;
        match text.and_then(control) {
            Some(Control::Pong | Control::Ping) => {
                self.answers_pings = true;
                Vec::new()
            }
            Some(Control::Ack(id)) if self.config.acked => {
                self.outbox.ack(id);
                Vec::new()
            }
            Some(Control::Pushed(Pushed::Invalidate { names })) => {
                vec![SocketCommand::Invalidate { names }]
            }
            Some(Control::Pushed(Pushed::Ignored(detail))) => {
                vec![SocketCommand::Ignored { detail }]
            }
            _ => vec![SocketCommand::Deliver],
        }
    }

    /// The task of `epoch` closed (by the server, the gateway or the platform).
    pub fn on_close(
        &mut self,
        epoch: u32,
        code: u16,
        reason: &str,
        now: f64,
    ) -> Vec<SocketCommand> {
        if epoch != self.epoch || !matches!(self.state, State::Connecting | State::Open) {
            return Vec::new();
        }
        self.lost(code, reason, now)
    }

    /// The task of `epoch` failed. Treated as lost (a close that may follow
    /// for the same task is then ignored: its epoch is over).
    pub fn on_error(&mut self, epoch: u32, detail: &str, now: f64) -> Vec<SocketCommand> {
        if !self.is_live(epoch) {
            return Vec::new();
        }
        let mut out = vec![error(detail.to_owned(), Vec::new())];
        out.extend(self.task_failed("error", detail, now));
        out
    }

    /// The platform refused to send frame `seq` (`text`, as transmitted) on
    /// the task of `epoch`. The frame is kept: back to its place in the
    /// outbox (plain mode) or still unacked (acked mode); sent at once if a
    /// newer task is already open; named in an `error` event if it cannot be
    /// kept. A refusal on the current task means the task is unusable: lost,
    /// as with `onError`. A refusal reported for an older task changes
    /// nothing else (its loss was handled once already).
    pub fn on_send_failed(
        &mut self,
        epoch: u32,
        seq: u64,
        text: &str,
        detail: &str,
        now: f64,
    ) -> Vec<SocketCommand> {
        let mut out = if seq == OWN_FRAME {
            Vec::new()
        } else {
            self.keep_refused(epoch, seq, text, detail)
        };
        if self.is_live(epoch) {
            out.extend(self.task_failed("send failed", detail, now));
        }
        out
    }

    /// A requested timer fired (possibly late, possibly in a burst).
    pub fn on_timer(&mut self, now: f64) -> Vec<SocketCommand> {
        match self.state {
            State::Connecting if now >= self.connect_deadline => {
                let mut out = vec![SocketCommand::CloseTask {
                    epoch: self.epoch,
                    code: GIVE_UP_CODE,
                    reason: "connect timeout",
                }];
                out.extend(self.lost(GIVE_UP_CODE, "connect timeout", now));
                out
            }
            State::Reconnecting if now >= self.retry_at => self.connect(now),
            State::Open if now >= self.silence_deadline() => {
                // The next connection must answer a ping before its silence
                // counts (auto): a service that stopped answering is not
                // reconnected again and again.
                self.answers_pings = false;
                let mut out = vec![SocketCommand::CloseTask {
                    epoch: self.epoch,
                    code: GIVE_UP_CODE,
                    reason: "heartbeat timeout",
                }];
                out.extend(self.lost(GIVE_UP_CODE, "heartbeat timeout", now));
                out
            }
            State::Open if self.config.heartbeat != Heartbeat::Off && now >= self.next_ping_at => {
                self.next_ping_at = now + f64::from(self.config.heartbeat_interval_ms);
                let ping = SocketCommand::Transmit {
                    epoch: self.epoch,
                    seq: OWN_FRAME,
                    text: format!("{{\"type\":\"ping\",\"t\":{}}}", now as u64),
                };
                vec![ping, self.timer()]
            }
            State::Connecting | State::Reconnecting | State::Open => vec![self.timer()],
            _ => Vec::new(),
        }
    }

    /// The caller sends `payload` (JSON text). Sent now when open, queued
    /// otherwise; refused when the outbox is full or the socket is over.
    pub fn send(&mut self, payload: &str) -> Result<Vec<SocketCommand>, RequestError> {
        if matches!(self.state, State::Closed | State::Failed) {
            return Err(RequestError::invalid(
                "send",
                format!("refused: the socket is {}", self.state.as_str()),
            ));
        }
        if payload.len() > crate::core::limits::MAX_BODY_BYTES {
            return Err(crate::core::limits::body_too_large(payload.len()));
        }
        let frame = self.outbox.frame(payload)?;
        if self.state != State::Open {
            self.outbox.queue(frame);
            return Ok(Vec::new());
        }
        let (seq, text) = (frame.seq, frame.text.clone());
        self.outbox.sent(frame);
        Ok(vec![SocketCommand::Transmit {
            epoch: self.epoch,
            seq,
            text,
        }])
    }

    /// The caller closes: no reconnect, ever. Messages still waiting are not
    /// sent: an `error` event names them (before the close event), and the
    /// close event's reason counts them.
    pub fn close(&mut self) -> Vec<SocketCommand> {
        if matches!(self.state, State::Closed | State::Failed) {
            return Vec::new();
        }
        let mut out = Vec::new();
        if matches!(self.state, State::Connecting | State::Open) {
            out.push(SocketCommand::CloseTask {
                epoch: self.epoch,
                code: 1000,
                reason: "closed by the caller",
            });
        }
        self.epoch += 1;
        self.state = State::Closed;
        let unsent = self.outbox.pending();
        let reason = if unsent == 0 {
            "closed by the caller".to_owned()
        } else {
            format!("closed by the caller; {unsent} message(s) were not sent")
        };
        if unsent > 0 {
            out.push(error(reason.clone(), self.outbox.drain()));
        }
        out.push(SocketCommand::Emit(SocketEvent::Close {
            code: 1000,
            reason,
            reconnecting: false,
        }));
        out.push(SocketCommand::Emit(SocketEvent::State(State::Closed)));
        out
    }

    /// The network came and went (`wx.onNetworkStatusChange`).
    pub fn set_online(&mut self, online: bool, now: f64) -> Vec<SocketCommand> {
        self.online = online;
        match self.state {
            State::Reconnecting if !online => self.pause(),
            // Back online: reconnect at once rather than after the backoff.
            State::Paused | State::Reconnecting if online && !self.hidden => self.connect(now),
            _ => Vec::new(),
        }
    }

    /// The app went to the background or came back (`wx.onAppHide` / `wx.onAppShow`).
    pub fn set_hidden(&mut self, hidden: bool, now: f64) -> Vec<SocketCommand> {
        self.hidden = hidden;
        match self.state {
            State::Reconnecting if hidden => self.pause(),
            State::Paused | State::Reconnecting if !hidden && self.online => {
                // A fresh connection on show, with a fresh backoff.
                self.attempt = 0;
                self.connect(now)
            }
            State::Open if !hidden => {
                // Timers were frozen: start the silence count from now and probe.
                self.last_seen = now;
                self.next_ping_at = now;
                self.on_timer(now)
            }
            _ => Vec::new(),
        }
    }

    fn connect(&mut self, now: f64) -> Vec<SocketCommand> {
        if !self.online || self.hidden {
            return self.pause();
        }
        self.epoch += 1;
        self.state = State::Connecting;
        self.connect_deadline = now + f64::from(self.config.connect_timeout_ms);
        vec![
            SocketCommand::Connect { epoch: self.epoch },
            SocketCommand::Emit(SocketEvent::State(State::Connecting)),
            self.timer(),
        ]
    }

    /// Whether `epoch` is the current task, opening or open.
    fn is_live(&self, epoch: u32) -> bool {
        epoch == self.epoch && matches!(self.state, State::Connecting | State::Open)
    }

    /// The current task is unusable: close it and treat it as lost.
    fn task_failed(&mut self, why: &'static str, detail: &str, now: f64) -> Vec<SocketCommand> {
        let mut out = vec![SocketCommand::CloseTask {
            epoch: self.epoch,
            code: GIVE_UP_CODE,
            reason: why,
        }];
        out.extend(self.lost(1006, detail, now));
        out
    }

    /// Keeps a frame the platform refused, or names it when it cannot.
    fn keep_refused(
        &mut self,
        epoch: u32,
        seq: u64,
        text: &str,
        detail: &str,
    ) -> Vec<SocketCommand> {
        if self.config.acked {
            // Still unacked (resent on the next open, or already resent if
            // that came first), or acked since: either way nothing to do.
            return Vec::new();
        }
        let frame = Frame {
            seq,
            text: text.to_owned(),
        };
        let kept = match self.state {
            // A newer task is open (the refusal came late): send it there now.
            State::Open if epoch != self.epoch => {
                return vec![SocketCommand::Transmit {
                    epoch: self.epoch,
                    seq,
                    text: frame.text,
                }]
            }
            State::Closed | State::Failed => Err(frame),
            _ => self.outbox.requeue(frame),
        };
        let Err(frame) = kept else {
            return Vec::new();
        };
        let full;
        let why = match self.state {
            State::Closed => "the socket is closed",
            State::Failed => "the socket failed",
            _ => {
                full = self.outbox.full();
                &full
            }
        };
        vec![error(
            format!("{detail}; the message was not sent: {why}"),
            vec![frame.text],
        )]
    }

    fn pause(&mut self) -> Vec<SocketCommand> {
        if self.state == State::Paused {
            return Vec::new();
        }
        self.state = State::Paused;
        vec![SocketCommand::Emit(SocketEvent::State(State::Paused))]
    }

    /// The current task is gone: reconnect after a backoff, pause, or stop.
    fn lost(&mut self, code: u16, reason: &str, now: f64) -> Vec<SocketCommand> {
        let lasted = self.state == State::Open
            && now - self.opened_at >= f64::from(self.config.min_uptime_ms);
        if lasted {
            self.attempt = 0;
        }
        self.epoch += 1;
        let close = |reconnecting| {
            SocketCommand::Emit(SocketEvent::Close {
                code,
                reason: reason.to_owned(),
                reconnecting,
            })
        };
        if is_fatal_close(code) {
            return self.fail(close(false), format!("the server closed with {code}: reconnecting cannot help; refresh credentials and open a new socket"));
        }
        if !self.online || self.hidden {
            let mut out = vec![close(true)];
            out.extend(self.pause());
            return out;
        }
        self.attempt += 1;
        if self
            .config
            .max_attempts
            .is_some_and(|max| self.attempt > max)
        {
            let detail = format!("gave up after {} reconnect attempts", self.attempt - 1);
            return self.fail(close(false), detail);
        }
        let delay_ms = self.config.delay(self.attempt, &mut self.rng);
        self.retry_at = now + f64::from(delay_ms);
        self.state = State::Reconnecting;
        vec![
            close(true),
            SocketCommand::Emit(SocketEvent::Reconnecting {
                attempt: self.attempt,
                delay_ms,
            }),
            SocketCommand::Emit(SocketEvent::State(State::Reconnecting)),
            self.timer(),
        ]
    }

    /// Gives up for good. What waits in the outbox will never be sent: the
    /// error event's `unsent` names it.
    fn fail(&mut self, close: SocketCommand, detail: String) -> Vec<SocketCommand> {
        self.state = State::Failed;
        vec![
            close,
            error(detail, self.outbox.drain()),
            SocketCommand::Emit(SocketEvent::State(State::Failed)),
        ]
    }

    /// When silence means the connection is dead (never, unless the
    /// heartbeat is on, or auto and the service answers pings).
    fn silence_deadline(&self) -> f64 {
        match self.config.heartbeat {
            Heartbeat::On => {}
            Heartbeat::Auto if self.answers_pings => {}
            _ => return f64::INFINITY,
        }
        self.last_seen + f64::from(self.config.heartbeat_timeout_ms)
    }

    /// The next instant anything is due.
    fn timer(&self) -> SocketCommand {
        let at_ms = match self.state {
            State::Connecting => self.connect_deadline,
            State::Reconnecting => self.retry_at,
            State::Open if self.config.heartbeat == Heartbeat::Off => f64::INFINITY,
            State::Open => self.next_ping_at.min(self.silence_deadline()),
            _ => f64::INFINITY,
        };
        SocketCommand::Timer { at_ms }
    }
}

/// An `error` event.
fn error(detail: String, unsent: Vec<String>) -> SocketCommand {
    SocketCommand::Emit(SocketEvent::Error { detail, unsent })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fatal_codes() {
        assert!(is_fatal_close(4401) && is_fatal_close(1008));
        assert!(!is_fatal_close(1000) && !is_fatal_close(1006) && !is_fatal_close(GIVE_UP_CODE));
    }
}
