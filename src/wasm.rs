//! The `#[wasm_bindgen]` boundary: JS values in, core types through, small JS
//! objects out. No policy here, and nothing that JS can make panic: every read
//! of a JS value is checked, and every JS call that can throw is caught.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Object, Reflect, JSON};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::core::cache::rules::{RawCacheConfig, RawInvalidation, RawRequestCache, RawRule};
use crate::core::cache::store::{Entry, Weigh};
use crate::core::classify::Failure;
use crate::core::config::{
    parse_sdk_version, ClientConfig, MockEnabled, Platform, RawConfig, RawMockRoute, RawRetry,
};
use crate::core::engine::{self, Answer, Command, Invalidate, Settled};
use crate::core::error::RequestError;
use crate::core::hash::FxHashMap;
use crate::core::locale::Locale;
use crate::core::request::{number, quoted, RawRequest};
use crate::core::socket::config::RawSocketConfig;
use crate::core::socket::hub::{RawSocketOptions, SocketHub};
use crate::core::socket::machine::{SocketCommand, SocketEvent};
use crate::core::stats;

/// Options `createClient` accepts. The shim consumes `wasmPath` and `debug`;
/// they are listed so that a misspelt option is reported, not ignored.
const CLIENT_OPTIONS: &[&str] = &[
    "env",
    "service",
    "resourceAppid",
    "resourceEnv",
    "baseUrl",
    "mode",
    "mock",
    "retry",
    "cache",
    "stats",
    "timeoutMs",
    "locale",
    "seed",
    "wasmPath",
    "debug",
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

/// Added to every entry's estimated size: the key and bookkeeping.
const ENTRY_OVERHEAD_BYTES: usize = 64;

/// The storage key of the persisted cache, and the format it holds.
const PERSIST_KEY: &str = "mp-request:cache";
const PERSIST_FORMAT: &str = "mp-request/cache";
const PERSIST_VERSION: u32 = 1;

/// Options `client.socket` accepts.
const SOCKET_OPTIONS: &[&str] = &[
    "service",
    "path",
    "route",
    "minDelayMs",
    "maxDelayMs",
    "factor",
    "maxAttempts",
    "connectTimeoutMs",
    "minUptimeMs",
    "heartbeatIntervalMs",
    "heartbeatTimeoutMs",
    "outboxMaxMessages",
    "outboxMaxBytes",
    "acked",
];

/// Keys of `retry` objects.
const RETRY_OPTIONS: &[&str] = &["limit", "baseMs", "capMs", "deadlineMs"];

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

/// One client's request engine, owned by the JS client.
#[wasm_bindgen]
pub struct Engine {
    inner: RefCell<engine::Engine<JsValue>>,
    sockets: RefCell<SocketHub>,
    locale: Locale,
    shapes: Option<CommandShapes>,
}

#[wasm_bindgen]
impl Engine {
    /// Validates the client options; throws a plain error object on bad input.
    /// `shapes` (optional) makes frequent commands as object literals.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, platform: JsValue, shapes: JsValue) -> Result<Engine, JsValue> {
        let config = read_config(&options).map_err(|e| error_object(&e, Locale::ZhCn, None, ""))?;
        let fact = |key: &str| Reflect::get(&platform, &JsValue::from_str(key)).unwrap_or_default();
        let seed = fact("seed").as_f64().unwrap_or(0.0);
        let platform = Platform {
            has_cloud: fact("hasCloud").as_bool().unwrap_or(false),
            sdk_version: fact("sdkVersion")
                .as_string()
                .and_then(|v| parse_sdk_version(&v)),
            device: fact("device").as_string(),
            env_version: fact("envVersion").as_string(),
        };
        let locale = config.locale;
        let shapes = (shapes.is_object()
            && ["resolve", "end"].iter().all(|name| {
                Reflect::get(&shapes, &JsValue::from_str(name)).is_ok_and(|f| f.is_function())
            }))
        .then(|| shapes.unchecked_into::<CommandShapes>());
        Ok(Engine {
            inner: RefCell::new(engine::Engine::new(config, platform, seed as u32)),
            sockets: RefCell::new(SocketHub::new((seed as u32).rotate_left(16))),
            locale,
            shapes,
        })
    }

    /// Mock routes may answer in this release build (`mock.allowInRelease`):
    /// the shim says so loudly.
    #[wasm_bindgen(js_name = mockInRelease)]
    pub fn mock_in_release(&self) -> Result<bool, JsValue> {
        let inner = self.borrow()?;
        let c = inner.config();
        Ok(inner.platform().is_release() && c.mock.allow_in_release && !c.mock.routes.is_empty())
    }

    /// `{ env, service, resourceAppid, resourceEnv }` for the cloud adapter.
    #[wasm_bindgen(js_name = cloudConfig)]
    pub fn cloud_config(&self) -> Result<JsValue, JsValue> {
        let inner = self.borrow()?;
        let c: &ClientConfig = inner.config();
        to_js(&CloudConfigJs {
            env: c.cloud_env(),
            service: c.service.as_deref(),
            resource_appid: c.resource_appid.as_deref(),
            resource_env: c.resource_env.as_deref(),
        })
    }

    /// Plans a request: `[id, ...commands]`, or throws an error object.
    pub fn start(&self, options: JsValue, now_ms: f64) -> Result<Array, JsValue> {
        // Read everything from JS before borrowing: a getter or `toJSON` may
        // call back into this engine.
        let raw = read_request(&options).map_err(|e| self.error(&e))?;
        self.started(raw, now_ms)
    }

    /// A handle for `{ path, method, data }`'s cache key (see `hitHandle`),
    /// or -1 when the request has no key. Never throws.
    pub fn handle(&self, path: String, method: Option<String>, data_json: Option<String>) -> f64 {
        let raw = RawRequest {
            path,
            method,
            body_bytes: data_json.as_ref().map_or(0, String::len),
            data_json,
            ..RawRequest::default()
        };
        match self.inner.try_borrow_mut() {
            Ok(mut engine) => engine.hit_handle(raw).unwrap_or(-1.0),
            Err(_) => -1.0,
        }
    }

    /// The fresh cached response behind `handle`; undefined when there is
    /// none fresh (start the request as usual); null when the handle is void
    /// (the user partition changed): ask for a new one.
    #[wasm_bindgen(js_name = hitHandle)]
    pub fn hit_handle(&self, handle: f64, now_ms: f64) -> JsValue {
        match self.inner.try_borrow_mut() {
            Ok(mut engine) => match engine.hit_by_handle(handle, now_ms) {
                Ok(Some(value)) => value,
                Ok(None) => JsValue::UNDEFINED,
                Err(()) => JsValue::NULL,
            },
            Err(_) => JsValue::UNDEFINED,
        }
    }

    /// The fast form of `start` for plain options: the shim passes `path`
    /// and `method` as strings, `header` as it is, `data` as its JSON text (already
    /// stringified), and the whole options as `rest` only when they hold
    /// other keys (read from there). Everything is checked as `start` checks it.
    #[wasm_bindgen(js_name = startFast)]
    pub fn start_fast(
        &self,
        path: String,
        method: Option<String>,
        data_json: Option<String>,
        header: JsValue,
        rest: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let raw = read_request_parts(path, method, data_json, header, rest)
            .map_err(|e| self.error(&e))?;
        self.started(raw, now_ms)
    }

    /// Reports an HTTP answer to an attempt: its status, `Retry-After` and
    /// `X-WX-OPENID` headers, and the response object callers will receive
    /// (kept as is by the cache: no copy).
    #[wasm_bindgen(js_name = onResponse)]
    pub fn on_response(
        &self,
        id: u32,
        status: f64,
        retry_after: JsValue,
        user: JsValue,
        response: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let commands = match valid_status(status) {
            Some(status) => {
                let answer = Answer {
                    status,
                    retry_after: retry_after.as_string(),
                    value: response,
                    user: user.as_string(),
                };
                self.borrow()?.on_response(id, answer, now_ms)
            }
            None => self.borrow()?.on_failure(
                id,
                Failure {
                    err_msg: format!("malformed response: status {}", number(status)),
                    ..Failure::default()
                },
                now_ms,
            ),
        };
        self.commands(commands.map_err(|e| self.error(&e))?)
    }

    /// Reports a failed attempt with the platform's errMsg, errCode and errno.
    #[wasm_bindgen(js_name = onFailure)]
    pub fn on_failure(
        &self,
        id: u32,
        err_msg: JsValue,
        err_code: JsValue,
        errno: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let failure = failure(err_msg, err_code, errno);
        let commands = self
            .borrow()?
            .on_failure(id, failure, now_ms)
            .map_err(|e| self.error(&e))?;
        self.commands(commands)
    }

    /// A `wait` command's delay is over.
    #[wasm_bindgen(js_name = onTimer)]
    pub fn on_timer(&self, id: u32, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self
            .borrow()?
            .on_timer(id, now_ms)
            .map_err(|e| self.error(&e))?;
        self.commands(commands)
    }

    /// The `init` command finished: `ok`, or failed with errMsg and errCode.
    #[wasm_bindgen(js_name = onInit)]
    pub fn on_init(
        &self,
        ok: bool,
        err_msg: JsValue,
        err_code: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let result = if ok {
            Ok(())
        } else {
            Err(failure(err_msg, err_code, JsValue::UNDEFINED))
        };
        let commands = self.borrow()?.on_init(result, now_ms);
        self.commands(commands)
    }

    /// A `waitInit` command's delay is over.
    #[wasm_bindgen(js_name = onInitTimer)]
    pub fn on_init_timer(&self) -> Result<Array, JsValue> {
        let commands = self.borrow()?.on_init_timer();
        self.commands(commands)
    }

    /// The caller cancelled request `id`.
    pub fn cancel(&self, id: u32, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.borrow()?.cancel(id, now_ms);
        self.commands(commands)
    }

    /// The device's connectivity changed.
    #[wasm_bindgen(js_name = setOnline)]
    pub fn set_online(&self, online: bool) -> Result<(), JsValue> {
        self.borrow()?.set_online(online);
        Ok(())
    }

    /// Scopes the cache to a user id (a string), or to nobody (null/undefined).
    #[wasm_bindgen(js_name = setUser)]
    pub fn set_user(&self, user: JsValue) -> Result<(), JsValue> {
        let user = if user.is_undefined() || user.is_null() {
            None
        } else {
            match user.as_string() {
                Some(id) if !id.is_empty() => Some(id),
                _ => {
                    return Err(self.error(&RequestError::invalid(
                        "user",
                        format!(
                            "must be a non-empty string or null, got {}",
                            type_name(&user)
                        ),
                    )))
                }
            }
        };
        self.borrow()?.set_user(user);
        Ok(())
    }

    /// Drops cached entries: a path prefix ('/api/order/') or `{ tag }`.
    /// Returns how many.
    pub fn invalidate(&self, target: JsValue) -> Result<u32, JsValue> {
        let what = if let Some(prefix) = target.as_string().filter(|p| p.starts_with('/')) {
            Invalidate::Prefix(prefix)
        } else {
            let tag = (target.is_object() && !Array::is_array(&target))
                .then(|| {
                    Reflect::get(&target, &"tag".into())
                        .ok()
                        .and_then(|t| t.as_string())
                })
                .flatten()
                .filter(|t| !t.is_empty());
            match tag {
                Some(tag) => Invalidate::Tag(tag),
                None => {
                    return Err(self.error(&RequestError::invalid(
                        "invalidate",
                        "takes a path prefix starting with '/' or { tag: 'name' }",
                    )))
                }
            }
        };
        Ok(self.borrow()?.invalidate(&what) as u32)
    }

    /// The storage key to restore from and save to, or undefined without `cache.persist`.
    #[wasm_bindgen(js_name = persistKey)]
    pub fn persist_key(&self) -> Result<Option<String>, JsValue> {
        Ok(self.borrow()?.persists().then(|| PERSIST_KEY.to_owned()))
    }

    /// Whether cache changes wait to be saved.
    #[wasm_bindgen(js_name = persistDue)]
    pub fn persist_due(&self) -> Result<bool, JsValue> {
        Ok(self.borrow()?.persist_due())
    }

    /// The value to save: `{ format, version, savedAt, user, entries }`.
    pub fn snapshot(&self, now_ms: f64) -> Result<JsValue, JsValue> {
        let mut inner = self.borrow()?;
        let (user, entries) = inner.snapshot(now_ms);
        let list = Array::new();
        for (key, e) in entries {
            list.push(&to_js(&PersistedJs {
                key,
                path: &e.path,
                scope: &e.scope,
                tags: &e.tags,
                fresh_until: e.fresh_until,
                stale_until: e.stale_until,
                size: e.size as f64,
                value: e.value.clone(),
            })?);
        }
        let snapshot = to_js(&SnapshotJs {
            format: PERSIST_FORMAT,
            version: PERSIST_VERSION,
            saved_at: now_ms,
            user,
        })?;
        let _ = Reflect::set(&snapshot, &"entries".into(), &list);
        Ok(snapshot)
    }

    /// Restores what `snapshot` saved. Anything else (another format or
    /// version, a damaged entry) is discarded whole: `{ restored, discarded }`
    /// says what happened, for the debug log.
    pub fn restore(&self, stored: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let outcome = match read_snapshot(&stored) {
            Ok((user, entries)) => {
                let restored = self.borrow()?.restore(user, entries, now_ms);
                RestoreJs {
                    restored: restored as u32,
                    discarded: None,
                }
            }
            Err(reason) => RestoreJs {
                restored: 0,
                discarded: Some(reason),
            },
        };
        to_js(&outcome)
    }

    /// Opens (or shares) a managed socket: `{ id, shared, route, reason,
    /// service, path, url, commands }`, or throws an error object.
    #[wasm_bindgen(js_name = socketOpen)]
    pub fn socket_open(&self, options: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let raw = read_socket_options(&options).map_err(|e| self.error(&e))?;
        let inner = self.borrow()?;
        let mut hub = self.hub()?;
        let (id, shared, commands) = hub
            .open(inner.config(), inner.platform(), raw, now_ms)
            .map_err(|e| self.error(&e))?;
        let target = hub.target(id).cloned();
        drop(hub);
        drop(inner);
        let out = to_js(&SocketOpenedJs {
            id,
            shared,
            route: target.as_ref().map_or("", |t| t.route.as_str()),
            reason: target.as_ref().map_or("", |t| t.reason),
            service: target.as_ref().map_or("", |t| t.service.as_str()),
            path: target.as_ref().map_or("", |t| t.path.as_str()),
            url: target.as_ref().and_then(|t| t.url.as_deref()),
        })?;
        let commands: JsValue = socket_commands(id, commands)?.into();
        let _ = Reflect::set(&out, &"commands".into(), &commands);
        Ok(out)
    }

    /// The SocketTask of `epoch` opened.
    #[wasm_bindgen(js_name = socketOpened)]
    pub fn socket_opened(&self, id: u32, epoch: u32, now_ms: f64) -> Result<Array, JsValue> {
        self.with_socket(id, |s| s.on_open(epoch, now_ms))
    }

    /// A message arrived on the SocketTask of `epoch`.
    #[wasm_bindgen(js_name = socketMessage)]
    pub fn socket_message(
        &self,
        id: u32,
        epoch: u32,
        text: String,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        self.with_socket(id, |s| s.on_message(epoch, &text, now_ms))
    }

    /// The SocketTask of `epoch` closed.
    #[wasm_bindgen(js_name = socketClosed)]
    pub fn socket_closed(
        &self,
        id: u32,
        epoch: u32,
        code: f64,
        reason: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let code = if (0.0..=65535.0).contains(&code) {
            code as u16
        } else {
            1006
        };
        let reason = reason.as_string().unwrap_or_default();
        self.with_socket(id, |s| s.on_close(epoch, code, &reason, now_ms))
    }

    /// The SocketTask of `epoch` failed.
    #[wasm_bindgen(js_name = socketError)]
    pub fn socket_error(
        &self,
        id: u32,
        epoch: u32,
        detail: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let detail = detail.as_string().unwrap_or_else(|| "socket error".into());
        self.with_socket(id, |s| s.on_error(epoch, &detail, now_ms))
    }

    /// A `timer` command's instant came.
    #[wasm_bindgen(js_name = socketTimer)]
    pub fn socket_timer(&self, id: u32, now_ms: f64) -> Result<Array, JsValue> {
        self.with_socket(id, |s| s.on_timer(now_ms))
    }

    /// The caller sends `data`: strings as they are and anything else as
    /// JSON, or always JSON in acked mode. Throws when refused.
    #[wasm_bindgen(js_name = socketSend)]
    pub fn socket_send(&self, id: u32, data: JsValue, acked: bool) -> Result<Array, JsValue> {
        let payload = match (data.as_string(), acked) {
            (Some(text), false) => text,
            _ => JSON::stringify(&data)
                .ok()
                .map(JsValue::from)
                .and_then(|t| t.as_string())
                .ok_or_else(|| {
                    self.error(&RequestError::invalid(
                        "send",
                        format!("needs a string or JSON data, got {}", type_name(&data)),
                    ))
                })?,
        };
        let mut hub = self.hub()?;
        let socket = hub.socket(id).ok_or_else(|| {
            self.error(&RequestError::invalid(
                "send",
                "refused: the socket is closed",
            ))
        })?;
        let commands = socket.send(&payload).map_err(|e| self.error(&e))?;
        drop(hub);
        socket_commands(id, commands)
    }

    /// A caller lets go of socket `id` (`close()`); the last one closes it.
    #[wasm_bindgen(js_name = socketRelease)]
    pub fn socket_release(&self, id: u32) -> Result<Array, JsValue> {
        let commands = self.hub()?.release(id);
        socket_commands(id, commands)
    }

    /// Socket `id`'s state: idle, connecting, open, reconnecting, paused, closed, failed.
    #[wasm_bindgen(js_name = socketState)]
    pub fn socket_state(&self, id: u32) -> Result<String, JsValue> {
        Ok(self
            .hub()?
            .socket(id)
            .map_or("closed", |s| s.state().as_str())
            .to_owned())
    }

    /// The network changed: commands for every socket.
    #[wasm_bindgen(js_name = socketsOnline)]
    pub fn sockets_online(&self, online: bool, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.hub()?.set_online(online, now_ms);
        hub_commands(commands)
    }

    /// The app went to the background or came back: commands for every socket.
    #[wasm_bindgen(js_name = socketsHidden)]
    pub fn sockets_hidden(&self, hidden: bool, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.hub()?.set_hidden(hidden, now_ms);
        hub_commands(commands)
    }

    /// `{ entries, bytes, hits, misses, evictions, staleServes }`.
    #[wasm_bindgen(js_name = cacheStats)]
    pub fn cache_stats(&self) -> Result<JsValue, JsValue> {
        let s = self.borrow()?.cache_stats();
        to_js(&CacheStatsJs {
            entries: s.entries as u32,
            bytes: s.bytes as f64,
            hits: s.hits as f64,
            misses: s.misses as f64,
            evictions: s.evictions as f64,
            stale_serves: s.stale_serves as f64,
        })
    }

    /// What the client did per route and path class: `{ total, rows, folded }`.
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        let engine = self.borrow()?;
        let (rows, total) = engine.stats().rows();
        let out = Object::new();
        put(&out, "total", &stats_row(&total, false));
        let rows: Array = rows.iter().map(|row| stats_row(row, true)).collect();
        put(&out, "rows", &rows);
        put(
            &out,
            "folded",
            &JsValue::from(engine.stats().folded() as f64),
        );
        Ok(out.into())
    }

    /// Clears the statistics (requests in flight stay counted).
    #[wasm_bindgen(js_name = resetStats)]
    pub fn reset_stats(&self) -> Result<(), JsValue> {
        self.borrow()?.reset_stats();
        Ok(())
    }

    /// Requests started and not yet settled.
    #[wasm_bindgen(js_name = inFlight)]
    pub fn in_flight(&self) -> Result<u32, JsValue> {
        Ok(self.borrow()?.in_flight() as u32)
    }
}

impl Engine {
    fn borrow(&self) -> Result<std::cell::RefMut<'_, engine::Engine<JsValue>>, JsValue> {
        self.inner.try_borrow_mut().map_err(|_| {
            self.error(&RequestError::invalid(
                "client",
                "was called again from inside one of its own calls (a getter or toJSON in the options?)",
            ))
        })
    }

    fn hub(&self) -> Result<std::cell::RefMut<'_, SocketHub>, JsValue> {
        self.sockets.try_borrow_mut().map_err(|_| {
            self.error(&RequestError::invalid(
                "socket",
                "was called again from inside one of its own calls",
            ))
        })
    }

    fn with_socket(
        &self,
        id: u32,
        f: impl FnOnce(&mut crate::core::socket::machine::Socket) -> Vec<SocketCommand>,
    ) -> Result<Array, JsValue> {
        let commands = match self.hub()?.socket(id) {
            Some(socket) => f(socket),
            None => Vec::new(),
        };
        socket_commands(id, commands)
    }

    /// Starts a request: `[id, ...commands]`.
    fn started(&self, raw: RawRequest, now_ms: f64) -> Result<Array, JsValue> {
        let (id, commands) = self
            .borrow()?
            .start(raw, now_ms)
            .map_err(|e| self.error(&e))?;
        let out = self.commands(commands)?;
        out.unshift(&JsValue::from(id));
        Ok(out)
    }

    fn error(&self, error: &RequestError) -> JsValue {
        error_object(error, self.locale, None, "")
    }

    fn commands(&self, commands: Vec<Command<JsValue>>) -> Result<Array, JsValue> {
        let out = Array::new_with_length(commands.len() as u32);
        for (i, command) in commands.into_iter().enumerate() {
            out.set(i as u32, self.command(command)?);
        }
        Ok(out)
    }

    fn command(&self, command: Command<JsValue>) -> Result<JsValue, JsValue> {
        if let Some(shapes) = &self.shapes {
            match command {
                Command::Resolve(settled, value) => {
                    return Ok(shapes.resolve(
                        settled.id,
                        &static_js(settled.route.as_str()),
                        &static_js(settled.reason),
                        settled.attempts,
                        settled.elapsed_ms,
                        settled.from_cache,
                        settled.stale,
                        &value,
                    ))
                }
                Command::End { id } => return Ok(shapes.end(id)),
                other => return self.command_object(other),
            }
        }
        self.command_object(command)
    }

    fn command_object(&self, command: Command<JsValue>) -> Result<JsValue, JsValue> {
        match command {
            Command::Send(send) => to_js(&CommandJs::Send {
                id: send.id,
                route: send.route.route.as_str(),
                reason: send.route.reason,
                method: send.method.as_str(),
                attempt: send.attempt,
                timeout_ms: send.timeout_ms,
                clamped_from: send.clamped_from,
                url: send.url.as_deref(),
                mock: send.route.mock.as_ref().map(|m| MockJs {
                    index: m.index as u32,
                    params: m
                        .params
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect(),
                }),
            }),
            Command::Wait { id, delay_ms } => to_js(&CommandJs::Wait { id, delay_ms }),
            Command::Abort { id } => to_js(&CommandJs::Abort { id }),
            Command::End { id } => {
                let out = Object::new();
                put(&out, "type", &static_js("end"));
                put(&out, "id", &JsValue::from(id));
                Ok(out.into())
            }
            // Built by hand from cached strings: this is the cache hit's path.
            Command::Resolve(settled, value) => {
                let out = Object::new();
                put(&out, "type", &static_js("resolve"));
                put(&out, "id", &JsValue::from(settled.id));
                put(&out, "route", &static_js(settled.route.as_str()));
                put(&out, "reason", &static_js(settled.reason));
                put(&out, "attempts", &JsValue::from(settled.attempts));
                put(&out, "elapsedMs", &JsValue::from(settled.elapsed_ms));
                put(&out, "fromCache", &JsValue::from_bool(settled.from_cache));
                put(&out, "stale", &JsValue::from_bool(settled.stale));
                put(&out, "value", &value);
                Ok(out.into())
            }
            Command::Reject(settled, error) => {
                let error = error_fields(&error, self.locale, Some(&settled), &settled.note);
                to_js(&CommandJs::Reject {
                    id: settled.id,
                    error,
                })
            }
            Command::InitCloud { attempt } => to_js(&CommandJs::Init { attempt }),
            Command::WaitInit { delay_ms } => to_js(&CommandJs::WaitInit { delay_ms }),
            Command::Persist { delay_ms } => to_js(&CommandJs::Persist { delay_ms }),
        }
    }
}

/// Commands as the shim receives them: `{ type, ... }`.
#[derive(Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
enum CommandJs<'a> {
    Send {
        id: u32,
        route: &'static str,
        reason: &'static str,
        method: &'static str,
        attempt: u32,
        timeout_ms: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        clamped_from: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mock: Option<MockJs<'a>>,
    },
    Wait {
        id: u32,
        delay_ms: u32,
    },
    Abort {
        id: u32,
    },
    Reject {
        id: u32,
        error: ErrorJs<'a>,
    },
    Init {
        attempt: u32,
    },
    WaitInit {
        delay_ms: u32,
    },
    Persist {
        delay_ms: u32,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotJs<'a> {
    format: &'static str,
    version: u32,
    saved_at: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PersistedJs<'a> {
    key: &'a str,
    path: &'a str,
    scope: &'a str,
    tags: &'a [String],
    fresh_until: f64,
    stale_until: f64,
    size: f64,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    value: JsValue,
}

#[derive(Serialize)]
struct RestoreJs {
    restored: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    discarded: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SocketOpenedJs<'a> {
    id: u32,
    shared: bool,
    route: &'a str,
    reason: &'a str,
    service: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

/// Socket commands as the shim receives them: `{ type, socket, ... }`.
#[derive(Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
enum SocketCommandJs<'a> {
    Connect {
        socket: u32,
        epoch: u32,
    },
    CloseTask {
        socket: u32,
        epoch: u32,
        code: u16,
        reason: &'a str,
    },
    Transmit {
        socket: u32,
        epoch: u32,
        text: &'a str,
    },
    Deliver {
        socket: u32,
        text: &'a str,
    },
    Event {
        socket: u32,
        event: SocketEventJs<'a>,
    },
    Timer {
        socket: u32,
        at_ms: Option<f64>,
    },
}

#[derive(Serialize)]
#[serde(
    tag = "name",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
enum SocketEventJs<'a> {
    Open,
    Close {
        code: u16,
        reason: &'a str,
        reconnecting: bool,
    },
    Error {
        detail: &'a str,
    },
    Reconnecting {
        attempt: u32,
        delay_ms: u32,
    },
    State {
        state: &'static str,
    },
}

fn socket_command_js(id: u32, command: &SocketCommand) -> Result<JsValue, JsValue> {
    to_js(&match command {
        SocketCommand::Connect { epoch } => SocketCommandJs::Connect {
            socket: id,
            epoch: *epoch,
        },
        SocketCommand::CloseTask {
            epoch,
            code,
            reason,
        } => SocketCommandJs::CloseTask {
            socket: id,
            epoch: *epoch,
            code: *code,
            reason,
        },
        SocketCommand::Transmit { epoch, text } => SocketCommandJs::Transmit {
            socket: id,
            epoch: *epoch,
            text,
        },
        SocketCommand::Deliver { text } => SocketCommandJs::Deliver { socket: id, text },
        SocketCommand::Emit(event) => SocketCommandJs::Event {
            socket: id,
            event: match event {
                SocketEvent::Open => SocketEventJs::Open,
                SocketEvent::Close {
                    code,
                    reason,
                    reconnecting,
                } => SocketEventJs::Close {
                    code: *code,
                    reason,
                    reconnecting: *reconnecting,
                },
                SocketEvent::Error { detail } => SocketEventJs::Error { detail },
                SocketEvent::Reconnecting { attempt, delay_ms } => SocketEventJs::Reconnecting {
                    attempt: *attempt,
                    delay_ms: *delay_ms,
                },
                SocketEvent::State(state) => SocketEventJs::State {
                    state: state.as_str(),
                },
            },
        },
        SocketCommand::Timer { at_ms } => SocketCommandJs::Timer {
            socket: id,
            at_ms: at_ms.is_finite().then_some(*at_ms),
        },
    })
}

fn socket_commands(id: u32, commands: Vec<SocketCommand>) -> Result<Array, JsValue> {
    let out = Array::new();
    for command in &commands {
        out.push(&socket_command_js(id, command)?);
    }
    Ok(out)
}

fn hub_commands(commands: Vec<(u32, SocketCommand)>) -> Result<Array, JsValue> {
    let out = Array::new();
    for (id, command) in &commands {
        out.push(&socket_command_js(*id, command)?);
    }
    Ok(out)
}

/// `client.socket(options)`.
fn read_socket_options(options: &JsValue) -> Result<RawSocketOptions, RequestError> {
    if options.is_undefined() || options.is_null() {
        return Ok(RawSocketOptions::default());
    }
    let o = plain_object("options", options, SOCKET_OPTIONS)?;
    Ok(RawSocketOptions {
        service: opt_string(o, "service")?,
        path: opt_string(o, "path")?,
        route: opt_string(o, "route")?,
        config: RawSocketConfig {
            min_delay_ms: opt_number(o, "minDelayMs")?,
            max_delay_ms: opt_number(o, "maxDelayMs")?,
            factor: opt_number(o, "factor")?,
            max_attempts: opt_number(o, "maxAttempts")?,
            connect_timeout_ms: opt_number(o, "connectTimeoutMs")?,
            min_uptime_ms: opt_number(o, "minUptimeMs")?,
            heartbeat_interval_ms: opt_number(o, "heartbeatIntervalMs")?,
            heartbeat_timeout_ms: opt_number(o, "heartbeatTimeoutMs")?,
            outbox_max_messages: opt_number(o, "outboxMaxMessages")?,
            outbox_max_bytes: opt_number(o, "outboxMaxBytes")?,
            acked: opt_bool(o, "acked")?,
        },
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CacheStatsJs {
    entries: u32,
    bytes: f64,
    hits: f64,
    misses: f64,
    evictions: f64,
    stale_serves: f64,
}

/// A statistics row as a JS object, built by hand (serde derives for these
/// shapes cost the wasm about 14 KB); the total has no route or pattern.
fn stats_row(row: &stats::Row, named: bool) -> Object {
    let out = Object::new();
    let num = |key: &'static str, n: f64| put(&out, key, &JsValue::from(n));
    if named {
        put(&out, "route", &static_js(row.route.as_str()));
        put(&out, "pattern", &JsValue::from_str(&row.pattern));
    }
    num("requests", row.requests as f64);
    num("failed", row.failed() as f64);
    let errors = Object::new();
    for (kind, n) in &row.errors {
        put(&errors, kind.as_str(), &JsValue::from(*n as f64));
    }
    put(&out, "errors", &errors);
    num("retries", row.retries as f64);
    num("cacheHits", row.cache_hits as f64);
    num("hitRatio", row.hit_ratio());
    num("inFlight", f64::from(row.in_flight));
    let h = &row.latency;
    let latency = Object::new();
    let lat = |key: &'static str, n: f64| put(&latency, key, &JsValue::from(n));
    lat("count", h.count() as f64);
    lat("meanMs", h.mean_ms());
    lat("p50Ms", h.quantile_ms(0.5));
    lat("p95Ms", h.quantile_ms(0.95));
    lat("p99Ms", h.quantile_ms(0.99));
    lat("maxMs", h.max_ms());
    let buckets: Array = h
        .buckets()
        .into_iter()
        .map(|(upper, n)| Array::of2(&JsValue::from(upper), &JsValue::from(n)))
        .collect();
    put(&latency, "buckets", &buckets);
    put(&out, "latency", &latency);
    out
}

#[derive(Serialize)]
struct MockJs<'a> {
    index: u32,
    params: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CloudConfigJs<'a> {
    env: Option<&'a str>,
    service: Option<&'a str>,
    resource_appid: Option<&'a str>,
    resource_env: Option<&'a str>,
}

/// The fields of a JS `RequestError`, as a plain object the shim wraps.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorJs<'a> {
    kind: &'static str,
    message: std::borrow::Cow<'a, str>,
    detail: String,
    code: Option<i32>,
    status_code: Option<u16>,
    retryable: bool,
    attempts: u32,
    route: Option<&'static str>,
}

fn error_fields<'a>(
    error: &RequestError,
    locale: Locale,
    settled: Option<&Settled>,
    note: &str,
) -> ErrorJs<'a> {
    let detail = if note.is_empty() {
        error.to_string()
    } else {
        format!("{error}; {note}")
    };
    ErrorJs {
        kind: error.kind().as_str(),
        message: error.user_message(locale),
        detail,
        code: error.code(),
        status_code: error.status(),
        retryable: error.is_retryable(),
        attempts: settled.map_or(0, |s| s.attempts),
        route: settled.map(|s| s.route.as_str()),
    }
}

fn error_object(
    error: &RequestError,
    locale: Locale,
    settled: Option<&Settled>,
    note: &str,
) -> JsValue {
    to_js(&error_fields(error, locale, settled, note)).unwrap_or_else(|e| e)
}

fn failure(err_msg: JsValue, err_code: JsValue, errno: JsValue) -> Failure {
    Failure {
        err_msg: err_msg.as_string().unwrap_or_default(),
        err_code: as_i32(&err_code),
        errno: as_i32(&errno),
    }
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsValue::from_str(&e.to_string()))
}

fn valid_status(status: f64) -> Option<u16> {
    (status.fract() == 0.0 && (100.0..=599.0).contains(&status)).then_some(status as u16)
}

fn as_i32(value: &JsValue) -> Option<i32> {
    if let Some(text) = value.as_string() {
        // Integer parsing only: f64 parsing would cost the wasm several KB.
        return text.trim().parse().ok();
    }
    let n = value.as_f64()?;
    (n.fract() == 0.0 && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX)).then_some(n as i32)
}

// ---- reading JS options -------------------------------------------------

fn read_config(options: &JsValue) -> Result<ClientConfig, RequestError> {
    let options = plain_object("options", options, CLIENT_OPTIONS)?;
    let (stats_patterns, stats_max_patterns) = read_stats_config(&get(options, "stats")?)?;
    let (mock_routes, mock_enabled, mock_allow_in_release, mock_passthrough) =
        read_mock(&get(options, "mock")?)?;
    RawConfig {
        env: opt_string(options, "env")?,
        service: opt_string(options, "service")?,
        resource_appid: opt_string(options, "resourceAppid")?,
        resource_env: opt_string(options, "resourceEnv")?,
        base_url: opt_string(options, "baseUrl")?,
        timeout_ms: opt_number(options, "timeoutMs")?,
        locale: opt_string(options, "locale")?,
        mode: opt_string(options, "mode")?,
        retry: read_retry(&get(options, "retry")?)?,
        mock_routes,
        mock_enabled,
        mock_allow_in_release,
        mock_passthrough,
        seed: opt_number(options, "seed")?,
        cache: read_cache_config(&get(options, "cache")?)?,
        stats_patterns,
        stats_max_patterns,
    }
    .validate()
}

fn read_request(options: &JsValue) -> Result<RawRequest, RequestError> {
    if !options.is_object() || Array::is_array(options) {
        return Err(RequestError::invalid(
            "options",
            format!("must be an object, got {}", type_name(options)),
        ));
    }
    // Every known option is read once; unknown ones are looked for only when
    // the object has more own keys than known options were found (the hot
    // path copies no key names into wasm).
    let mut present = 0u32;
    let mut read = |key: &'static str| -> Result<JsValue, RequestError> {
        let value = get(options, key)?;
        present += u32::from(!value.is_undefined());
        Ok(value)
    };
    let (path, method, data, header) = (
        read("path")?,
        read("method")?,
        read("data")?,
        read("header")?,
    );
    let (timeout, route, retry, idempotent) = (
        read("timeoutMs")?,
        read("route")?,
        read("retry")?,
        read("idempotent")?,
    );
    let (signal, cache) = (read("signal")?, read("cache")?);
    let own = Reflect::own_keys(options)
        .map_err(|_| RequestError::invalid("options", "could not be read (its keys threw)"))?;
    if own.length() != present {
        plain_object("options", options, REQUEST_OPTIONS)?;
    }
    let path = as_opt_string("path", &path)?
        .ok_or_else(|| RequestError::invalid("path", "is required, e.g. '/api/home/init'"))?;
    let aborted = read_signal(&signal)?;
    let (body_bytes, data_json) = read_body(&data)?;
    Ok(RawRequest {
        path,
        method: as_opt_string("method", &method)?,
        headers: read_headers(&header)?,
        body_bytes,
        data_json,
        cache: read_request_cache(&cache)?,
        timeout_ms: as_opt_number("timeoutMs", &timeout)?,
        route: as_opt_string("route", &route)?,
        retry: read_retry(&retry)?,
        idempotent: as_opt_bool("idempotent", &idempotent)?,
        aborted,
    })
}

/// What `startFast` was given (the shim passes it only a string `path` and a
/// string or no `method`), read as `read_request` reads whole options.
fn read_request_parts(
    path: String,
    method: Option<String>,
    data_json: Option<String>,
    header: JsValue,
    rest: JsValue,
) -> Result<RawRequest, RequestError> {
    let headers = read_headers(&header)?;
    let body_bytes = data_json.as_ref().map_or(0, String::len);
    let mut raw = RawRequest {
        path,
        method,
        headers,
        body_bytes,
        data_json,
        ..RawRequest::default()
    };
    if !rest.is_undefined() {
        let rest = plain_object("options", &rest, REQUEST_OPTIONS)?;
        raw.aborted = read_signal(&get(rest, "signal")?)?;
        raw.cache = read_request_cache(&get(rest, "cache")?)?;
        raw.timeout_ms = opt_number(rest, "timeoutMs")?;
        raw.route = opt_string(rest, "route")?;
        raw.retry = read_retry(&get(rest, "retry")?)?;
        raw.idempotent = opt_bool(rest, "idempotent")?;
    }
    Ok(raw)
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

/// `mock: { routes: [{ method, path, response | handler }], enabled }`.
fn read_mock(
    value: &JsValue,
) -> Result<(Vec<RawMockRoute>, Option<MockEnabled>, bool, bool), RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok((Vec::new(), None, false, false));
    }
    let mock = plain_object("mock", value, MOCK_OPTIONS)?;
    let allow_in_release = opt_bool(mock, "allowInRelease")?.unwrap_or(false);
    let passthrough = opt_bool(mock, "passthrough")?.unwrap_or(false);
    let enabled = get(mock, "enabled")?;
    let enabled = if enabled.is_undefined() {
        None
    } else if let Some(on) = enabled.as_bool() {
        Some(if on {
            MockEnabled::On
        } else {
            MockEnabled::Off
        })
    } else if enabled.as_string().as_deref() == Some("auto") {
        Some(MockEnabled::Auto)
    } else {
        return Err(RequestError::invalid(
            "mock.enabled",
            format!("must be true, false or 'auto', got {}", type_name(&enabled)),
        ));
    };
    let routes = get(mock, "routes")?;
    if routes.is_undefined() {
        return Ok((Vec::new(), enabled, allow_in_release, passthrough));
    }
    if !Array::is_array(&routes) {
        return Err(RequestError::invalid(
            "mock.routes",
            format!("must be an array, got {}", type_name(&routes)),
        ));
    }
    let routes = Array::from(&routes);
    let mut out = Vec::with_capacity(routes.length() as usize);
    for (i, route) in routes.iter().enumerate() {
        let field = format!("mock.routes[{i}]");
        let route = plain_object_named(&field, &route, MOCK_ROUTE_OPTIONS)?;
        let path = get(route, "path")?.as_string().ok_or_else(|| {
            RequestError::invalid(
                format!("{field}.path"),
                "is required: a pattern like '/api/order/:id'",
            )
        })?;
        let handler = get(route, "handler")?;
        let response = get(route, "response")?;
        let error = get(route, "error")?;
        let has_handler = !handler.is_undefined();
        let has_response = !response.is_undefined();
        let has_error = !error.is_undefined();
        if has_error
            && !error
                .as_string()
                .is_some_and(|e| MOCK_ERRORS.contains(&e.as_str()))
        {
            return Err(RequestError::invalid(
                format!("{field}.error"),
                format!("must be one of {}", MOCK_ERRORS.join(", ")),
            ));
        }
        let delay = get(route, "delayMs")?;
        if !delay.is_undefined()
            && !delay
                .as_f64()
                .is_some_and(|d| (0.0..=60_000.0).contains(&d))
        {
            return Err(RequestError::invalid(
                format!("{field}.delayMs"),
                "must be a number of milliseconds from 0 to 60000",
            ));
        }
        if has_handler && !handler.is_function() {
            return Err(RequestError::invalid(
                format!("{field}.handler"),
                "must be a function (req, params) => response",
            ));
        }
        if has_response && (!response.is_object() || Array::is_array(&response)) {
            return Err(RequestError::invalid(
                format!("{field}.response"),
                format!(
                    "must be an object {{ statusCode, data, header }}, got {}",
                    type_name(&response)
                ),
            ));
        }
        if u8::from(has_handler) + u8::from(has_response) + u8::from(has_error) != 1 {
            return Err(RequestError::invalid(
                field,
                "needs exactly one of `response`, `handler` or `error`",
            ));
        }
        let method = get(route, "method")?;
        let method = if method.is_undefined() {
            None
        } else {
            Some(method.as_string().ok_or_else(|| {
                RequestError::invalid(
                    format!("{field}.method"),
                    format!("must be a string, got {}", type_name(&method)),
                )
            })?)
        };
        out.push(RawMockRoute { method, path });
    }
    Ok((out, enabled, allow_in_release, passthrough))
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
    if !value.is_object() || Array::is_array(value) {
        return Err(RequestError::invalid(
            field.to_owned(),
            format!("must be an object, got {}", type_name(value)),
        ));
    }
    let keys = Reflect::own_keys(value).map_err(|_| {
        RequestError::invalid(field.to_owned(), "could not be read (its keys threw)")
    })?;
    for key in keys.iter() {
        if let Some(key) = key.as_string() {
            if !known.contains(&key.as_str()) {
                return Err(RequestError::invalid(
                    field.to_owned(),
                    format!(
                        "has an unknown option {}; known: {}",
                        quoted(&key, 64),
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(value)
}

thread_local! {
    /// JS strings for static Rust strings (option names, command fields and
    /// values), made once: a string sent to JS is otherwise decoded anew each time.
    static STATIC_JS: RefCell<FxHashMap<(usize, usize), Rc<JsValue>>> = RefCell::new(FxHashMap::default());
}

/// The JS string for `s`, made on first use. No borrow is held while the
/// caller uses it (a JS getter may call back into the engine).
fn static_js(s: &'static str) -> Rc<JsValue> {
    let key = (s.as_ptr() as usize, s.len());
    if let Some(found) = STATIC_JS.with(|cache| cache.borrow().get(&key).cloned()) {
        return found;
    }
    let value = Rc::new(JsValue::from_str(s));
    STATIC_JS.with(|cache| cache.borrow_mut().insert(key, value.clone()));
    value
}

#[wasm_bindgen]
extern "C" {
    /// `Reflect.set` without the try/catch of `js_sys::Reflect::set`: only
    /// for plain objects this module made, which have no setters to throw.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn set_on_own_object(target: &Object, key: &JsValue, value: &JsValue) -> bool;

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
}

/// Sets `target[key] = value` on an object this module just made.
fn put(target: &Object, key: &'static str, value: &JsValue) {
    set_on_own_object(target, &static_js(key), value);
}

fn get(object: &JsValue, key: &'static str) -> Result<JsValue, RequestError> {
    Reflect::get(object, &static_js(key))
        .map_err(|_| RequestError::invalid(key, "could not be read (its getter threw)"))
}

fn opt_string(object: &JsValue, key: &'static str) -> Result<Option<String>, RequestError> {
    as_opt_string(key, &get(object, key)?)
}

fn as_opt_string(key: &'static str, value: &JsValue) -> Result<Option<String>, RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| {
        RequestError::invalid(key, format!("must be a string, got {}", type_name(value)))
    })
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

fn read_headers(header: &JsValue) -> Result<Vec<(String, String)>, RequestError> {
    if header.is_undefined() || header.is_null() {
        return Ok(Vec::new());
    }
    if !header.is_object() || Array::is_array(header) {
        return Err(RequestError::invalid(
            "header",
            format!("must be an object of strings, got {}", type_name(header)),
        ));
    }
    let keys = Reflect::own_keys(header)
        .map_err(|_| RequestError::invalid("header", "could not be read (its keys threw)"))?;
    let mut headers = Vec::with_capacity(keys.length() as usize);
    for key in keys.iter() {
        let Some(name) = key.as_string() else {
            continue;
        };
        let value = Reflect::get(header, &key)
            .map_err(|_| RequestError::invalid("header", "could not be read (a getter threw)"))?;
        let value = if let Some(s) = value.as_string() {
            s
        } else if let Some(n) = value.as_f64() {
            number(n)
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

/// The body's size in bytes on the wire, and its JSON text for the cache key
/// (None for binary data, which is never cached or shared).
fn read_body(data: &JsValue) -> Result<(usize, Option<String>), RequestError> {
    if data.is_undefined() || data.is_null() {
        return Ok((0, None));
    }
    if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
        return Ok((
            buffer.byte_length() as usize,
            Some(String::from("\u{0}binary")),
        ));
    }
    let json = JSON::stringify(data).map_err(|e| {
        let reason = Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "it threw".into());
        RequestError::invalid("data", format!("cannot be sent as JSON: {reason}"))
    })?;
    // `JSON.stringify` gives undefined for functions and symbols.
    let json: JsValue = json.into();
    match json.as_string() {
        Some(text) => {
            // A string is sent as is; anything else as its JSON text.
            let bytes = data.as_string().map_or(text.len(), |s| s.len());
            Ok((bytes, Some(text)))
        }
        None => Err(RequestError::invalid(
            "data",
            format!("cannot be sent as JSON: got {}", type_name(data)),
        )),
    }
}

/// What the cache's byte budget counts for a response (see `estimate_size`).
impl Weigh for JsValue {
    fn weigh(&self) -> usize {
        estimate_size(self)
    }
}

/// An entry's estimated size: its response as JSON text, in UTF-16 code
/// units (what JS strings count; bytes for ASCII), plus a fixed overhead.
/// Values JSON cannot express count as the overhead alone.
fn estimate_size(response: &JsValue) -> usize {
    // `JSON.stringify` returns undefined (no string) for undefined and functions.
    let text: JsValue = JSON::stringify(response).map_or(JsValue::UNDEFINED, Into::into);
    let text_len = if text.is_string() {
        js_sys::JsString::from(text).length() as usize
    } else {
        0
    };
    text_len + ENTRY_OVERHEAD_BYTES
}

/// A request's `cache`: false, 'reload', or `{ ttlMs, staleMs, tags, private, reload }`.
fn read_request_cache(value: &JsValue) -> Result<RawRequestCache, RequestError> {
    if value.is_undefined() || value.is_null() || value.as_bool() == Some(true) {
        return Ok(RawRequestCache::Default);
    }
    if value.as_bool() == Some(false) {
        return Ok(RawRequestCache::Off);
    }
    if value.as_string().as_deref() == Some("reload") {
        return Ok(RawRequestCache::Options {
            ttl_ms: None,
            stale_ms: None,
            tags: Vec::new(),
            private: false,
            reload: true,
        });
    }
    if value.as_string().is_some() {
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

/// A restored snapshot: the user partition it was saved under, and its entries by key.
type Restored = (Option<String>, Vec<(String, Entry<JsValue>)>);

/// A saved snapshot, checked field by field; the first problem is the reason to discard it.
fn read_snapshot(stored: &JsValue) -> Result<Restored, String> {
    if stored.is_undefined() || stored.is_null() || stored.as_string().as_deref() == Some("") {
        return Ok((None, Vec::new()));
    }
    if !stored.is_object() || Array::is_array(stored) {
        return Err(format!("not a snapshot object ({})", type_name(stored)));
    }
    let field = |o: &JsValue, k: &str| Reflect::get(o, &JsValue::from_str(k)).unwrap_or_default();
    if field(stored, "format").as_string().as_deref() != Some(PERSIST_FORMAT) {
        return Err("another format (not written by mp-request)".into());
    }
    if field(stored, "version").as_f64() != Some(f64::from(PERSIST_VERSION)) {
        return Err("another version of the format".into());
    }
    let user = field(stored, "user").as_string();
    let list = field(stored, "entries");
    if !Array::is_array(&list) {
        return Err("entries is not an array".into());
    }
    let mut entries = Vec::new();
    for (i, item) in Array::from(&list).iter().enumerate() {
        let bad = |what: &str| format!("entry {i}: {what}");
        let text = |k: &str| {
            field(&item, k)
                .as_string()
                .ok_or_else(|| bad(&format!("{k} is not a string")))
        };
        let num = |k: &str| {
            field(&item, k)
                .as_f64()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| bad(&format!("{k} is not a number")))
        };
        let tags = field(&item, "tags");
        if !Array::is_array(&tags) {
            return Err(bad("tags is not an array"));
        }
        let tags = Array::from(&tags)
            .iter()
            .map(|t| t.as_string().ok_or_else(|| bad("a tag is not a string")))
            .collect::<Result<Vec<String>, String>>()?;
        let value = field(&item, "value");
        if !value.is_object() || field(&value, "statusCode").as_f64().is_none() {
            return Err(bad("value is not a response"));
        }
        num("size")?;
        let entry = Entry {
            // Recomputed, not trusted: the budget must hold whatever storage says.
            size: estimate_size(&value),
            value,
            path: text("path")?,
            scope: text("scope")?,
            tags,
            fresh_until: num("freshUntil")?,
            stale_until: num("staleUntil")?,
        };
        entries.push((text("key")?, entry));
    }
    Ok((user, entries))
}

/// The client's `cache` options.
fn read_stats_config(value: &JsValue) -> Result<(Vec<String>, Option<f64>), RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok((Vec::new(), None));
    }
    let stats = plain_object("stats", value, STATS_OPTIONS)?;
    Ok((
        string_list("stats.patterns", &get(stats, "patterns")?)?,
        opt_number(stats, "maxPatterns")?,
    ))
}

fn read_cache_config(value: &JsValue) -> Result<Option<RawCacheConfig>, RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let cache = plain_object("cache", value, CACHE_OPTIONS)?;
    let mut rules = Vec::new();
    for (i, rule) in list("cache.rules", &get(cache, "rules")?)?
        .iter()
        .enumerate()
    {
        let field = format!("cache.rules[{i}]");
        let rule = plain_object_named(&field, &rule, RULE_OPTIONS)?;
        rules.push(RawRule {
            path: named_string(&format!("{field}.path"), &get(rule, "path")?)?,
            ttl_ms: opt_number(rule, "ttlMs")?,
            stale_ms: opt_number(rule, "staleMs")?,
            tags: string_list(&format!("{field}.tags"), &get(rule, "tags")?)?,
        });
    }
    let mut invalidations = Vec::new();
    for (i, item) in list("cache.invalidations", &get(cache, "invalidations")?)?
        .iter()
        .enumerate()
    {
        let field = format!("cache.invalidations[{i}]");
        let item = plain_object_named(&field, &item, INVALIDATION_OPTIONS)?;
        invalidations.push(RawInvalidation {
            method: opt_string(item, "method")?,
            path: named_string(&format!("{field}.path"), &get(item, "path")?)?,
            prefixes: string_list(&format!("{field}.prefixes"), &get(item, "prefixes")?)?,
            tags: string_list(&format!("{field}.tags"), &get(item, "tags")?)?,
        });
    }
    Ok(Some(RawCacheConfig {
        max_entries: opt_number(cache, "maxEntries")?,
        max_bytes: opt_number(cache, "maxBytes")?,
        rules,
        invalidations,
        persist: opt_bool(cache, "persist")?,
        persist_max_bytes: opt_number(cache, "persistMaxBytes")?,
    }))
}

/// An optional array (undefined: empty).
fn list(field: &str, value: &JsValue) -> Result<Array, RequestError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Array::new());
    }
    if !Array::is_array(value) {
        return Err(RequestError::invalid(
            field.to_owned(),
            format!("must be an array, got {}", type_name(value)),
        ));
    }
    Ok(Array::from(value))
}

fn string_list(field: &str, value: &JsValue) -> Result<Vec<String>, RequestError> {
    list(field, value)?
        .iter()
        .map(|item| {
            item.as_string().ok_or_else(|| {
                RequestError::invalid(
                    field.to_owned(),
                    format!("must hold strings, got {}", type_name(&item)),
                )
            })
        })
        .collect()
}

fn named_string(field: &str, value: &JsValue) -> Result<String, RequestError> {
    value.as_string().ok_or_else(|| {
        RequestError::invalid(
            field.to_owned(),
            format!("must be a string, got {}", type_name(value)),
        )
    })
}

fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if Array::is_array(value) {
        "array".into()
    } else {
        value
            .js_typeof()
            .as_string()
            .unwrap_or_else(|| "unknown".into())
    }
}
