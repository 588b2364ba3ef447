//! Turns what the platform reported about a failed attempt into a [`RequestError`].
//!
//! Numeric codes decide first (errCode from `wx.cloud`, errno from
//! `wx.request`): phones localise the errMsg text, so text is the last resort.

use super::error::{ErrorKind, RequestError};
use crate::prelude::*;

/// A failed attempt as the shim saw it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Failure {
    /// The platform's errMsg.
    pub err_msg: String,
    /// `errCode` (cloud calls).
    pub err_code: Option<i32>,
    /// `errno` (wx.request, base library ≥ 2.24.0).
    pub errno: Option<i32>,
    /// Not the platform's failure but the app's code (a mock handler threw,
    /// no adapter for the route): a programming error, never retried.
    pub fault: bool,
}

/// Classifies a failed attempt.
pub fn classify(failure: Failure) -> RequestError {
    if failure.fault {
        return RequestError::Transport {
            kind: ErrorKind::Invalid,
            detail: failure.err_msg,
            code: None,
            retryable: false,
        };
    }
    let (kind, retryable, code) = match (failure.err_code, failure.errno) {
        (Some(code), _) => {
            let (kind, retryable) =
                by_cloud_code(code).unwrap_or_else(|| by_text(&failure.err_msg));
            (kind, retryable, Some(code))
        }
        (None, Some(errno)) => {
            let (kind, retryable) = by_errno(errno).unwrap_or_else(|| by_text(&failure.err_msg));
            (kind, retryable, Some(errno))
        }
        (None, None) => {
            let (kind, retryable) = by_text(&failure.err_msg);
            (kind, retryable, None)
        }
    };
    RequestError::Transport {
        kind,
        detail: failure.err_msg,
        code,
        retryable,
    }
}

/// `wx.cloud.callContainer` errCodes (Cloud Run docs and FAQ).
fn by_cloud_code(code: i32) -> Option<(ErrorKind, bool)> {
    Some(match code {
        // "Cloud API isn't enabled": init not effective yet; nothing was sent.
        -601034 => (ErrorKind::Init, true),
        // Timeout, also while the service cold-starts.
        102002 => (ErrorKind::Timeout, true),
        // Method other than GET/POST/PUT/DELETE.
        102005 => (ErrorKind::Invalid, false),
        // Request body over 100 KB.
        -606001 => (ErrorKind::Invalid, false),
        // Response over 1 MB: the same call will fail the same way.
        -606002 => (ErrorKind::Service, false),
        // Path or permission (also a missing resourceAppid).
        -501000 => (ErrorKind::Service, false),
        // System error or bad parameter.
        40097 => (ErrorKind::Service, false),
        _ => return None,
    })
}

/// `wx.request` errnos.
fn by_errno(errno: i32) -> Option<(ErrorKind, bool)> {
    Some(match errno {
        5 => (ErrorKind::Timeout, true),
        // Domain not in the mini-program's allow list: configuration, not luck.
        600002 => (ErrorKind::Network, false),
        // Interrupted, e.g. the app went to the background.
        600003 => (ErrorKind::Network, true),
        600007 => (ErrorKind::RateLimited, true),
        600000 | 600001 => (ErrorKind::Network, true),
        _ => return None,
    })
}

fn by_text(err_msg: &str) -> (ErrorKind, bool) {
    let lower = err_msg.to_ascii_lowercase();
    if lower.contains("cloud api isn't enabled") {
        (ErrorKind::Init, true)
    } else if lower.contains("timeout") || lower.contains("timed out") || err_msg.contains("超时")
    {
        (ErrorKind::Timeout, true)
    } else {
        (ErrorKind::Network, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(code: i32) -> RequestError {
        classify(Failure {
            err_msg: format!("cloud.callContainer:fail errCode: {code} | errMsg: x"),
            err_code: Some(code),
            ..Failure::default()
        })
    }

    #[test]
    fn cloud_codes_decide() {
        assert_eq!(cloud(102002).kind(), ErrorKind::Timeout);
        assert!(cloud(102002).is_retryable());
        assert_eq!(cloud(-606002).kind(), ErrorKind::Service);
        assert!(!cloud(-606002).is_retryable());
        assert_eq!(cloud(-606001).kind(), ErrorKind::Invalid);
        assert_eq!(cloud(-501000).code(), Some(-501000));
        assert_eq!(cloud(-601034).kind(), ErrorKind::Init);
    }

    #[test]
    fn errno_beats_localised_text() {
        let err = classify(Failure {
            err_msg: "request:fail 网络连接中断".into(),
            errno: Some(5),
            ..Failure::default()
        });
        assert_eq!(err.kind(), ErrorKind::Timeout);
        let err = classify(Failure {
            err_msg: "request:fail".into(),
            errno: Some(600007),
            ..Failure::default()
        });
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        let err = classify(Failure {
            err_msg: "mock:fail the handler for /x threw: boom".into(),
            errno: Some(600001),
            fault: true,
            ..Failure::default()
        });
        assert_eq!(
            (err.kind(), err.is_retryable(), err.to_string().as_str()),
            (
                ErrorKind::Invalid,
                false,
                "mock:fail the handler for /x threw: boom"
            )
        );
    }

    #[test]
    fn text_is_the_last_resort() {
        let t = |m: &str| {
            classify(Failure {
                err_msg: m.into(),
                ..Failure::default()
            })
            .kind()
        };
        assert_eq!(t("request:fail timeout"), ErrorKind::Timeout);
        assert_eq!(t("request:fail 请求超时"), ErrorKind::Timeout);
        assert_eq!(t("request:fail socket hang up"), ErrorKind::Network);
        assert_eq!(
            t("cloud.callContainer:fail Cloud API isn't enabled"),
            ErrorKind::Init
        );
    }
}
