//! Core outputs as the JS objects the shim receives, built by hand (serde
//! derives for these shapes cost the wasm tens of KB). `tests/boundary_shapes.rs`
//! pins every shape, key order included.

use crate::prelude::*;
use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::js::{static_js, Obj};
use crate::core::cache::store::CacheStats;
use crate::core::config::ClientConfig;
use crate::core::engine::{Command, Send, Settled};
use crate::core::error::RequestError;
use crate::core::explain::Explain;
use crate::core::locale::Locale;
use crate::core::mock::MockMatch;
use crate::core::offline::Mutation;
use crate::core::request::Body;
use crate::core::resilience::BreakerView;
use crate::core::route::Route;
use crate::core::socket::hub::{Opened, Target};
use crate::core::socket::machine::{SocketCommand, SocketEvent};
use crate::core::stats;

#[wasm_bindgen]
extern "C" {
    /// Object literals for the frequent commands, made by the shim in one
    /// call each (setting properties one by one from here costs more than
    /// the rest of a cache hit). They only shape; the values are the engine's.
    pub type CommandShapes;
    #[wasm_bindgen(method)]
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        this: &CommandShapes,
        id: u32,
        route: &JsValue,
        reason: &JsValue,
        attempts: u32,
        elapsed_ms: f64,
        from_cache: bool,
        stale: bool,
        value: &JsValue,
    ) -> JsValue;
    #[wasm_bindgen(method)]
    fn end(this: &CommandShapes, id: u32) -> JsValue;
    #[wasm_bindgen(method)]
    #[allow(clippy::too_many_arguments)]
    fn send(
        this: &CommandShapes,
        id: u32,
        route: &JsValue,
        reason: &JsValue,
        method: &JsValue,
        attempt: u32,
        timeout_ms: u32,
        clamped_from: Option<u32>,
        url: Option<String>,
        mock: &JsValue,
        path: &str,
        header: &JsValue,
        body: &JsValue,
        guard_ms: u32,
    ) -> JsValue;
    #[wasm_bindgen(method)]
    fn wait(this: &CommandShapes, id: u32, delay_ms: u32) -> JsValue;
}

/// A request command: `{ type, ... }`.
pub fn command(
    command: Command<JsValue>,
    locale: Locale,
    shapes: Option<&CommandShapes>,
) -> JsValue {
    match command {
        // A miss's path: one call into JS each when the shim gave shapes.
        Command::Send(send) => match shapes {
            Some(shapes) => shapes.send(
                send.id,
                &static_js(send.route.route.as_str()),
                &static_js(send.route.reason),
                &static_js(send.method.as_str()),
                send.attempt,
                send.timeout_ms,
                send.clamped_from,
                send.url,
                &send
                    .route
                    .mock
                    .as_ref()
                    .map_or(JsValue::UNDEFINED, mock_object),
                &send.target,
                &headers_or_undefined(&send.headers),
                &body_value(send.body.as_ref()),
                send.guard_ms,
            ),
            None => send_command(&send),
        },
        Command::Headers {
            id,
            attempt,
            delay_ms,
        } => typed("headers")
            .num("id", id.into())
            .num("attempt", attempt.into())
            .num("delayMs", delay_ms.into())
            .js(),
        Command::WaitReplay { delay_ms } => {
            typed("waitReplay").num("delayMs", delay_ms.into()).js()
        }
        Command::Wait { id, delay_ms } => match shapes {
            Some(shapes) => shapes.wait(id, delay_ms),
            None => typed("wait")
                .num("id", id.into())
                .num("delayMs", delay_ms.into())
                .js(),
        },
        Command::Abort { id } => typed("abort").num("id", id.into()).js(),
        Command::End { id } => match shapes {
            Some(shapes) => shapes.end(id),
            None => typed("end").num("id", id.into()).js(),
        },
        // The cache hit's path: one call into JS when the shim gave shapes.
        Command::Resolve(settled, value) => match shapes {
            Some(shapes) if settled.explain.is_none() => shapes.resolve(
                settled.id,
                &static_js(settled.route.as_str()),
                &static_js(settled.reason),
                settled.attempts,
                settled.elapsed_ms,
                settled.from_cache,
                settled.stale,
                &value,
            ),
            _ => {
                let out = typed("resolve")
                    .num("id", settled.id.into())
                    .name("route", settled.route.as_str())
                    .name("reason", settled.reason)
                    .num("attempts", settled.attempts.into())
                    .num("elapsedMs", settled.elapsed_ms)
                    .flag("fromCache", settled.from_cache)
                    .flag("stale", settled.stale)
                    .set("value", &value);
                match &settled.explain {
                    Some(explain) => out.set("explain", &explain_object(explain)),
                    None => out,
                }
                .js()
            }
        },
        Command::Reject(settled, error) => {
            let out = typed("reject").num("id", settled.id.into()).set(
                "error",
                &error_object(&error, locale, Some(&settled), &settled.note),
            );
            // A caller that joined a fetch: the fetch's id, where the shim keeps its last answer.
            let out = match settled.fetch {
                Some(fetch) => out.num("fetch", fetch.into()),
                None => out,
            };
            // A failure for WeChat's realtime log: its pattern, never the path.
            out.text_if("logPattern", settled.log_pattern.as_deref())
                .js()
        }
        Command::InitCloud { attempt } => typed("init")
            .num("attempt", attempt.into())
            .num("timeoutMs", crate::core::init::INIT_TIMEOUT_MS.into())
            .js(),
        Command::WaitInit { delay_ms } => typed("waitInit").num("delayMs", delay_ms.into()).js(),
        Command::CloudReady => typed("cloudReady").js(),
        Command::CloudFailed(error) => typed("cloudFailed")
            .set("error", &error_object(&error, locale, None, ""))
            .js(),
        Command::Persist { delay_ms } => typed("persist").num("delayMs", delay_ms.into()).js(),
        Command::Replay(replay) => {
            let m = &replay.mutation;
            typed("replay")
                .num("id", replay.id.into())
                .num("mutation", m.id.into())
                .name("method", m.method.as_str())
                .text("path", &m.path)
                .set("header", &headers_object(&m.headers))
                .text_if("dataJson", m.data_json.as_deref())
                .js()
        }
        Command::Synced(mutation, outcome) => {
            let out = typed("synced").set("mutation", &mutation_object(&mutation));
            match outcome {
                Ok(value) => out.flag("ok", true).set("value", &value),
                Err(error) => out
                    .flag("ok", false)
                    .set("error", &error_object(&error, locale, None, "")),
            }
            .js()
        }
        Command::SaveQueue => typed("saveQueue").js(),
        Command::Report { id } => typed("report").num("id", id.into()).js(),
        Command::WaitReport { delay_ms } => {
            typed("waitReport").num("delayMs", delay_ms.into()).js()
        }
        // Watched queries (`client.watch`).
        Command::Watched { watches, value } => typed("watched")
            .set("watches", &watch_ids(&watches))
            .set("value", &value)
            .js(),
        Command::WatchFailed { watches, error } => typed("watchFailed")
            .set("watches", &watch_ids(&watches))
            .set("error", &error_object(&error, locale, None, ""))
            .js(),
        Command::WaitWatch { delay_ms } => typed("waitWatch").num("delayMs", delay_ms.into()).js(),
        Command::WatchFetch { id, watch } => typed("watchFetch")
            .num("id", id.into())
            .num("watch", watch.into())
            .js(),
    }
}

/// Watcher ids as a JS array of numbers.
fn watch_ids(ids: &[u32]) -> JsValue {
    ids.iter()
        .map(|id| JsValue::from(*id))
        .collect::<Array>()
        .into()
}

/// `{ name: value }`, or undefined without headers (most requests: no object to make).
fn headers_or_undefined(headers: &[(String, String)]) -> JsValue {
    if headers.is_empty() {
        JsValue::UNDEFINED
    } else {
        headers_object(headers)
    }
}

/// `{ name: value }` of request headers.
pub fn headers_object(headers: &[(String, String)]) -> JsValue {
    headers
        .iter()
        .fold(Obj::new(), |o, (name, value)| o.text_at(name, value))
        .js()
}

/// A queued mutation as `pending()` lists it and storage keeps it:
/// `{ id, method, path, header, dataJson?, idempotencyKey, user?, queuedAt, attempts }`.
pub fn mutation_object(m: &Mutation) -> JsValue {
    Obj::new()
        .num("id", m.id.into())
        .name("method", m.method.as_str())
        .text("path", &m.path)
        .set("header", &headers_object(&m.headers))
        .text_if("dataJson", m.data_json.as_deref())
        .text("idempotencyKey", &m.idempotency_key)
        .text_if("user", m.user.as_deref())
        .num("queuedAt", m.queued_at)
        .num("attempts", m.attempts.into())
        .js()
}

fn send_command(send: &Send) -> JsValue {
    let mut out = typed("send")
        .num("id", send.id.into())
        .name("route", send.route.route.as_str())
        .name("reason", send.route.reason)
        .name("method", send.method.as_str())
        .num("attempt", send.attempt.into())
        .num("timeoutMs", send.timeout_ms.into());
    if let Some(from) = send.clamped_from {
        out = out.num("clampedFrom", from.into());
    }
    out = out.text_if("url", send.url.as_deref());
    if let Some(mock) = &send.route.mock {
        out = out.set("mock", &mock_object(mock));
    }
    out.text("path", &send.target)
        .set("header", &headers_or_undefined(&send.headers))
        .set("body", &body_value(send.body.as_ref()))
        .num("guardMs", send.guard_ms.into())
        .js()
}

/// A body for the shim: its text, `true` for the ArrayBuffer the shim
/// copied at start, or undefined.
fn body_value(body: Option<&Body>) -> JsValue {
    match body {
        Some(Body::Json(text) | Body::Text(text)) => JsValue::from_str(text),
        Some(Body::Binary(_) | Body::Kept(_)) => JsValue::TRUE,
        None => JsValue::UNDEFINED,
    }
}

/// `{ index, params }`: which mock route answers, with what it captured.
fn mock_object(mock: &MockMatch) -> JsValue {
    let mut params = Obj::new();
    for (name, value) in &mock.params {
        params = params.text_at(name, value);
    }
    Obj::new()
        .num("index", mock.index as f64)
        .set("params", &params.js())
        .js()
}

/// `{ type: name }`, to add fields to.
fn typed(name: &'static str) -> Obj {
    Obj::new().name("type", name)
}

/// The fields of a JS `RequestError`, as a plain object the shim wraps.
pub fn error_object(
    error: &RequestError,
    locale: Locale,
    settled: Option<&Settled>,
    note: &str,
) -> JsValue {
    let detail = if note.is_empty() {
        error.to_string()
    } else {
        format!("{error}; {note}")
    };
    let queued = settled.and_then(|s| s.queued);
    let message = match (queued, locale) {
        (None, _) => error.user_message(locale),
        (Some(_), Locale::ZhCn) => "网络不可用，已保存，联网后将自动提交".into(),
        (Some(_), Locale::En) => {
            "No network connection; saved, it will be sent when you are back online".into()
        }
    };
    let out = Obj::new()
        .name("kind", error.kind().as_str())
        .text("message", &message)
        .text("detail", &detail)
        .num_or_null("code", error.code().map(f64::from))
        .num_or_null("statusCode", error.status().map(f64::from))
        .flag("retryable", error.is_retryable())
        .num("attempts", settled.map_or(0, |s| s.attempts).into())
        .set(
            "route",
            &settled.map_or(JsValue::NULL, |s| (*static_js(s.route.as_str())).clone()),
        );
    let out = match queued {
        Some(id) => out.flag("queued", true).num("queueId", id.into()),
        None => out,
    };
    match settled.and_then(|s| s.explain.as_deref()) {
        Some(explain) => out.set("explain", &explain_object(explain)),
        None => out,
    }
    .js()
}

/// `{ route, routeReason, cache, cacheReason, attempts, notes, breaker, budget }`.
fn explain_object(e: &Explain) -> JsValue {
    let attempts: Array = e
        .attempts
        .iter()
        .map(|a| {
            Obj::new()
                .num("attempt", a.attempt.into())
                .name("route", a.route.as_str())
                .num("atMs", a.at_ms)
                .num("timeoutMs", a.timeout_ms.into())
                .text("outcome", &a.outcome)
                .text("decision", &a.decision)
                .js()
        })
        .collect();
    let notes: Array = e.notes.iter().map(|n| JsValue::from_str(n)).collect();
    Obj::new()
        .name("route", e.route.as_str())
        .name("routeReason", e.route_reason)
        .name("cache", e.cache.as_str())
        .name("cacheReason", e.cache_reason)
        .set("attempts", &attempts)
        .set("notes", &notes)
        .set("breaker", &breaker_object(e.breaker.as_ref()))
        .set("budget", &budget_object(e.budget))
        .js()
}

/// A socket command: `{ type, socket, ... }`; events reach user handlers as they are.
pub fn socket_command(socket: u32, command: &SocketCommand) -> JsValue {
    let head = |name| typed(name).num("socket", socket.into());
    match command {
        SocketCommand::Connect { epoch } => head("connect").num("epoch", (*epoch).into()).js(),
        SocketCommand::CloseTask {
            epoch,
            code,
            reason,
        } => head("closeTask")
            .num("epoch", (*epoch).into())
            .num("code", (*code).into())
            .name("reason", reason)
            .js(),
        SocketCommand::Transmit { epoch, seq, text } => head("transmit")
            .num("epoch", (*epoch).into())
            .num("seq", *seq as f64)
            .text("text", text)
            .js(),
        SocketCommand::Deliver => head("deliver").js(),
        SocketCommand::Invalidate { names } => head("invalidate").text("names", names).js(),
        SocketCommand::Ignored { detail } => head("ignored").name("detail", detail).js(),
        SocketCommand::Emit(event) => head("event").set("event", &socket_event(event)).js(),
        SocketCommand::Timer { at_ms } => head("timer")
            .num_or_null("atMs", at_ms.is_finite().then_some(*at_ms))
            .js(),
    }
}

fn socket_event(event: &SocketEvent) -> JsValue {
    let named = |name| Obj::new().name("name", name);
    match event {
        SocketEvent::Open => named("open"),
        SocketEvent::Close {
            code,
            reason,
            reconnecting,
        } => named("close")
            .num("code", (*code).into())
            .text("reason", reason)
            .flag("reconnecting", *reconnecting),
        SocketEvent::Error { detail, unsent } => {
            let error = named("error").text("detail", detail);
            if unsent.is_empty() {
                error
            } else {
                let unsent: Array = unsent.iter().map(|t| JsValue::from_str(t)).collect();
                error.set("unsent", &unsent)
            }
        }
        SocketEvent::Reconnecting { attempt, delay_ms } => named("reconnecting")
            .num("attempt", (*attempt).into())
            .num("delayMs", (*delay_ms).into()),
        SocketEvent::State(state) => named("state").name("state", state.as_str()),
    }
    .js()
}

/// Socket commands for socket `id`, as an array.
pub fn socket_commands(id: u32, commands: &[SocketCommand]) -> Array {
    commands.iter().map(|c| socket_command(id, c)).collect()
}

/// Commands for several sockets, as an array.
pub fn hub_commands(commands: &[(u32, SocketCommand)]) -> Array {
    commands
        .iter()
        .map(|(id, c)| socket_command(*id, c))
        .collect()
}

/// `{ id, shared, route, reason, service, path, url?, header?, acked, config }`
/// of `client.socket()`: `config` is the numbers `Sockets.start` takes.
pub fn socket_opened(opened: &Opened, target: Option<&Target>) -> JsValue {
    let text = |f: fn(&Target) -> &str| target.map_or("", f);
    let config: Array = opened
        .config
        .to_numbers()
        .iter()
        .map(|n| JsValue::from_f64(*n))
        .collect();
    Obj::new()
        .num("id", opened.id.into())
        .flag("shared", opened.shared)
        .text("route", text(|t| t.route.as_str()))
        .text("reason", text(|t| t.reason))
        .text("service", text(|t| &t.service))
        .text("path", text(|t| &t.path))
        .text_if("url", target.and_then(|t| t.url.as_deref()))
        .set(
            "header",
            &target.map_or(JsValue::UNDEFINED, |t| headers_or_undefined(&t.headers)),
        )
        .flag("acked", opened.config.acked)
        .set("config", &config)
        .js()
}

/// `{ env, service, resourceAppid, resourceEnv }` for the cloud adapter
/// (`env`: the environment the library's own instance is made for, and the
/// one each call names; null with the app's instance and no `env`).
pub fn cloud_config(c: &ClientConfig) -> JsValue {
    Obj::new()
        .text_or_null("env", c.cloud_env())
        .text_or_null("service", c.service.as_deref())
        .text_or_null("resourceAppid", c.resource_appid.as_deref())
        .text_or_null("resourceEnv", c.resource_env.as_deref())
        .js()
}

/// `{ entries, bytes, hits, misses, evictions, staleServes, revalidations,
/// pushedInvalidations, ignoredFrames }`.
pub fn cache_stats(s: &CacheStats) -> JsValue {
    Obj::new()
        .num("entries", s.entries as f64)
        .num("bytes", s.bytes as f64)
        .num("hits", s.hits as f64)
        .num("misses", s.misses as f64)
        .num("evictions", s.evictions as f64)
        .num("staleServes", s.stale_serves as f64)
        .num("revalidations", s.revalidations as f64)
        .num("pushedInvalidations", s.pushed_invalidations as f64)
        .num("ignoredFrames", s.ignored_frames as f64)
        .js()
}

/// `client.stats()`: `{ total, rows, folded }`.
pub fn stats(table: &stats::Stats, services: &[Service]) -> JsValue {
    let (rows, total) = table.rows();
    let rows: Array = rows.iter().map(|row| stats_row(row, true)).collect();
    let services: Array = services.iter().map(service).collect();
    Obj::new()
        .set("total", &stats_row(&total, false))
        .set("rows", &rows)
        .num("folded", table.folded() as f64)
        .set("services", &services)
        .js()
}

/// A route the client calls, with its breaker and retry budget (if any).
/// Its breaker, its retry budget, and (attempts in flight, requests queued).
pub type Service = (Route, Option<BreakerView>, Option<(u32, u32)>, (u32, usize));

/// `{ route, breaker: { state, calls, failures, retryInMs, opened } | null,
/// budget: { tokens, capacity } | null, inFlight, queued }`.
fn service((route, breaker, budget, (in_flight, queued)): &Service) -> JsValue {
    Obj::new()
        .name("route", route.as_str())
        .set("breaker", &breaker_object(breaker.as_ref()))
        .set("budget", &budget_object(*budget))
        .num("inFlight", (*in_flight).into())
        .num("queued", *queued as f64)
        .js()
}

/// `{ state, calls, failures, retryInMs, opened }` or null.
fn breaker_object(breaker: Option<&BreakerView>) -> JsValue {
    breaker.map_or(JsValue::NULL, |b| {
        Obj::new()
            .name("state", b.state.as_str())
            .num("calls", b.calls.into())
            .num("failures", b.failures.into())
            .num("retryInMs", b.retry_in_ms.into())
            .num("opened", b.opened.into())
            .js()
    })
}

/// `{ tokens, capacity }` or null.
fn budget_object(budget: Option<(u32, u32)>) -> JsValue {
    budget.map_or(JsValue::NULL, |(tokens, capacity)| {
        Obj::new()
            .num("tokens", tokens.into())
            .num("capacity", capacity.into())
            .js()
    })
}

/// One statistics row; the total has no route or pattern.
fn stats_row(row: &stats::Row, named: bool) -> JsValue {
    let mut out = Obj::new();
    if named {
        out = out
            .name("route", row.route.as_str())
            .text("pattern", &row.pattern);
    }
    let mut errors = Obj::new();
    for (kind, n) in &row.errors {
        errors = errors.set(kind.as_str(), &JsValue::from(*n as f64));
    }
    let h = &row.latency;
    let buckets: Array = h
        .buckets()
        .into_iter()
        .map(|(upper, n)| Array::of2(&JsValue::from(upper), &JsValue::from(n)))
        .collect();
    let latency = Obj::new()
        .num("count", h.count() as f64)
        .num("meanMs", h.mean_ms())
        .num("p50Ms", h.quantile_ms(0.5))
        .num("p95Ms", h.quantile_ms(0.95))
        .num("p99Ms", h.quantile_ms(0.99))
        .num("maxMs", h.max_ms())
        .set("buckets", &buckets);
    out.num("requests", row.requests as f64)
        .num("failed", row.failed() as f64)
        .set("errors", &errors.js())
        .num("retries", row.retries as f64)
        .num("cacheHits", row.cache_hits as f64)
        .num("hitRatio", row.hit_ratio())
        .num("revalidated", row.revalidated as f64)
        .num("inFlight", f64::from(row.in_flight))
        .set("latency", &latency.js())
        .js()
}
