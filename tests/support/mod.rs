//! A virtual-clock driver for the engine: it plays the shim's part in tests.
#![allow(dead_code)]

use mp_request::core::classify::Failure;
use mp_request::core::config::{parse_sdk_version, Platform, RawConfig};
use mp_request::core::engine::{Answer, Command, Engine, RequestId};
use mp_request::core::request::RawRequest;

pub const ENV: &str = "prod-5g94mx7a3d07e78c";

pub fn platform() -> Platform {
    Platform {
        has_cloud: true,
        sdk_version: parse_sdk_version("3.6.0"),
        device: Some("android".into()),
        env_version: Some("develop".into()),
    }
}

pub fn cloud_config() -> RawConfig {
    RawConfig {
        env: Some(ENV.into()),
        service: Some("golang-lfwy".into()),
        ..RawConfig::default()
    }
}

pub fn engine(raw: RawConfig, seed: u32) -> Engine {
    Engine::new(raw.validate().unwrap(), platform(), seed)
}

pub fn get(path: &str) -> RawRequest {
    RawRequest {
        path: path.into(),
        ..RawRequest::default()
    }
}

pub fn post(path: &str) -> RawRequest {
    RawRequest {
        method: Some("POST".into()),
        ..get(path)
    }
}

/// A 200 answering with `value` (for engines that keep strings).
pub fn answer(value: &str) -> Answer<String> {
    Answer {
        status: 200,
        retry_after: None,
        value: value.into(),
        user: None,
        body_not_json: false,
        validator: None,
    }
}

pub fn failure(err_msg: &str, err_code: Option<i32>) -> Failure {
    Failure {
        err_msg: err_msg.into(),
        err_code,
        errno: None,
        fault: false,
    }
}

pub fn timeout() -> Failure {
    failure(
        "cloud.callContainer:fail errCode: 102002 | errMsg: 请求超时",
        Some(102002),
    )
}

pub fn reset() -> Failure {
    failure(
        "cloud.callContainer:fail request:fail net::ERR_CONNECTION_RESET",
        None,
    )
}

/// The single command of a step besides `End`s, `SaveQueue`s, `WaitReplay`s
/// and an init's deadline, asserting there is exactly one.
pub fn one(commands: Vec<Command>) -> Command {
    // The deadline timer that goes with a cloud init is not a step of its own.
    let init = commands
        .iter()
        .any(|c| matches!(c, Command::InitCloud { .. }));
    let rest: Vec<Command> = commands
        .into_iter()
        .filter(|c| {
            !matches!(
                c,
                Command::End { .. } | Command::SaveQueue | Command::WaitReplay { .. }
            )
        })
        .filter(|c| !(init && matches!(c, Command::Wait { .. })))
        .collect();
    assert_eq!(rest.len(), 1, "{rest:?}");
    rest.into_iter().next().unwrap()
}

/// Answers every init at once and sends each attempt's outcome from
/// `outcomes` in turn, jumping the clock over waits and attempt durations.
/// Returns the final command and the log of what happened.
pub struct Drive {
    pub now: f64,
    pub log: Vec<String>,
}

pub enum Outcome {
    Status(u16),
    StatusRetryAfter(u16, &'static str),
    /// A 200 whose content type says JSON and whose body is not.
    BodyNotJson,
    Fail(Failure),
}

impl Drive {
    pub fn new() -> Self {
        Drive {
            now: 0.0,
            log: Vec::new(),
        }
    }

    /// Runs one request to its end. Each attempt takes `attempt_ms` (or its timeout, if shorter).
    pub fn run(
        &mut self,
        e: &mut Engine,
        request: RawRequest,
        outcomes: &mut dyn Iterator<Item = Outcome>,
        attempt_ms: f64,
    ) -> Command {
        let mut queue = e.start(request, self.now).expect("start").1;
        loop {
            queue = saved(e, queue, self.now);
            let command = one(queue);
            queue = match command {
                Command::InitCloud { attempt } => {
                    self.log.push(format!("init#{attempt}"));
                    e.on_init(Ok(()), self.now)
                }
                Command::Send(send) => {
                    self.now += attempt_ms.min(f64::from(send.timeout_ms));
                    self.log.push(format!("send#{}@{}", send.attempt, self.now));
                    match outcomes.next().expect("an outcome per attempt") {
                        Outcome::Status(s) => {
                            e.on_response(send.id, Answer::status(s, None), self.now)
                        }
                        Outcome::StatusRetryAfter(s, ra) => {
                            e.on_response(send.id, Answer::status(s, Some(ra)), self.now)
                        }
                        Outcome::BodyNotJson => {
                            let answer = Answer {
                                body_not_json: true,
                                validator: None,
                                ..Answer::status(200, None)
                            };
                            e.on_response(send.id, answer, self.now)
                        }
                        Outcome::Fail(f) => e.on_failure(send.id, f, self.now),
                    }
                    .expect("event accepted")
                }
                Command::Wait { id, delay_ms } => {
                    self.now += f64::from(delay_ms);
                    self.log.push(format!("wait {delay_ms}"));
                    e.on_timer(id, self.now).expect("timer accepted")
                }
                done @ (Command::Resolve(..) | Command::Reject(..)) => return done,
                other => panic!("unexpected {other:?}"),
            };
        }
    }
}

pub fn id_of(command: &Command) -> RequestId {
    match command {
        Command::Send(s) => s.id,
        Command::Wait { id, .. } => *id,
        Command::Resolve(s, _) | Command::Reject(s, _) => s.id,
        other => panic!("no id in {other:?}"),
    }
}

/// `commands` with every `SaveQueue` answered as a storage write that
/// succeeded (what follows from each answer comes after it).
pub fn saved(e: &mut Engine, commands: Vec<Command>, now: f64) -> Vec<Command> {
    let mut out = Vec::new();
    for command in commands {
        let save = command == Command::SaveQueue;
        out.push(command);
        if save {
            let answer = e.on_queue_saved(Ok(()), now);
            out.extend(saved(e, answer, now));
        }
    }
    out
}

// Watched queries (tests/watching.rs, tests/live.rs and their reviews).

/// The attempts `commands` send.
pub fn sends(commands: &[Command<String>]) -> Vec<mp_request::core::engine::Send> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// What `commands` tell watchers: (watchers, value).
pub fn watched(commands: &[Command<String>]) -> Vec<(Vec<u32>, String)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Watched { watches, value } => Some((watches.clone(), value.clone())),
            _ => None,
        })
        .collect()
}

/// How many coalescing timers `commands` arm.
pub fn timers(commands: &[Command<String>]) -> usize {
    commands
        .iter()
        .filter(|c| matches!(c, Command::WaitWatch { delay_ms } if *delay_ms == mp_request::core::engine::WATCH_COALESCE_MS))
        .count()
}
