//! JS options in, the core's raw types out. Every read is checked: a wrong
//! type, an unknown key or a getter that throws is a named `invalid` error,
//! never a panic. The core validates the values themselves.
//!
//! Raw values are filled in place (`raw.x = read(...)?`) rather than built as
//! struct literals: then every early return drops the same few values, and
//! the wasm carries one clean-up path instead of one per field.
#![allow(clippy::field_reassign_with_default)]

use crate::core::text::join;
use crate::prelude::*;
use js_sys::{ArrayBuffer, Reflect, JSON};
use wasm_bindgen::prelude::*;

use super::js::{
    get, is_array, is_plain_object, items_within, static_js, string_within, text_prefix, type_name,
};
use crate::core::cache::rules::{RawCacheConfig, RawInvalidation, RawRequestCache, RawRule};
use crate::core::config::{ClientConfig, MockEnabled, RawConfig, RawMockRoute, RawRetry};
use crate::core::error::RequestError;
use crate::core::limits::{self, MAX_BODY_BYTES, MAX_HEADERS, MAX_HEADER_BYTES, MAX_LIST_ITEMS};
use crate::core::report::RawReport;
use crate::core::request::{number, quoted, RawRequest};
use crate::core::socket::hub::RawSocketOptions;

/// Options `createClient` accepts. The shim consumes `wasmPath`, `debug` and `onSync`;
/// they are listed so that a misspelt option is reported, not ignored.
const CLIENT_OPTIONS: &[&str] = &[
    "env",
    "service",
    "resourceAppid",
    "resourceEnv",
    "cloud",
    "baseUrl",
    "mode",
    "mock",
    "retry",
    "retryBudget",
    "breaker",
    "maxConcurrent",
    "offlineQueue",
    "cache",
    "stats",
    "timeoutMs",
    "locale",
    "seed",
    "wasmPath",
    "debug",
    "onSync",
    "header",
    "report",
    "realtimeLog",
];

/// Keys of `report`.
const REPORT_OPTIONS: &[&str] = &["path", "everyMs", "sample"];

/// What `cloud` must have, as a `wx.cloud.Cloud` instance (and `wx.cloud`)
/// has: the shim calls the first two; `init` marks an instance (the app
/// calls it, never the library).
const CLOUD_METHODS: &[(&str, &str)] = &[
    ("callContainer", "cloud.callContainer"),
    ("connectContainer", "cloud.connectContainer"),
    ("init", "cloud.init"),
];

/// Options `client.request` accepts. The shim executes `signal`.
const REQUEST_OPTIONS: &[&str] = &[
    "path",
    "method",
    "data",
    "header",
    "timeoutMs",
    "route",
    "retry",
    "idempotent",
    "idempotencyKey",
    "priority",
    "offline",
    "signal",
    "cache",
];

/// Keys of the client's `cache`.
const CACHE_OPTIONS: &[&str] = &[
    "maxEntries",
    "maxBytes",
    "rules",
    "invalidations",
    "persist",
    "persistMaxBytes",
];

/// Keys of a request's `cache` object.
const REQUEST_CACHE_OPTIONS: &[&str] = &["ttlMs", "staleMs", "tags", "private", "reload"];

/// Keys of `stats`.
const STATS_OPTIONS: &[&str] = &["patterns", "maxPatterns"];

/// Keys of a `cache.rules` item and of a `cache.invalidations` item.
const RULE_OPTIONS: &[&str] = &["path", "ttlMs", "staleMs", "tags"];
const INVALIDATION_OPTIONS: &[&str] = &["method", "path", "prefixes", "tags"];

/// Options `client.socket` accepts.
const SOCKET_OPTIONS: &[&str] = &[
    "service",
    "path",
    "route",
    "header",
    "minDelayMs",
    "maxDelayMs",
    "factor",
    "maxAttempts",
    "connectTimeoutMs",
    "minUptimeMs",
    "heartbeat",
    "heartbeatIntervalMs",
    "heartbeatTimeoutMs",
    "outboxMaxMessages",
    "outboxMaxBytes",
    "acked",
];

/// Keys of `retry` objects.
const RETRY_OPTIONS: &[&str] = &["limit", "baseMs", "capMs", "deadlineMs"];

/// Keys of `retryBudget` and of `breaker`.
const BUDGET_OPTIONS: &[&str] = &["capacity", "retryCost", "timeoutCost", "successRefill"];
const BREAKER_OPTIONS: &[&str] = &["windowMs", "minCalls", "failureRatio", "openMs"];

/// Keys of `offlineQueue`.
const QUEUE_OPTIONS: &[&str] = &["maxItems", "maxBytes"];

/// Keys of `mock`.
const MOCK_OPTIONS: &[&str] = &["routes", "enabled", "allowInRelease", "passthrough"];

/// Keys of one mock route. The shim serves `response` or calls `handler`.
const MOCK_ROUTE_OPTIONS: &[&str] = &["method", "path", "response", "handler", "error", "delayMs"];

/// What a mock route may inject instead of answering (the shim simulates it
/// as the platform would report it; the engine classifies it as usual).
const MOCK_ERRORS: &[&str] = &[
    "network",
    "timeout",
    "service",
    "unauthorized",
    "rate_limited",
    "http",
];

/// `client.socket(options)`.
pub fn read_socket_options(options: &JsValue) -> Result<RawSocketOptions, RequestError> {
    if options.is_undefined() || options.is_null() {
        return Ok(RawSocketOptions::default());
    }
    let o = plain_object("options", options, SOCKET_OPTIONS)?;
    let mut raw = RawSocketOptions::default();
    raw.service = opt_string(o, "service")?;
    raw.path = opt_string(o, "path")?;
    raw.route = opt_string(o, "route")?;
    raw.headers = read_headers(&get(o, "header")?)?;
    let c = &mut raw.config;
    c.min_delay_ms = opt_number(o, "minDelayMs")?;
    c.max_delay_ms = opt_number(o, "maxDelayMs")?;
    c.factor = opt_number(o, "factor")?;
    c.max_attempts = opt_number(o, "maxAttempts")?;
    c.connect_timeout_ms = opt_number(o, "connectTimeoutMs")?;
    c.min_uptime_ms = opt_number(o, "minUptimeMs")?;
    c.heartbeat = opt_bool(o, "heartbeat")?;
    c.heartbeat_interval_ms = opt_number(o, "heartbeatIntervalMs")?;
    c.heartbeat_timeout_ms = opt_number(o, "heartbeatTimeoutMs")?;
    c.outbox_max_messages = opt_number(o, "outboxMaxMessages")?;
    c.outbox_max_bytes = opt_number(o, "outboxMaxBytes")?;
    c.acked = opt_bool(o, "acked")?;
    Ok(raw)
}

/// `createClient(options)`, validated by the core.
pub fn read_config(options: &JsValue) -> Result<ClientConfig, RequestError> {
    let o = plain_object("options", options, CLIENT_OPTIONS)?;
    let mut raw = RawConfig::default();
    read_stats_config(&get(o, "stats")?, &mut raw)?;
    read_mock(&get(o, "mock")?, &mut raw)?;
    raw.env = opt_string(o, "env")?;
    raw.service = opt_string(o, "service")?;
    raw.resource_appid = opt_string(o, "resourceAppid")?;
    raw.resource_env = opt_string(o, "resourceEnv")?;
    raw.cloud_given = read_cloud(&get(o, "cloud")?)?;
    raw.base_url = opt_string(o, "baseUrl")?;
    raw.timeout_ms = opt_number(o, "timeoutMs")?;
    raw.locale = opt_string(o, "locale")?;
    raw.mode = opt_string(o, "mode")?;
    raw.retry = read_retry(&get(o, "retry")?)?;
    read_guards(o, &mut raw)?;
    raw.max_concurrent = opt_number(o, "maxConcurrent")?;
    raw.debug = opt_bool(o, "debug")?.unwrap_or(false);
    let queue = get(o, "offlineQueue")?;
    if !queue.is_undefined() && !queue.is_null() {
        let queue = plain_object("offlineQueue", &queue, QUEUE_OPTIONS)?;
        raw.offline_queue_max_items = opt_number(queue, "maxItems")?;
        raw.offline_queue_max_bytes = opt_number(queue, "maxBytes")?;
    }
    raw.seed = opt_number(o, "seed")?;
    raw.cache = read_cache_config(&get(o, "cache")?)?;
    let report = get(o, "report")?;
    if !report.is_undefined() && !report.is_null() {
        let r = plain_object("report", &report, REPORT_OPTIONS)?;
        raw.report = Some(RawReport {
            path: as_opt_string("report.path", &get(r, "path")?)?,
            every_ms: as_opt_number("report.everyMs", &get(r, "everyMs")?)?,
            sample: as_opt_number("report.sample", &get(r, "sample")?)?,
        });
    }
    raw.realtime_log = as_opt_bool("realtimeLog", &get(o, "realtimeLog")?)?;
    let header = get(o, "header")?;
    if header.is_function() {
        raw.header_function = true;
    } else {
        raw.headers = read_headers(&header)?;
    }
    raw.validate()
}

/// `cloud`: the app's own initialised `wx.cloud.Cloud` instance (or
/// `wx.cloud`), recognised by its methods. Whether one was given.
fn read_cloud(value: &JsValue) -> Result<bool, RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(false);
    }
    if !is_plain_object(value) {
        return Err(RequestError::invalid(
            "cloud",
            format!(
                "must be a wx.cloud.Cloud instance (or wx.cloud), got {}",
                type_name(value)
            ),
        ));
    }
    for &(key, field) in CLOUD_METHODS {
        let method = Reflect::get(value, &static_js(key))
            .map_err(|_| RequestError::invalid(field, "could not be read (its getter threw)"))?;
        if !method.is_function() {
            return Err(RequestError::invalid(
                field,
                format!(
                    "must be a function, got {}: pass a wx.cloud.Cloud instance (or wx.cloud)",
                    type_name(&method)
                ),
            ));
        }
    }
    Ok(true)
}

/// Whole request options, as `client.request` got them (the shim's fast
/// path sends the plain ones through `read_request_parts` directly).
pub fn read_request(options: &JsValue) -> Result<RawRequest, RequestError> {
    let options = plain_object("options", options, REQUEST_OPTIONS)?;
    let path = get(options, "path")?;
    // The path may carry its query: its own limit is the core's to check.
    let path = match string_within(&path, limits::MAX_TARGET_BYTES) {
        Ok(Some(path)) => path,
        Ok(None) if path.is_undefined() || path.is_null() => {
            return Err(RequestError::invalid(
                "path",
                "is required, e.g. '/api/home/init'",
            ))
        }
        Ok(None) => {
            return Err(RequestError::invalid(
                "path",
                format!("must be a string, got {}", type_name(&path)),
            ))
        }
        Err(units) => return Err(limits::target_too_long("path", units)),
    };
    let method = opt_string(options, "method")?;
    // A GET's or HEAD's data goes into the query, which holds far less than a body.
    let in_query = method
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case("GET") || m.eq_ignore_ascii_case("HEAD"));
    let data = read_body(&get(options, "data")?, in_query)?;
    let header = get(options, "header")?;
    let mut raw = read_request_parts(path, method, None, header, JsValue::UNDEFINED)?;
    match data {
        Data::None => {}
        Data::Json(json) => raw.data_json = Some(json),
        Data::Text(text) => raw.data_text = Some(text),
        Data::Binary(bytes) => raw.data_binary = Some(bytes),
    }
    read_rest(options, &mut raw)?;
    Ok(raw)
}

/// What `startFast` was given (the shim passes it only a string `path` and a
/// string or no `method`), read as `read_request` reads whole options.
pub fn read_request_parts(
    path: String,
    method: Option<String>,
    data_json: Option<String>,
    header: JsValue,
    rest: JsValue,
) -> Result<RawRequest, RequestError> {
    let headers = read_headers(&header)?;
    let mut raw = RawRequest {
        path,
        method,
        headers,
        data_json,
        ..RawRequest::default()
    };
    if !rest.is_undefined() {
        read_rest(plain_object("options", &rest, REQUEST_OPTIONS)?, &mut raw)?;
    }
    Ok(raw)
}

/// The options besides path, method, data and header, from checked options.
fn read_rest(rest: &JsValue, raw: &mut RawRequest) -> Result<(), RequestError> {
    raw.aborted = read_signal(&get(rest, "signal")?)?;
    raw.cache = read_request_cache(&get(rest, "cache")?)?;
    raw.timeout_ms = opt_number(rest, "timeoutMs")?;
    raw.route = opt_string(rest, "route")?;
    raw.retry = read_retry(&get(rest, "retry")?)?;
    let idempotent = get(rest, "idempotent")?;
    if short(&idempotent).as_deref() == Some("auto") {
        raw.idempotent_auto = true;
    } else if idempotent.is_string() {
        return Err(RequestError::invalid(
            "idempotent",
            "must be true, false or 'auto' (a key per operation)",
        ));
    } else {
        raw.idempotent = as_opt_bool("idempotent", &idempotent)?;
    }
    raw.idempotency_key = opt_string(rest, "idempotencyKey")?;
    raw.priority = opt_string(rest, "priority")?;
    raw.offline = opt_string(rest, "offline")?;
    Ok(())
}

/// `retry`: false (no retries), true or undefined (defaults), or an object.
fn read_retry(value: &JsValue) -> Result<Option<RawRetry>, RequestError> {
    if value.is_undefined() || value.is_null() || value.as_bool() == Some(true) {
        return Ok(None);
    }
    if value.as_bool() == Some(false) {
        return Ok(Some(RawRetry::Disabled));
    }
    let retry = plain_object("retry", value, RETRY_OPTIONS)?;
    Ok(Some(RawRetry::Custom {
        limit: opt_number(retry, "limit")?,
        base_ms: opt_number(retry, "baseMs")?,
        cap_ms: opt_number(retry, "capMs")?,
        deadline_ms: opt_number(retry, "deadlineMs")?,
    }))
}

/// `retryBudget` and `breaker`: false (off), true or undefined (defaults), or an object.
fn read_guards(o: &JsValue, raw: &mut RawConfig) -> Result<(), RequestError> {
    let budget = get(o, "retryBudget")?;
    let b = &mut raw.retry_budget;
    b.disabled = budget.as_bool() == Some(false);
    if let Some(budget) = settings("retryBudget", &budget, BUDGET_OPTIONS)? {
        b.capacity = opt_number(budget, "capacity")?;
        b.retry_cost = opt_number(budget, "retryCost")?;
        b.timeout_cost = opt_number(budget, "timeoutCost")?;
        b.success_refill = opt_number(budget, "successRefill")?;
    }
    let breaker = get(o, "breaker")?;
    let b = &mut raw.breaker;
    b.disabled = breaker.as_bool() == Some(false);
    if let Some(breaker) = settings("breaker", &breaker, BREAKER_OPTIONS)? {
        b.window_ms = opt_number(breaker, "windowMs")?;
        b.min_calls = opt_number(breaker, "minCalls")?;
        b.failure_ratio = opt_number(breaker, "failureRatio")?;
        b.open_ms = opt_number(breaker, "openMs")?;
    }
    Ok(())
}

/// An option that is a boolean or an object of settings: the object, if it is one.
fn settings<'a>(
    field: &'static str,
    value: &'a JsValue,
    known: &[&str],
) -> Result<Option<&'a JsValue>, RequestError> {
    if value.is_undefined() || value.is_null() || value.as_bool().is_some() {
        return Ok(None);
    }
    plain_object(field, value, known).map(Some)
}

/// `mock: { routes: [{ method, path, response | handler | error, delayMs }], enabled, ... }`.
fn read_mock(value: &JsValue, raw: &mut RawConfig) -> Result<(), RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(());
    }
    let mock = plain_object("mock", value, MOCK_OPTIONS)?;
    raw.mock_allow_in_release = opt_bool(mock, "allowInRelease")?.unwrap_or(false);
    raw.mock_passthrough = opt_bool(mock, "passthrough")?.unwrap_or(false);
    let enabled = get(mock, "enabled")?;
    raw.mock_enabled = if enabled.is_undefined() {
        None
    } else if let Some(on) = enabled.as_bool() {
        Some(if on {
            MockEnabled::On
        } else {
            MockEnabled::Off
        })
    } else if short(&enabled).as_deref() == Some("auto") {
        Some(MockEnabled::Auto)
    } else {
        return Err(RequestError::invalid(
            "mock.enabled",
            format!("must be true, false or 'auto', got {}", type_name(&enabled)),
        ));
    };
    for (i, route) in list("mock.routes", &get(mock, "routes")?)?
        .iter()
        .enumerate()
    {
        let field = indexed("mock.routes", i);
        raw.mock_routes.push(read_mock_route(&field, route)?);
    }
    Ok(())
}

/// One of `mock.routes`: only its method and path go to the core; the shim
/// serves `response`, calls `handler` or injects `error`.
fn read_mock_route(field: &str, route: &JsValue) -> Result<RawMockRoute, RequestError> {
    let route = plain_object_named(field, route, MOCK_ROUTE_OPTIONS)?;
    let mut out = RawMockRoute::default();
    out.path = short(&get(route, "path")?).ok_or_else(|| {
        RequestError::invalid(
            dotted(field, "path"),
            "is required: a pattern like '/api/order/:id'",
        )
    })?;
    let handler = get(route, "handler")?;
    let response = get(route, "response")?;
    let error = get(route, "error")?;
    let has_handler = !handler.is_undefined();
    let has_response = !response.is_undefined();
    let has_error = !error.is_undefined();
    if has_error && !short(&error).is_some_and(|e| MOCK_ERRORS.contains(&e.as_str())) {
        return Err(RequestError::invalid(
            dotted(field, "error"),
            format!("must be one of {}", join(MOCK_ERRORS.iter().copied(), ", ")),
        ));
    }
    let delay = get(route, "delayMs")?;
    if !delay.is_undefined()
        && !delay
            .as_f64()
            .is_some_and(|d| (0.0..=60_000.0).contains(&d))
    {
        return Err(RequestError::invalid(
            dotted(field, "delayMs"),
            "must be a number of milliseconds from 0 to 60000",
        ));
    }
    if has_handler && !handler.is_function() {
        return Err(RequestError::invalid(
            dotted(field, "handler"),
            "must be a function (req, params) => response",
        ));
    }
    if has_response && !is_plain_object(&response) {
        return Err(RequestError::invalid(
            dotted(field, "response"),
            format!(
                "must be an object {{ statusCode, data, header }}, got {}",
                type_name(&response)
            ),
        ));
    }
    if u8::from(has_handler) + u8::from(has_response) + u8::from(has_error) != 1 {
        return Err(RequestError::invalid(
            field.to_owned(),
            "needs exactly one of `response`, `handler` or `error`",
        ));
    }
    let method = get(route, "method")?;
    if !method.is_undefined() {
        out.method = Some(short(&method).ok_or_else(|| {
            RequestError::invalid(
                dotted(field, "method"),
                format!("must be a string, got {}", type_name(&method)),
            )
        })?);
    }
    Ok(out)
}

/// `signal` is listened to by the shim; here it has to look like an
/// AbortSignal, and whether it is already aborted counts.
fn read_signal(signal: &JsValue) -> Result<bool, RequestError> {
    if signal.is_undefined() || signal.is_null() {
        return Ok(false);
    }
    let aborted = Reflect::get(signal, &"aborted".into())
        .ok()
        .and_then(|a| a.as_bool());
    let listens = signal.is_object()
        && Reflect::get(signal, &"addEventListener".into()).is_ok_and(|f| f.is_function());
    if let (true, Some(aborted)) = (listens, aborted) {
        Ok(aborted)
    } else {
        Err(RequestError::invalid(
            "signal",
            "must be an AbortSignal (or `createAbortController().signal` in the mini-program)",
        ))
    }
}

/// `value` as a plain object whose own keys are all in `known`.
fn plain_object<'a>(
    field: &'static str,
    value: &'a JsValue,
    known: &[&str],
) -> Result<&'a JsValue, RequestError> {
    plain_object_named(field, value, known)
}

fn plain_object_named<'a>(
    field: &str,
    value: &'a JsValue,
    known: &[&str],
) -> Result<&'a JsValue, RequestError> {
    if !is_plain_object(value) {
        return Err(RequestError::invalid(
            field.to_owned(),
            format!("must be an object, got {}", type_name(value)),
        ));
    }
    let keys = Reflect::own_keys(value).map_err(|_| {
        RequestError::invalid(field.to_owned(), "could not be read (its keys threw)")
    })?;
    for key in keys.iter() {
        // Longer than any known name: unknown, and only its start is read.
        if let Some(key) = text_prefix(&key, 65) {
            if !known.contains(&key.as_str()) {
                return Err(RequestError::invalid(
                    field.to_owned(),
                    format!(
                        "has an unknown option {}; known: {}",
                        quoted(&key, 64),
                        join(known.iter().copied(), ", ")
                    ),
                ));
            }
        }
    }
    Ok(value)
}

fn opt_string(object: &JsValue, key: &'static str) -> Result<Option<String>, RequestError> {
    as_opt_string(key, &get(object, key)?)
}

fn as_opt_string(key: &'static str, value: &JsValue) -> Result<Option<String>, RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    named_string(key, value).map(Some)
}

fn opt_bool(object: &JsValue, key: &'static str) -> Result<Option<bool>, RequestError> {
    as_opt_bool(key, &get(object, key)?)
}

fn as_opt_bool(key: &'static str, value: &JsValue) -> Result<Option<bool>, RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_bool().map(Some).ok_or_else(|| {
        RequestError::invalid(
            key,
            format!("must be true or false, got {}", type_name(value)),
        )
    })
}

fn opt_number(object: &JsValue, key: &'static str) -> Result<Option<f64>, RequestError> {
    as_opt_number(key, &get(object, key)?)
}

fn as_opt_number(key: &'static str, value: &JsValue) -> Result<Option<f64>, RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_f64().map(Some).ok_or_else(|| {
        RequestError::invalid(key, format!("must be a number, got {}", type_name(value)))
    })
}

/// A `header` object: own string keys, values strings (numbers and booleans
/// are written as text). The limits are checked before each string is copied.
pub fn read_headers(header: &JsValue) -> Result<Vec<(String, String)>, RequestError> {
    if header.is_undefined() || header.is_null() {
        return Ok(Vec::new());
    }
    if !is_plain_object(header) {
        return Err(RequestError::invalid(
            "header",
            format!("must be an object of strings, got {}", type_name(header)),
        ));
    }
    let keys = Reflect::own_keys(header)
        .map_err(|_| RequestError::invalid("header", "could not be read (its keys threw)"))?;
    let count = keys.length() as usize;
    if count > MAX_HEADERS {
        return Err(limits::too_many_headers(count));
    }
    let mut headers = Vec::with_capacity(count);
    let mut bytes = 0;
    let mut within = |text: &JsValue| -> Result<Option<String>, RequestError> {
        let left = MAX_HEADER_BYTES.saturating_sub(bytes);
        let text =
            string_within(text, left).map_err(|units| limits::headers_too_large(bytes + units))?;
        bytes += text.as_ref().map_or(0, String::len);
        Ok(text)
    };
    for key in keys.iter() {
        let Some(name) = within(&key)? else {
            continue;
        };
        let value = Reflect::get(header, &key)
            .map_err(|_| RequestError::invalid("header", "could not be read (a getter threw)"))?;
        let value = if let Some(s) = within(&value)? {
            s
        } else if let Some(n) = value.as_f64() {
            // As JS writes it (`String(n)`), as wx sends it.
            js_sys::Number::from(n)
                .to_string_with_radix(10)
                .ok()
                .and_then(|text| text.as_string())
                .unwrap_or_else(|| number(n))
        } else if let Some(b) = value.as_bool() {
            b.to_string()
        } else {
            return Err(RequestError::invalid(
                format!("header.{name}"),
                format!("must be a string, got {}", type_name(&value)),
            ));
        };
        headers.push((name, value));
    }
    Ok(headers)
}

/// What `data` is, as the core sees it.
enum Data {
    None,
    /// `JSON.stringify(data)` of anything but a string or an ArrayBuffer.
    Json(String),
    /// A string, sent as it is.
    Text(String),
    /// An ArrayBuffer of this many bytes (the shim keeps a copy to send).
    Binary(usize),
}

/// `data`: its JSON text, the string itself, or a binary length. JSON for a
/// query (`in_query`) is held to what a query can hold.
fn read_body(data: &JsValue, in_query: bool) -> Result<Data, RequestError> {
    if data.is_undefined() || data.is_null() {
        return Ok(Data::None);
    }
    if data.dyn_ref::<ArrayBuffer>().is_some() {
        // Read, not trusted: a Proxy of an ArrayBuffer passes `instanceof`.
        let bytes = Reflect::get(data, &static_js("byteLength"))
            .ok()
            .and_then(|n| n.as_f64())
            .ok_or_else(|| RequestError::invalid("data", "could not be read (an ArrayBuffer?)"))?;
        return Ok(Data::Binary(bytes as usize));
    }
    if let Some(text) = string_within(data, MAX_BODY_BYTES).map_err(limits::body_too_large)? {
        return Ok(Data::Text(text));
    }
    let json = JSON::stringify(data).map_err(|e| {
        let reason = Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| text_prefix(&m, 256))
            .unwrap_or_else(|| "it threw".into());
        RequestError::invalid("data", format!("cannot be sent as JSON: {reason}"))
    })?;
    // `JSON.stringify` gives undefined for functions and symbols.
    let json: JsValue = json.into();
    let bounded = if in_query {
        string_within(&json, limits::MAX_QUERY_JSON).map_err(limits::query_data_too_large)
    } else {
        string_within(&json, MAX_BODY_BYTES).map_err(limits::body_too_large)
    };
    match bounded? {
        Some(text) => Ok(Data::Json(text)),
        None => Err(RequestError::invalid(
            "data",
            format!("cannot be sent as JSON: got {}", type_name(data)),
        )),
    }
}

/// A request's `cache`: false, 'reload', or `{ ttlMs, staleMs, tags, private, reload }`.
fn read_request_cache(value: &JsValue) -> Result<RawRequestCache, RequestError> {
    if value.is_undefined() || value.is_null() || value.as_bool() == Some(true) {
        return Ok(RawRequestCache::Default);
    }
    if value.as_bool() == Some(false) {
        return Ok(RawRequestCache::Off);
    }
    if short(value).as_deref() == Some("reload") {
        return Ok(RawRequestCache::Options {
            ttl_ms: None,
            stale_ms: None,
            tags: Vec::new(),
            private: false,
            reload: true,
        });
    }
    if value.is_string() {
        return Err(RequestError::invalid(
            "cache",
            "must be false, 'reload' or { ttlMs, staleMs, tags, private, reload }",
        ));
    }
    let cache = plain_object("cache", value, REQUEST_CACHE_OPTIONS)?;
    Ok(RawRequestCache::Options {
        ttl_ms: opt_number(cache, "ttlMs")?,
        stale_ms: opt_number(cache, "staleMs")?,
        tags: string_list("cache.tags", &get(cache, "tags")?)?,
        private: opt_bool(cache, "private")?.unwrap_or(false),
        reload: opt_bool(cache, "reload")?.unwrap_or(false),
    })
}

/// The client's `stats` options.
fn read_stats_config(value: &JsValue, raw: &mut RawConfig) -> Result<(), RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(());
    }
    let stats = plain_object("stats", value, STATS_OPTIONS)?;
    raw.stats_patterns = string_list("stats.patterns", &get(stats, "patterns")?)?;
    raw.stats_max_patterns = opt_number(stats, "maxPatterns")?;
    Ok(())
}

/// The client's `cache` options.
fn read_cache_config(value: &JsValue) -> Result<Option<RawCacheConfig>, RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let cache = plain_object("cache", value, CACHE_OPTIONS)?;
    let mut raw = RawCacheConfig::default();
    for (i, rule) in list("cache.rules", &get(cache, "rules")?)?
        .iter()
        .enumerate()
    {
        let field = indexed("cache.rules", i);
        let rule = plain_object_named(&field, rule, RULE_OPTIONS)?;
        let mut out = RawRule::default();
        out.path = named_string(&dotted(&field, "path"), &get(rule, "path")?)?;
        out.ttl_ms = opt_number(rule, "ttlMs")?;
        out.stale_ms = opt_number(rule, "staleMs")?;
        out.tags = string_list(&dotted(&field, "tags"), &get(rule, "tags")?)?;
        raw.rules.push(out);
    }
    for (i, item) in list("cache.invalidations", &get(cache, "invalidations")?)?
        .iter()
        .enumerate()
    {
        let field = indexed("cache.invalidations", i);
        let item = plain_object_named(&field, item, INVALIDATION_OPTIONS)?;
        let mut out = RawInvalidation::default();
        out.method = opt_string(item, "method")?;
        out.path = named_string(&dotted(&field, "path"), &get(item, "path")?)?;
        out.prefixes = string_list(&dotted(&field, "prefixes"), &get(item, "prefixes")?)?;
        out.tags = string_list(&dotted(&field, "tags"), &get(item, "tags")?)?;
        raw.invalidations.push(out);
    }
    raw.max_entries = opt_number(cache, "maxEntries")?;
    raw.max_bytes = opt_number(cache, "maxBytes")?;
    raw.persist = opt_bool(cache, "persist")?;
    raw.persist_max_bytes = opt_number(cache, "persistMaxBytes")?;
    Ok(Some(raw))
}

/// `list.name`, for errors.
fn dotted(list: &str, name: &str) -> String {
    format!("{list}.{name}")
}

/// `list[i]`, for errors.
fn indexed(list: &str, i: usize) -> String {
    format!("{list}[{i}]")
}

/// An optional array (undefined: empty).
fn list(field: &str, value: &JsValue) -> Result<Vec<JsValue>, RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if is_array(value) != Ok(true) {
        return Err(RequestError::invalid(
            field.to_owned(),
            format!("must be an array, got {}", type_name(value)),
        ));
    }
    items_within(value, MAX_LIST_ITEMS).map_err(|at| match at {
        None => too_many_items(field),
        Some(i) => RequestError::invalid(format!("{field}[{i}]"), "could not be read (it threw)"),
    })
}

fn too_many_items(field: &str) -> RequestError {
    RequestError::invalid(
        field.to_owned(),
        format!("must be an array of at most {MAX_LIST_ITEMS} items"),
    )
}

fn string_list(field: &str, value: &JsValue) -> Result<Vec<String>, RequestError> {
    list(field, value)?
        .iter()
        .map(|item| {
            if item.is_string() {
                named_string(field, item)
            } else {
                Err(RequestError::invalid(
                    field.to_owned(),
                    format!("must hold strings, got {}", type_name(item)),
                ))
            }
        })
        .collect()
}

/// A string option, copied only when it is no longer than any option needs.
fn named_string(field: &str, value: &JsValue) -> Result<String, RequestError> {
    match string_within(value, MAX_OPTION_UNITS) {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(RequestError::invalid(
            field.to_owned(),
            format!("must be a string, got {}", type_name(value)),
        )),
        Err(units) => Err(RequestError::invalid(
            field.to_owned(),
            format!("is {units} characters long; at most {MAX_OPTION_UNITS}"),
        )),
    }
}

/// A string no longer than any option needs, or None.
fn short(value: &JsValue) -> Option<String> {
    string_within(value, MAX_OPTION_UNITS).ok().flatten()
}

/// The longest string option (a URL, a pattern, a key): as long as a path may be.
const MAX_OPTION_UNITS: usize = limits::MAX_PATH_BYTES;
