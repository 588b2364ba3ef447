//! The sans-IO request engine: the shim reports events, the engine answers
//! with the next command. It never performs I/O and never reads a clock.

use std::collections::HashMap;

use super::classify::{classify, Failure};
use super::config::{ClientConfig, Platform};
use super::error::RequestError;
use super::request::{Method, RequestSpec};
use super::route::{self, Route, RouteChoice};

/// Largest request body callContainer accepts (errCode -606001 above it).
pub const CLOUD_MAX_BODY_BYTES: usize = 100 * 1024;

/// Longest timeout callContainer honours on the cloud link.
pub const CLOUD_MAX_TIMEOUT_MS: u32 = 15_000;

/// Identifies one request from `start` until it settles.
pub type RequestId = u32;

/// What the shim must do next for a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Make one attempt.
    Send(Send),
    /// The request succeeded with the last response.
    Resolve(Settled),
    /// The request failed.
    Reject(Settled, RequestError),
}

/// One attempt to make.
#[derive(Clone, Debug, PartialEq)]
pub struct Send {
    /// The request.
    pub id: RequestId,
    /// Where to send it and why.
    pub route: RouteChoice,
    /// The canonical method to send.
    pub method: Method,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Timeout of this attempt.
    pub timeout_ms: u32,
    /// Full URL on the HTTP route.
    pub url: Option<String>,
}

/// How a settled request went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settled {
    /// The request.
    pub id: RequestId,
    /// The route of the last attempt.
    pub route: Route,
    /// Attempts made.
    pub attempts: u32,
    /// From `start` to settling.
    pub elapsed_ms: f64,
}

#[derive(Debug)]
struct Pending {
    route: RouteChoice,
    attempts: u32,
    started_ms: f64,
}

/// The request engine of one client.
#[derive(Debug)]
pub struct Engine {
    config: ClientConfig,
    platform: Platform,
    pending: HashMap<RequestId, Pending>,
    next_id: RequestId,
}

impl Engine {
    /// An engine for a validated configuration on a platform.
    pub fn new(config: ClientConfig, platform: Platform) -> Self {
        Engine {
            config,
            platform,
            pending: HashMap::new(),
            next_id: 1,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Requests started and not yet settled.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Plans a new request; the first command is always a [`Command::Send`]
    /// unless the request is rejected before anything is sent.
    pub fn start(&mut self, spec: &RequestSpec, now_ms: f64) -> Result<Command, RequestError> {
        let choice = route::choose(&self.config, &self.platform)?;
        let timeout_ms = spec.timeout_ms.unwrap_or(self.config.timeout_ms);
        let (timeout_ms, url) = match choice.route {
            Route::Cloud => {
                check_cloud_limits(spec)?;
                (timeout_ms.min(CLOUD_MAX_TIMEOUT_MS), None)
            }
            Route::Http => {
                let base = self.config.base_url.as_deref().unwrap_or_default();
                (timeout_ms, Some(format!("{base}{}", spec.path)))
            }
        };
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.pending.insert(
            id,
            Pending {
                route: choice,
                attempts: 1,
                started_ms: now_ms,
            },
        );
        Ok(Command::Send(Send {
            id,
            route: choice,
            method: spec.method,
            attempt: 1,
            timeout_ms,
            url,
        }))
    }

    /// The attempt got an HTTP response with `status`.
    pub fn on_response(
        &mut self,
        id: RequestId,
        status: u16,
        now_ms: f64,
    ) -> Result<Command, RequestError> {
        let settled = self.settle(id, now_ms)?;
        Ok(if (200..300).contains(&status) {
            Command::Resolve(settled)
        } else {
            Command::Reject(settled, RequestError::Status { status })
        })
    }

    /// The attempt failed without a response.
    pub fn on_failure(
        &mut self,
        id: RequestId,
        failure: Failure,
        now_ms: f64,
    ) -> Result<Command, RequestError> {
        let settled = self.settle(id, now_ms)?;
        Ok(Command::Reject(settled, classify(failure)))
    }

    fn settle(&mut self, id: RequestId, now_ms: f64) -> Result<Settled, RequestError> {
        let pending = self.pending.remove(&id).ok_or_else(|| {
            RequestError::invalid("id", format!("{id} is not an in-flight request"))
        })?;
        Ok(Settled {
            id,
            route: pending.route.route,
            attempts: pending.attempts,
            elapsed_ms: (now_ms - pending.started_ms).max(0.0),
        })
    }
}

/// callContainer's limits, checked before sending so the caller gets a clear
/// error instead of the platform's code.
fn check_cloud_limits(spec: &RequestSpec) -> Result<(), RequestError> {
    if !matches!(
        spec.method,
        Method::Get | Method::Post | Method::Put | Method::Delete
    ) {
        return Err(RequestError::invalid(
            "method",
            format!(
                "{} is not supported by callContainer (GET, POST, PUT, DELETE only; errCode 102005)",
                spec.method.as_str()
            ),
        ));
    }
    if spec.body_bytes > CLOUD_MAX_BODY_BYTES {
        return Err(RequestError::invalid(
            "data",
            format!(
                "is {} bytes as JSON; callContainer accepts at most 100 KB (errCode -606001)",
                spec.body_bytes
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::RawConfig;
    use crate::core::error::ErrorKind;
    use crate::core::request::RawRequest;

    fn engine() -> Engine {
        let config = RawConfig {
            env: Some("prod-5g94mx7a3d07e78c".into()),
            service: Some("golang-lfwy".into()),
            ..RawConfig::default()
        }
        .validate()
        .unwrap();
        Engine::new(config, Platform { has_cloud: true })
    }

    fn get(path: &str) -> RequestSpec {
        RawRequest {
            path: path.into(),
            ..RawRequest::default()
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn a_get_goes_through_the_cloud_and_resolves() {
        let mut e = engine();
        let Command::Send(send) = e.start(&get("/api/home/init"), 1000.0).unwrap() else {
            panic!("expected send")
        };
        assert_eq!(send.route.route, Route::Cloud);
        assert_eq!((send.attempt, send.timeout_ms), (1, 10_000));
        assert_eq!(e.in_flight(), 1);
        let done = e.on_response(send.id, 200, 1042.0).unwrap();
        assert_eq!(
            done,
            Command::Resolve(Settled {
                id: send.id,
                route: Route::Cloud,
                attempts: 1,
                elapsed_ms: 42.0
            })
        );
        assert_eq!(e.in_flight(), 0);
    }

    #[test]
    fn non_2xx_rejects_with_its_kind() {
        let mut e = engine();
        let Command::Send(send) = e.start(&get("/x"), 0.0).unwrap() else {
            panic!()
        };
        let Command::Reject(_, err) = e.on_response(send.id, 503, 1.0).unwrap() else {
            panic!()
        };
        assert_eq!(err.kind(), ErrorKind::Service);
    }

    #[test]
    fn platform_failures_are_classified() {
        let mut e = engine();
        let Command::Send(send) = e.start(&get("/x"), 0.0).unwrap() else {
            panic!()
        };
        let failure = Failure {
            err_msg: "cloud.callContainer:fail errCode: 102002 | errMsg: 请求超时".into(),
            err_code: Some(102002),
            errno: None,
        };
        let Command::Reject(_, err) = e.on_failure(send.id, failure, 1.0).unwrap() else {
            panic!()
        };
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[test]
    fn cloud_limits_are_checked_before_sending() {
        let mut e = engine();
        let mut big = get("/api/upload");
        big.method = Method::Post;
        big.body_bytes = CLOUD_MAX_BODY_BYTES + 1;
        let err = e.start(&big, 0.0).unwrap_err();
        assert!(err.to_string().contains("-606001"), "{err}");
        let mut patch = get("/x");
        patch.method = Method::Patch;
        assert!(e
            .start(&patch, 0.0)
            .unwrap_err()
            .to_string()
            .contains("102005"));
        assert_eq!(e.in_flight(), 0);
    }

    #[test]
    fn cloud_timeout_is_clamped() {
        let mut e = engine();
        let mut spec = get("/x");
        spec.timeout_ms = Some(30_000);
        let Command::Send(send) = e.start(&spec, 0.0).unwrap() else {
            panic!()
        };
        assert_eq!(send.timeout_ms, CLOUD_MAX_TIMEOUT_MS);
    }

    #[test]
    fn unknown_ids_are_an_error_not_a_panic() {
        let mut e = engine();
        assert!(e.on_response(77, 200, 0.0).is_err());
        let Command::Send(send) = e.start(&get("/x"), 0.0).unwrap() else {
            panic!()
        };
        e.on_response(send.id, 200, 0.0).unwrap();
        assert!(e.on_response(send.id, 200, 0.0).is_err(), "settles once");
    }
}
