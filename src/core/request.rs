//! A request as the core sees it, and the validation of what JS passed in.
//!
//! The boundary turns JS values into these plain types (and reports type
//! errors); everything about what a valid request is lives here.

use super::cache::rules::RawRequestCache;
use super::config::RawRetry;
use super::error::RequestError;
use super::limits::{check_headers, MAX_BODY_BYTES, MAX_PATH_BYTES, MAX_TARGET_BYTES};
use super::retry::RetryPolicy;
use super::route::Route;
use super::scheduler::Priority;
use crate::core::float;
use crate::core::text::contains_ignore_ascii_case;
use crate::prelude::*;

/// HTTP methods the library knows. `wx.request` accepts all of them; the cloud
/// route accepts only GET/POST/PUT/DELETE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// PATCH (not on the cloud route)
    Patch,
}

impl Method {
    /// Parses a method name, case-insensitively (`get` is GET).
    pub fn parse(name: &str) -> Result<Method, RequestError> {
        const ALL: [Method; 7] = [
            Method::Get,
            Method::Head,
            Method::Options,
            Method::Post,
            Method::Put,
            Method::Delete,
            Method::Patch,
        ];
        ALL.into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                RequestError::invalid(
                    "method",
                    format!(
                        "must be one of GET, HEAD, OPTIONS, POST, PUT, DELETE, PATCH, got {}",
                        quoted(name, 32)
                    ),
                )
            })
    }

    /// The canonical upper-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
        }
    }

    /// Only reads: RFC 9110's safe methods (GET, HEAD, OPTIONS).
    pub const fn is_safe(self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Options)
    }

    /// Safe to send twice: RFC 9110's idempotent methods.
    pub const fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch)
    }
}

/// The longest per-attempt timeout `wx.request` honours.
pub const MAX_TIMEOUT_MS: u32 = 60_000;

/// A request the core has validated.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestSpec {
    /// Starts with '/', may carry a query string.
    pub path: String,
    /// The method.
    pub method: Method,
    /// What is sent as the path: `path`, and for GET and HEAD the `data`
    /// as its query string (see [`super::query`]).
    pub target: String,
    /// Header names and values as given.
    pub headers: Vec<(String, String)>,
    /// The body as sent (None for GET and HEAD, whose data is in `target`).
    pub body: Option<Body>,
    /// The JSON of a GET's or HEAD's data (in `target`), for the cache key.
    pub query_json: Option<String>,
    /// Size in bytes of the body as sent (0 without one).
    pub body_bytes: usize,
    /// Per-attempt timeout asked for by the caller.
    pub timeout_ms: Option<u32>,
    /// The route the caller insists on.
    pub route: Option<Route>,
    /// How this request is retried.
    pub retry: RetryPolicy,
    /// Safe to send more than once.
    pub idempotent: bool,
    /// The `Idempotency-Key` every attempt carries, if any.
    pub idempotency_key: Option<IdempotencyKey>,
    /// Its place in the queue for a slot.
    pub priority: Priority,
    /// `offline: 'queue'`: kept and replayed if it cannot reach the server.
    pub offline_queue: bool,
    /// Cancelled before it started.
    pub aborted: bool,
    /// The caller keeps the text of a JSON `body` (`RawRequest::data_json_kept`).
    pub body_kept: bool,
}

/// Where a request's `Idempotency-Key` comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyKey {
    /// `idempotencyKey`, as the caller gave it.
    Given(String),
    /// `idempotent: 'auto'`: the engine makes one for this operation.
    Generate,
}

/// A request body as it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// JSON text (`JSON.stringify(data)` of object data).
    Json(String),
    /// Text sent as it is: string data, or a form body.
    Text(String),
    /// An ArrayBuffer of this many bytes; the shim sends its copy of it.
    Binary(usize),
    /// JSON text of this many bytes that the caller kept (`RawRequest::data_json_kept`)
    /// and sends itself: as an attempt sends it (`as_sent`), never in a spec.
    Kept(usize),
}

impl Body {
    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        match self {
            Body::Json(text) | Body::Text(text) => text.len(),
            Body::Binary(bytes) | Body::Kept(bytes) => *bytes,
        }
    }

    /// Nothing to send.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What an attempt sends for a request's `data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wire {
    /// The path, with a GET's or HEAD's data as its query.
    pub target: String,
    /// The body (None for GET and HEAD).
    pub body: Option<Body>,
    /// The JSON of a GET's or HEAD's data, now in `target` (the cache keys it).
    pub query_json: Option<String>,
}

/// What an attempt sends for `data` (at most one of the three kinds): a
/// GET's or HEAD's object data goes into the query; anything else is the body
/// as it is, moved, not copied (see [`as_sent`] for a form content type).
/// Errors name what cannot be sent.
pub fn wire(
    method: Method,
    path: &str,
    data_json: Option<String>,
    data_text: Option<String>,
    data_binary: Option<usize>,
) -> Result<Wire, RequestError> {
    if matches!(method, Method::Get | Method::Head) {
        let target = match (&data_json, data_text.is_some() || data_binary.is_some()) {
            (None, false) => Some(path.to_owned()),
            (Some(json), false) => super::query::with_query(path, json),
            _ => None,
        };
        return target
            .map(|target| Wire {
                target,
                body: None,
                query_json: data_json,
            })
            .ok_or_else(|| {
                RequestError::invalid(
                    "data",
                    "of a GET or HEAD must be an object: it is sent as the query string",
                )
            });
    }
    let body = match (data_json, data_text, data_binary) {
        (Some(json), _, _) => Some(Body::Json(json)),
        (None, Some(text), _) => Some(Body::Text(text)),
        (None, None, Some(bytes)) => Some(Body::Binary(bytes)),
        (None, None, None) => None,
    };
    Ok(Wire {
        target: path.to_owned(),
        body,
        query_json: None,
    })
}

/// The body as an attempt sends it with `headers` (all of them: the
/// client's, the request's): object data is form-encoded, as `wx.request`
/// does, when the content type is `application/x-www-form-urlencoded`.
pub fn as_sent(
    body: Option<&Body>,
    headers: &[(String, String)],
    kept: bool,
) -> Result<Option<Body>, RequestError> {
    let form = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type")
            && contains_ignore_ascii_case(value, "application/x-www-form-urlencoded")
    });
    match body {
        Some(Body::Json(json)) if form => super::query::encode(json)
            .map(|text| Some(Body::Text(text)))
            .ok_or_else(|| {
                RequestError::invalid(
                    "data",
                    "must be an object to be sent as a form (application/x-www-form-urlencoded)",
                )
            }),
        // Sent as it is, and the caller holds it: no copy, no text back.
        Some(Body::Json(json)) if kept => Ok(Some(Body::Kept(json.len()))),
        other => Ok(other.cloned()),
    }
}

/// Longest `idempotencyKey` (the IETF draft's servers accept at least this).
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// An `idempotencyKey`: 1 to 255 visible ASCII characters, so it is sent as
/// a header unchanged.
pub(crate) fn validate_idempotency_key(key: &str) -> Result<(), RequestError> {
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(RequestError::invalid(
            "idempotencyKey",
            format!(
                "must be 1 to 255 visible ASCII characters (a UUID, say), got {}",
                quoted(key, 64)
            ),
        ));
    }
    Ok(())
}

/// What the boundary extracted from the caller's options, before validation.
#[derive(Clone, Debug, Default)]
pub struct RawRequest {
    /// `path`.
    pub path: String,
    /// `method`, if given.
    pub method: Option<String>,
    /// `header` entries.
    pub headers: Vec<(String, String)>,
    /// `timeoutMs`, if given.
    pub timeout_ms: Option<f64>,
    /// `route`, if given.
    pub route: Option<String>,
    /// `retry`, if given.
    pub retry: Option<RawRetry>,
    /// `idempotent`, if given as true or false.
    pub idempotent: Option<bool>,
    /// `idempotent: 'auto'`.
    pub idempotent_auto: bool,
    /// `idempotencyKey`, if given.
    pub idempotency_key: Option<String>,
    /// `priority`, if given.
    pub priority: Option<String>,
    /// `offline`, if given.
    pub offline: Option<String>,
    /// `signal.aborted` was already true.
    pub aborted: bool,
    /// `JSON.stringify(data)`, when `data` was neither a string nor binary.
    pub data_json: Option<String>,
    /// `data`, when it was a string (sent as it is).
    pub data_text: Option<String>,
    /// The byte length of `data`, when it was an ArrayBuffer (the shim keeps a copy).
    pub data_binary: Option<usize>,
    /// The caller keeps `data_json`'s text (the shim's fast path stringified
    /// it): an attempt that sends it as it is says so (`Body::Kept`) rather
    /// than handing the text back.
    pub data_json_kept: bool,
    /// `cache`
    pub cache: RawRequestCache,
}

impl RawRequest {
    /// Checks every field and returns the request, or the first problem found.
    /// `retry` overrides `defaults` field by field.
    pub fn validate(self, defaults: RetryPolicy) -> Result<RequestSpec, RequestError> {
        validate_path(&self.path)?;
        let method = match &self.method {
            Some(name) => Method::parse(name)?,
            None => Method::Get,
        };
        check_headers(&self.headers)?;
        let timeout_ms = self
            .timeout_ms
            .map(|t| validate_timeout("timeoutMs", t))
            .transpose()?;
        let route = self.route.as_deref().map(Route::parse).transpose()?;
        let retry = match self.retry {
            Some(raw) => raw.validate("retry", defaults)?,
            None => defaults,
        };
        if let Some(key) = &self.idempotency_key {
            validate_idempotency_key(key)?;
            if self.idempotent == Some(false) {
                return Err(RequestError::invalid(
                    "idempotent",
                    "cannot be false with an idempotencyKey: the key is what makes repeating it safe",
                ));
            }
        }
        let priority = self
            .priority
            .as_deref()
            .map(Priority::parse)
            .transpose()?
            .unwrap_or_default();
        let offline_queue = match self.offline.as_deref() {
            None => false,
            Some("queue") if matches!(method, Method::Get | Method::Head | Method::Options) => {
                return Err(RequestError::invalid(
                    "offline",
                    format!(
                        "'queue' is for mutations (POST, PUT, DELETE, PATCH), not {}",
                        method.as_str()
                    ),
                ))
            }
            Some("queue") if self.idempotent == Some(false) => {
                return Err(RequestError::invalid(
                    "idempotent",
                    "cannot be false with offline: 'queue': a replay carries an idempotency key",
                ))
            }
            Some("queue") => true,
            Some(other) => {
                return Err(RequestError::invalid(
                    "offline",
                    format!("must be 'queue', got {}", quoted(other, 32)),
                ))
            }
        };
        if offline_queue {
            check_queueable(&self.headers, &self.data_text, self.data_binary)?;
        }
        // A mutation that may be replayed always carries a key.
        let idempotency_key = match self.idempotency_key {
            Some(key) => Some(IdempotencyKey::Given(key)),
            None => (self.idempotent_auto || offline_queue).then_some(IdempotencyKey::Generate),
        };
        let Wire {
            target,
            body,
            query_json,
        } = wire(
            method,
            &self.path,
            self.data_json,
            self.data_text,
            self.data_binary,
        )?;
        if target.len() > MAX_TARGET_BYTES {
            return Err(super::limits::target_too_long("data", target.len()));
        }
        match &body {
            Some(Body::Json(text) | Body::Text(text)) if text.len() > MAX_BODY_BYTES => {
                return Err(super::limits::body_too_large(text.len()))
            }
            _ => {}
        }
        let body_kept = self.data_json_kept && matches!(body, Some(Body::Json(_)));
        Ok(RequestSpec {
            body_kept,
            path: self.path,
            target,
            method,
            headers: self.headers,
            body_bytes: body.as_ref().map_or(0, Body::len),
            body,
            query_json,
            timeout_ms,
            route,
            retry,
            // A key makes a repeat safe: the server answers it with the first result.
            idempotent: idempotency_key.is_some()
                || self.idempotent.unwrap_or(method.is_idempotent()),
            idempotency_key,
            priority,
            offline_queue,
            aborted: self.aborted,
        })
    }
}

impl RequestSpec {
    /// `JSON.stringify(data)` of object data, wherever it went: the cache
    /// keys it, the offline queue stores it.
    pub fn data_json(&self) -> Option<&str> {
        match &self.body {
            Some(Body::Json(json)) => Some(json),
            _ => self.query_json.as_deref(),
        }
    }
}

/// What `offline: 'queue'` needs: data that can be stored (JSON, or none),
/// and no credentials among the headers (they are never written to
/// storage: the client's `header` option supplies them at replay time).
fn check_queueable(
    headers: &[(String, String)],
    data_text: &Option<String>,
    data_binary: Option<usize>,
) -> Result<(), RequestError> {
    if data_text.is_some() || data_binary.is_some() {
        return Err(RequestError::invalid(
            "offline",
            "'queue' needs object data (or none): strings and binary data are not stored",
        ));
    }
    if let Some((name, _)) = headers
        .iter()
        .find(|(name, _)| super::offline::is_credential(name))
    {
        return Err(RequestError::invalid(
            format!("header.{name}"),
            "is not kept with offline: 'queue' (credentials are never written to storage); \
             give it through the client's `header` option, which every attempt and replay uses",
        ));
    }
    Ok(())
}

/// A path the gateway and `wx.request` accept: '/' first, printable ASCII or
/// non-ASCII text, no fragment.
pub fn validate_path(path: &str) -> Result<(), RequestError> {
    // The path without its query has a limit of its own.
    let bare = path.find('?').unwrap_or(path.len());
    let problem = if !path.starts_with('/') {
        Some(format!(
            "must be a string starting with '/', got {}",
            quoted(path, 64)
        ))
    } else if path.starts_with("//") {
        Some("must not start with '//' (that is a URL without a scheme, not a path)".into())
    } else if path.len() > MAX_TARGET_BYTES {
        return Err(super::limits::target_too_long("path", path.len()));
    } else if bare > MAX_PATH_BYTES {
        return Err(super::limits::path_too_long(bare));
    } else if let Some(c) = path.chars().find(|c| c.is_control() || c.is_whitespace()) {
        Some(format!(
            "contains '{}'; encode spaces and control characters",
            c.escape_default()
        ))
    } else if path.contains('#') {
        Some("must not contain a fragment ('#')".into())
    } else {
        None
    };
    match problem {
        Some(p) => Err(RequestError::invalid("path", p)),
        None => Ok(()),
    }
}

/// An RFC 9110 token as header name; a value without CR, LF or NUL.
pub fn validate_header(name: &str, value: &str) -> Result<(), RequestError> {
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(is_tchar) {
        return Err(RequestError::invalid(
            "header",
            format!("has an invalid name {}", quoted(name, 64)),
        ));
    }
    if value.chars().any(|c| matches!(c, '\r' | '\n' | '\0')) {
        return Err(RequestError::invalid(
            format!("header.{name}"),
            "must not contain CR, LF or NUL",
        ));
    }
    Ok(())
}

/// `value` as a whole number from `min` to `max`, or `default` when absent.
pub fn whole_or(
    field: impl Into<alloc::borrow::Cow<'static, str>>,
    value: Option<f64>,
    min: u32,
    max: u32,
    default: u32,
) -> Result<u32, RequestError> {
    match value {
        None => Ok(default),
        Some(v) if float::is_whole(v) && v >= f64::from(min) && v <= f64::from(max) => Ok(v as u32),
        Some(v) => Err(RequestError::invalid(
            field,
            format!(
                "must be a whole number from {min} to {max}, got {}",
                number(v)
            ),
        )),
    }
}

/// A timeout in whole milliseconds between 1 and [`MAX_TIMEOUT_MS`].
pub fn validate_timeout(field: &'static str, ms: f64) -> Result<u32, RequestError> {
    if ms.is_finite() && ms >= 1.0 && ms <= f64::from(MAX_TIMEOUT_MS) {
        Ok(float::round(ms) as u32)
    } else {
        Err(RequestError::invalid(
            field,
            format!(
                "must be a number of milliseconds from 1 to {MAX_TIMEOUT_MS}, got {}",
                number(ms)
            ),
        ))
    }
}

/// `text` in double quotes, cut to `max` characters. Not `{:?}`: Debug's
/// escaping tables cost the wasm several KB.
pub fn quoted(text: &str, max: usize) -> String {
    format!("\"{}\"", truncate(text, max))
}

/// A number for a message. Not `{}` on f64: float formatting costs the wasm
/// about 15 KB. Integers print exactly, other values to 3 decimals.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    if a.is_infinite() {
        format!("{sign}Infinity")
    } else if a >= 9.0e15 {
        format!("{sign}a number beyond 9e15")
    } else if float::is_whole(a) {
        format!("{sign}{}", a as u64)
    } else {
        let thousandths = float::round(a * 1000.0) as u64;
        let (whole, frac) = (thousandths / 1000, thousandths % 1000);
        if frac == 0 {
            return format!("{sign}{whole}");
        }
        let frac = format!("{frac:03}");
        format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
    }
}

/// At most `max` characters of `s`, for quoting user input in messages.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorKind;

    fn raw(path: &str) -> RawRequest {
        RawRequest {
            path: path.into(),
            ..RawRequest::default()
        }
    }

    trait Check {
        fn check(self) -> Result<RequestSpec, RequestError>;
    }
    impl Check for RawRequest {
        fn check(self) -> Result<RequestSpec, RequestError> {
            self.validate(RetryPolicy::DEFAULT)
        }
    }

    #[test]
    fn defaults_to_get() {
        let spec = raw("/api/home/init").check().unwrap();
        assert_eq!(spec.method, Method::Get);
        assert_eq!(spec.timeout_ms, None);
        assert!(spec.idempotent);
        assert_eq!(spec.retry, RetryPolicy::DEFAULT);
    }

    #[test]
    fn idempotency_follows_the_method_unless_stated() {
        let mut post = raw("/x");
        post.method = Some("POST".into());
        assert!(!post.clone().check().unwrap().idempotent);
        post.idempotent = Some(true);
        assert!(post.check().unwrap().idempotent);
        let mut delete = raw("/x");
        delete.method = Some("DELETE".into());
        assert!(delete.check().unwrap().idempotent);
    }

    #[test]
    fn route_and_retry_are_checked() {
        let mut r = raw("/x");
        r.route = Some("grpc".into());
        assert!(r.check().unwrap_err().to_string().starts_with("`route`"));
        let mut r = raw("/x");
        r.retry = Some(RawRetry::Disabled);
        assert_eq!(r.check().unwrap().retry.limit, 0);
    }

    #[test]
    fn methods_parse_case_insensitively_and_unknown_ones_are_named() {
        assert_eq!(Method::parse("post").unwrap(), Method::Post);
        let err = Method::parse("FETCH").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(err.to_string().contains("\"FETCH\""), "{err}");
        assert!(err.to_string().starts_with("`method`"), "{err}");
    }

    #[test]
    fn bad_paths_are_rejected_with_the_reason() {
        for (path, needle) in [
            ("api/test", "starting with '/'"),
            ("", "starting with '/'"),
            ("//evil.example/x", "'//'"),
            ("/a b", "encode spaces"),
            ("/a\nb", "encode spaces"),
            ("/a#frag", "fragment"),
        ] {
            let err = raw(path).check().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Invalid, "{path}");
            let text = err.to_string();
            assert!(
                text.starts_with("`path`") && text.contains(needle),
                "{path}: {text}"
            );
        }
        assert!(raw(&format!("/{}", "a".repeat(MAX_PATH_BYTES)))
            .check()
            .is_err());
        assert!(raw("/api/order/list?userId=1&page=2").check().is_ok());
        assert!(raw("/搜索").check().is_ok());
    }

    #[test]
    fn headers_are_checked() {
        assert!(validate_header("X-Trace-Id", "abc").is_ok());
        assert!(validate_header("Bad Name", "x").is_err());
        assert!(validate_header("", "x").is_err());
        let err = validate_header("X-A", "a\r\nInjected: 1").unwrap_err();
        assert!(err.to_string().contains("header.X-A"), "{err}");
    }

    #[test]
    fn timeouts_are_bounded() {
        assert_eq!(validate_timeout("timeoutMs", 1500.4).unwrap(), 1500);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 60_001.0] {
            assert!(validate_timeout("timeoutMs", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_and_quotes_print_without_float_formatting() {
        let shown: Vec<String> = [
            0.0,
            -1.0,
            1500.0,
            1.5,
            0.125,
            2.0004,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            1e20,
        ]
        .map(number)
        .into();
        assert_eq!(
            shown,
            [
                "0",
                "-1",
                "1500",
                "1.5",
                "0.125",
                "2",
                "NaN",
                "Infinity",
                "-Infinity",
                "a number beyond 9e15"
            ]
        );
        assert_eq!(quoted("网络错误", 2), "\"网络\"");
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("网络错误", 2), "网络");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
