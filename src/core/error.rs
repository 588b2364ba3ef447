//! The one error type of the library, its kinds and the messages users read.

use super::locale::Locale;
use crate::prelude::*;
use alloc::borrow::Cow;

/// What went wrong, as a stable name callers can switch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request never got a response: reset, DNS, refused, interrupted.
    Network,
    /// No response within the attempt's timeout (also Cloud Run cold starts).
    Timeout,
    /// The backend answered 5xx or the platform reported a service-side failure.
    Service,
    /// `wx.cloud` could not be initialised.
    Init,
    /// Any other non-2xx answer (4xx except 401/403/429).
    Http,
    /// 401 or 403.
    Unauthorized,
    /// 429 or the platform's "too many requests".
    RateLimited,
    /// The device has no network.
    Offline,
    /// The caller cancelled the request.
    Cancelled,
    /// The caller passed something the library cannot send.
    Invalid,
}

impl ErrorKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::Service,
        ErrorKind::Init,
        ErrorKind::Http,
        ErrorKind::Unauthorized,
        ErrorKind::RateLimited,
        ErrorKind::Offline,
        ErrorKind::Cancelled,
        ErrorKind::Invalid,
    ];

    /// The stable name JS sees in `RequestError.kind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Service => "service",
            ErrorKind::Init => "init",
            ErrorKind::Http => "http",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Offline => "offline",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Invalid => "invalid",
        }
    }

    /// The message a user reads. zh-CN strings are the seed's where it gives them.
    pub const fn message(self, locale: Locale) -> &'static str {
        match locale {
            Locale::ZhCn => match self {
                ErrorKind::Network => "网络错误，请重试",
                ErrorKind::Timeout => "请求超时，请检查网络",
                ErrorKind::Service => "服务暂时不可用，请稍后重试",
                ErrorKind::Init => "云服务初始化失败，请稍后重试",
                ErrorKind::Http => "请求失败，请稍后重试",
                ErrorKind::Unauthorized => "登录已失效或无权访问，请重新登录",
                ErrorKind::RateLimited => "请求过于频繁，请稍后再试",
                ErrorKind::Offline => "网络不可用，请检查网络设置",
                ErrorKind::Cancelled => "请求已取消",
                ErrorKind::Invalid => "请求参数无效",
            },
            Locale::En => match self {
                ErrorKind::Network => "Network error, please try again",
                ErrorKind::Timeout => "Request timed out, please check your network",
                ErrorKind::Service => "Service temporarily unavailable, please try again later",
                ErrorKind::Init => "Cloud service failed to start, please try again later",
                ErrorKind::Http => "Request failed, please try again later",
                ErrorKind::Unauthorized => "Session expired or access denied, please sign in again",
                ErrorKind::RateLimited => "Too many requests, please try again later",
                ErrorKind::Offline => "No network connection, please check your settings",
                ErrorKind::Cancelled => "Request cancelled",
                ErrorKind::Invalid => "Invalid request",
            },
        }
    }
}

/// Why a request failed. `Display` is the developer-facing detail; the user
/// message comes from [`RequestError::user_message`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The caller's input was rejected before anything was sent.
    #[error("`{field}` {problem}")]
    Invalid {
        /// The option at fault, e.g. `path` or `header.Accept`.
        field: Cow<'static, str>,
        /// What is wrong with it.
        problem: Cow<'static, str>,
    },
    /// A failure the platform reported, classified from its codes.
    #[error("{detail}")]
    Transport {
        /// Network, timeout, service, rate limited, ... as classified.
        kind: ErrorKind,
        /// The platform's errMsg (or a short description of the condition).
        detail: String,
        /// The platform's numeric code: errCode for cloud calls, errno for wx.request.
        code: Option<i32>,
        /// Whether another attempt could succeed.
        retryable: bool,
    },
    /// The backend answered with a status that is not a success.
    #[error("HTTP {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The backend answered 2xx, but the body its content type says is JSON
    /// is not (cut off or damaged on the way): not a result to hand on or cache.
    #[error("HTTP {status} with a body that is not valid JSON though its content-type says so (cut off or damaged on the way)")]
    BodyNotJson {
        /// The HTTP status code.
        status: u16,
    },
    /// The caller cancelled.
    #[error("cancelled by the caller")]
    Cancelled,
    /// The service's circuit breaker is open: the attempt was not made.
    #[error(
        "circuit open for {route}: {failures} of {calls} attempts failed recently; \
         not sent (next probe in {retry_in_ms} ms)"
    )]
    CircuitOpen {
        /// The route whose breaker refused ("cloud" or "http").
        route: &'static str,
        /// Failed attempts in the breaker's window.
        failures: u32,
        /// Attempts in the window.
        calls: u32,
        /// Until the breaker lets a probe through (0: one is in flight).
        retry_in_ms: u32,
    },
}

impl RequestError {
    /// An `invalid` error naming the field and the problem.
    pub fn invalid(
        field: impl Into<Cow<'static, str>>,
        problem: impl Into<Cow<'static, str>>,
    ) -> Self {
        RequestError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RequestError::Invalid { .. } => ErrorKind::Invalid,
            RequestError::Transport { kind, .. } => *kind,
            RequestError::Status { status } => status_kind(*status),
            RequestError::BodyNotJson { .. } => ErrorKind::Service,
            RequestError::Cancelled => ErrorKind::Cancelled,
            RequestError::CircuitOpen { .. } => ErrorKind::Service,
        }
    }

    /// Whether another attempt could succeed (the retry policy still decides).
    pub fn is_retryable(&self) -> bool {
        match self {
            RequestError::Transport { retryable, .. } => *retryable,
            RequestError::Status { status } => matches!(status, 429 | 500 | 502 | 503 | 504),
            // As a 502 would be: another attempt may arrive whole.
            RequestError::BodyNotJson { .. } => true,
            // Failed fast on purpose: retrying would defeat the breaker.
            RequestError::Invalid { .. }
            | RequestError::Cancelled
            | RequestError::CircuitOpen { .. } => false,
        }
    }

    /// The platform's numeric code, when there was one.
    pub fn code(&self) -> Option<i32> {
        match self {
            RequestError::Transport { code, .. } => *code,
            _ => None,
        }
    }

    /// The HTTP status, when the backend answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            RequestError::Status { status } | RequestError::BodyNotJson { status } => Some(*status),
            _ => None,
        }
    }

    /// The message a user reads. For `invalid` it names what was wrong, since
    /// only a developer ever sees it.
    pub fn user_message(&self, locale: Locale) -> Cow<'static, str> {
        let summary = self.kind().message(locale);
        match self {
            RequestError::Invalid { .. } => {
                let sep = if locale == Locale::ZhCn { "：" } else { ": " };
                Cow::Owned(format!("{summary}{sep}{self}"))
            }
            RequestError::CircuitOpen { .. } => Cow::Borrowed(match locale {
                Locale::ZhCn => "服务暂时不可用，已暂停请求以待恢复，请稍后重试",
                Locale::En => "Service temporarily unavailable; requests are paused while it recovers, please try again later",
            }),
            _ => Cow::Borrowed(summary),
        }
    }
}

/// The kind of a non-2xx answer.
pub fn status_kind(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Unauthorized,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Service,
        _ => ErrorKind::Http,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_messages_are_exact() {
        assert_eq!(ErrorKind::Network.message(Locale::ZhCn), "网络错误，请重试");
        assert_eq!(
            ErrorKind::Timeout.message(Locale::ZhCn),
            "请求超时，请检查网络"
        );
        assert_eq!(
            ErrorKind::Service.message(Locale::ZhCn),
            "服务暂时不可用，请稍后重试"
        );
    }

    #[test]
    fn invalid_message_names_the_field() {
        let err = RequestError::invalid("path", "must start with '/'");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(!err.is_retryable());
        assert_eq!(
            err.user_message(Locale::ZhCn),
            "请求参数无效：`path` must start with '/'"
        );
        assert_eq!(
            err.user_message(Locale::En),
            "Invalid request: `path` must start with '/'"
        );
    }

    #[test]
    fn statuses_classify() {
        let kinds: Vec<_> = [401, 403, 404, 429, 500, 503, 418]
            .map(|s| RequestError::Status { status: s }.kind().as_str())
            .into();
        assert_eq!(
            kinds,
            [
                "unauthorized",
                "unauthorized",
                "http",
                "rate_limited",
                "service",
                "service",
                "http"
            ]
        );
        assert!(RequestError::Status { status: 503 }.is_retryable());
        assert!(!RequestError::Status { status: 501 }.is_retryable());
        assert!(!RequestError::Status { status: 404 }.is_retryable());
    }
}
