//! The request engine's `#[wasm_bindgen]` boundary: the exported `Engine`,
//! which only hands values between `read`, `write`, `persist` and the core.

use super::{persist, write};
use crate::core::float;
use crate::prelude::*;

use core::cell::RefCell;

use js_sys::{Array, Reflect, JSON};
use wasm_bindgen::prelude::*;

use super::js::{
    get_or_undefined, is_plain_object, string_within, text_prefix, type_name, Obj, MESSAGE_UNITS,
};
use super::read::{
    read_config, read_headers, read_request, read_request_parts, read_socket_options,
};
use super::write::{error_object, CommandShapes};
use crate::core::cache::validator::{Validator, MAX_VALIDATOR_BYTES};
use crate::core::classify::Failure;
use crate::core::config::{parse_sdk_version, Platform};
use crate::core::engine::{self, Answer, ByHandle, Command, Invalidate};
use crate::core::error::RequestError;
use crate::core::limits::{self, MAX_BODY_BYTES, MAX_PATH_BYTES, MAX_USER_BYTES};
use crate::core::locale::Locale;
use crate::core::request::{number, RawRequest};
use crate::core::socket::hub::Registry;
use crate::core::socket::pushed::MAX_PUSHED_BYTES;

/// One client's request engine, owned by the JS client.
#[wasm_bindgen]
pub struct Engine {
    inner: RefCell<engine::Engine<JsValue>>,
    sockets: RefCell<Registry>,
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
        let fact = |key: &str| get_or_undefined(&platform, key);
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
            && ["resolve", "end", "send", "wait"].iter().all(|name| {
                Reflect::get(&shapes, &JsValue::from_str(name)).is_ok_and(|f| f.is_function())
            }))
        .then(|| shapes.unchecked_into::<CommandShapes>());
        Ok(Engine {
            inner: RefCell::new(engine::Engine::new(config, platform, seed as u32)),
            sockets: RefCell::new(Registry::default()),
            locale,
            shapes,
        })
    }

    /// The language of user messages (`zh-CN` or `en`), for the socket engine.
    pub fn locale(&self) -> String {
        self.locale.tag().to_owned()
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
        Ok(write::cloud_config(self.borrow()?.config()))
    }

    /// Plans a request: `[id, ...commands]`, or throws an error object.
    pub fn start(&self, options: JsValue, now_ms: f64) -> Result<Array, JsValue> {
        // Read everything from JS before borrowing: a getter or `toJSON` may
        // call back into this engine.
        let raw = read_request(&options).map_err(|e| self.error(&e))?;
        self.started(raw, now_ms)
    }

    /// The fresh cached response behind `handle`; undefined when there is
    /// none fresh (start the request as usual); null when the handle is void
    /// (the user partition changed): ask for a new one.
    #[wasm_bindgen(js_name = hitHandle)]
    pub fn hit_handle(&self, handle: f64, now_ms: f64) -> JsValue {
        match self.inner.try_borrow_mut() {
            Ok(mut engine) => match engine.by_handle(handle, now_ms) {
                ByHandle::Fresh(value) => value,
                ByHandle::Joined(id) => JsValue::from(id),
                ByHandle::Start => JsValue::UNDEFINED,
                ByHandle::Void => JsValue::NULL,
            },
            Err(_) => JsValue::UNDEFINED,
        }
    }

    /// The fast form of `start` for plain options: the shim passes `path`
    /// and `method` as strings, `header` as it is, `data` as its JSON text (already
    /// stringified), and the whole options as `rest` only when they hold
    /// other keys (read from there). Everything is checked as `start` checks it.
    /// `[id, handle, ...commands]`: with `want_handle`, the handle for
    /// `hitHandle` next time (-1 when the request cannot have one).
    #[wasm_bindgen(js_name = startFast)]
    #[allow(clippy::too_many_arguments)]
    pub fn start_fast(
        &self,
        path: String,
        method: Option<String>,
        data_json: Option<String>,
        header: JsValue,
        rest: JsValue,
        want_handle: bool,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let kept = data_json.is_some();
        let mut raw = read_request_parts(path, method, data_json, header, rest)
            .map_err(|e| self.error(&e))?;
        // The shim keeps the JSON it stringified: attempts send it without its text crossing back.
        raw.data_json_kept = kept;
        let (id, handle, commands) = {
            let mut engine = self.borrow()?;
            if want_handle {
                engine.start_with_handle(raw, now_ms)
            } else {
                engine
                    .start(raw, now_ms)
                    .map(|(id, commands)| (id, None, commands))
            }
        }
        .map_err(|e| self.error(&e))?;
        Ok(self.with_head(&[f64::from(id), handle.unwrap_or(-1.0)], commands))
    }

    /// How many handles the shim should remember at most: as many as the engine keeps.
    #[wasm_bindgen(js_name = handleCapacity)]
    pub fn handle_capacity(&self) -> Result<u32, JsValue> {
        Ok(self.borrow()?.handle_capacity() as u32)
    }

    /// Reports an HTTP answer to an attempt: its status, `Retry-After`,
    /// `X-WX-OPENID`, `ETag` and `Last-Modified` headers, and the response object callers will receive
    /// (kept as is by the cache: no copy), and whether its body should have
    /// been JSON and was not (the shim's fact; the engine decides).
    #[wasm_bindgen(js_name = onResponse)]
    #[allow(clippy::too_many_arguments)]
    pub fn on_response(
        &self,
        id: u32,
        status: f64,
        retry_after: JsValue,
        user: JsValue,
        etag: JsValue,
        last_modified: JsValue,
        response: JsValue,
        body_not_json: bool,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let commands = match valid_status(status) {
            Some(status) => {
                let answer = Answer {
                    status,
                    retry_after: string_within(&retry_after, 256).ok().flatten(),
                    value: response,
                    // An id longer than any openid is no id (never a cut one).
                    user: string_within(&user, MAX_USER_BYTES).ok().flatten(),
                    body_not_json,
                    validator: revalidation(&etag, &last_modified),
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
        Ok(self.commands(commands.map_err(|e| self.error(&e))?))
    }

    /// Reports a failed attempt with the platform's errMsg, errCode and errno;
    /// `fault` when the app's code failed instead (a mock handler threw, no adapter).
    #[wasm_bindgen(js_name = onFailure)]
    pub fn on_failure(
        &self,
        id: u32,
        err_msg: JsValue,
        err_code: JsValue,
        errno: JsValue,
        fault: bool,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let failure = Failure {
            fault,
            ..failure(err_msg, err_code, errno)
        };
        let commands = self
            .borrow()?
            .on_failure(id, failure, now_ms)
            .map_err(|e| self.error(&e))?;
        Ok(self.commands(commands))
    }

    /// The timer of fetch `id` (armed by `wait`, `send` or `headers`) fired.
    #[wasm_bindgen(js_name = onTimer)]
    pub fn on_timer(&self, id: u32, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self
            .borrow()?
            .on_timer(id, now_ms)
            .map_err(|e| self.error(&e))?;
        Ok(self.commands(commands))
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
        Ok(self.commands(commands))
    }

    /// A socket on the cloud route wants to connect: the commands of the
    /// shared cloud init (`cloudReady` at once when it is done; otherwise an
    /// `init` to run, or nothing while one runs, and `cloudReady` or
    /// `cloudFailed` when it ends).
    #[wasm_bindgen(js_name = socketWantsCloud)]
    pub fn socket_wants_cloud(&self) -> Result<Array, JsValue> {
        Ok(self.commands(self.borrow()?.socket_wants_cloud()))
    }

    /// A `waitInit` command's delay is over.
    #[wasm_bindgen(js_name = onInitTimer)]
    pub fn on_init_timer(&self) -> Result<Array, JsValue> {
        let commands = self.borrow()?.on_init_timer();
        Ok(self.commands(commands))
    }

    /// The app went to the background (`wx.onAppHide`) or came back
    /// (`wx.onAppShow`): requests interrupted meanwhile are sent again.
    #[wasm_bindgen(js_name = appHidden)]
    pub fn app_hidden(&self, hidden: bool, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.borrow()?.set_hidden(hidden, now_ms);
        Ok(self.commands(commands))
    }

    /// The caller cancelled request `id`.
    pub fn cancel(&self, id: u32, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.borrow()?.cancel(id, now_ms);
        Ok(self.commands(commands))
    }

    /// The device's connectivity changed.
    /// Back online, queued mutations are replayed: the commands.
    #[wasm_bindgen(js_name = setOnline)]
    pub fn set_online(&self, online: bool, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.borrow()?.set_online(online, now_ms);
        Ok(self.commands(commands))
    }

    /// The storage key of the offline queue.
    #[wasm_bindgen(js_name = queueKey)]
    pub fn queue_key(&self) -> String {
        persist::QUEUE_KEY.to_owned()
    }

    /// The mutations waiting for the network, oldest first (see `mutation_object`).
    pub fn pending(&self) -> Result<Array, JsValue> {
        Ok(self
            .borrow()?
            .pending()
            .map(write::mutation_object)
            .collect())
    }

    /// What storage keeps of the offline queue: `{ format, version, policy, items }`.
    #[wasm_bindgen(js_name = queueSnapshot)]
    pub fn queue_snapshot(&self) -> Result<JsValue, JsValue> {
        Ok(persist::queue_snapshot(self.borrow()?.pending()))
    }

    /// Puts back what `queueSnapshot` saved and replays it when online:
    /// `{ restored, discarded?, damaged: [{ mutation, error }], commands }`.
    /// Another format or policy version is discarded whole, with the reason;
    /// a damaged item is dropped alone and listed in `damaged` (what could be
    /// read of it, and an `invalid` error naming it and the field). Storage
    /// is rewritten when an item was dropped as damaged or lost credential
    /// headers, so neither stays there.
    #[wasm_bindgen(js_name = restoreQueue)]
    pub fn restore_queue(&self, stored: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let (items, reason) = match persist::read_queue(&stored) {
            Ok(items) => (items, None),
            Err(reason) => (Vec::new(), Some(reason)),
        };
        let checked = crate::core::offline::check_stored(items);
        let count = checked.items.len();
        let (dropped, mut commands) = self.borrow()?.restore_queue(checked.items, now_ms);
        if !checked.damaged.is_empty() || checked.credentials_dropped > 0 {
            commands.push(Command::SaveQueue);
        }
        let reason = reason.or_else(|| {
            (dropped > 0).then(|| format!("{dropped} did not fit in the queue's bounds"))
        });
        let damaged: Array = checked
            .damaged
            .iter()
            .map(|d| {
                Obj::new()
                    .set("mutation", &write::mutation_object(&d.mutation))
                    .set("error", &self.error(&d.error))
                    .js()
            })
            .collect();
        Ok(Obj::new()
            .num("restored", (count - dropped) as f64)
            .text_if("discarded", reason.as_deref())
            .set("damaged", &damaged)
            .set("commands", &self.commands(commands))
            .js())
    }

    /// Scopes the cache and the offline queue to a user id (a string), or to
    /// nobody (null/undefined): the queued mutations of that user replay.
    #[wasm_bindgen(js_name = setUser)]
    pub fn set_user(&self, user: JsValue, now_ms: f64) -> Result<Array, JsValue> {
        let user = if user.is_undefined() {
            None
        } else {
            self.user_id(&user, "user", "must be a non-empty string or null")?
        };
        let commands = self.borrow()?.set_user(user, now_ms);
        Ok(self.commands(commands))
    }

    /// The client's `header` function answered a `headers` command: `headers`
    /// (an object of strings), or `thrown` (a description) when it threw.
    #[wasm_bindgen(js_name = onHeaders)]
    pub fn on_headers(
        &self,
        id: u32,
        attempt: u32,
        headers: JsValue,
        thrown: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let result = match text_prefix(&thrown, MESSAGE_UNITS) {
            Some(why) => Err(format!("threw: {why}")),
            None => read_headers(&headers).map_err(|e| format!("returned an invalid value: {e}")),
        };
        let commands = self.borrow()?.on_headers(id, attempt, result, now_ms);
        Ok(self.commands(commands))
    }

    /// A `saveQueue` command ran: the queue was written (`ok`), or not, and
    /// `detail` says why.
    #[wasm_bindgen(js_name = onQueueSaved)]
    pub fn on_queue_saved(&self, ok: bool, detail: JsValue, now_ms: f64) -> Result<Array, JsValue> {
        let result = if ok {
            Ok(())
        } else {
            Err(text_prefix(&detail, MESSAGE_UNITS)
                .unwrap_or_else(|| "storage refused the write".into()))
        };
        let commands = self.borrow()?.on_queue_saved(result, now_ms);
        Ok(self.commands(commands))
    }

    /// A `waitReplay` command's delay is over.
    #[wasm_bindgen(js_name = onReplayTimer)]
    pub fn on_replay_timer(&self, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.borrow()?.on_replay_timer(now_ms);
        Ok(self.commands(commands))
    }

    /// Where the device's id for fleet reports is kept, with `report` on.
    #[wasm_bindgen(js_name = reportKey)]
    pub fn report_key(&self) -> Result<Option<String>, JsValue> {
        let on = self.borrow()?.config().report.is_some();
        Ok(on.then(|| engine::DEVICE_KEY.to_owned()))
    }

    /// Starts fleet reports: `stored` is what storage held under `reportKey()`,
    /// `build` the mp-request build ('miniprogram', 'web', 'node'), `appVersion`
    /// the app's. `[deviceId, ...commands]`: the id to keep (undefined without
    /// `report`), then the first timer.
    #[wasm_bindgen(js_name = startReports)]
    pub fn start_reports(
        &self,
        stored: JsValue,
        build: &str,
        app_version: JsValue,
    ) -> Result<Array, JsValue> {
        let stored = text_prefix(&stored, 17);
        let app_version = text_prefix(&app_version, 33);
        let (device, commands) =
            self.borrow()?
                .start_reports(stored.as_deref(), build, app_version.as_deref());
        let out = self.commands(commands);
        out.unshift(&device.map_or(JsValue::UNDEFINED, |d| JsValue::from_str(&d)));
        Ok(out)
    }

    /// The client is destroyed: no more fleet reports; the one in flight ends.
    #[wasm_bindgen(js_name = stopReports)]
    pub fn stop_reports(&self, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.borrow()?.stop_reports(now_ms);
        Ok(self.commands(commands))
    }

    /// A `waitReport` command's delay is over: the next fleet report is due.
    #[wasm_bindgen(js_name = onReportTimer)]
    pub fn on_report_timer(&self, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.borrow()?.on_report_timer(now_ms);
        Ok(self.commands(commands))
    }

    /// Drops the queued mutations of `user` (a string; null: those made with
    /// no user; undefined: the current user's): `[count, ...commands]`.
    #[wasm_bindgen(js_name = dropPending)]
    pub fn drop_pending(&self, user: JsValue, now_ms: f64) -> Result<Array, JsValue> {
        let mut engine = self.borrow()?;
        let user = if user.is_undefined() {
            engine.current_user().map(str::to_owned)
        } else {
            self.user_id(
                &user,
                "dropPending",
                "takes a user id (a non-empty string), null (no user) or nothing (the current user)",
            )?
        };
        let (count, commands) = engine.drop_pending(user.as_deref(), now_ms);
        drop(engine);
        Ok(self.with_head(&[count as f64], commands))
    }

    /// Drops cached entries: a path prefix ('/api/order/') or `{ tag }`:
    /// `[count, ...commands]` (watched entries among them are refetched).
    pub fn invalidate(&self, target: JsValue) -> Result<Array, JsValue> {
        let bounded = |v: &JsValue| string_within(v, MAX_PATH_BYTES).ok().flatten();
        let what = if let Some(prefix) = bounded(&target).filter(|p| p.starts_with('/')) {
            Invalidate::Prefix(prefix)
        } else {
            let tag = is_plain_object(&target)
                .then(|| bounded(&get_or_undefined(&target, "tag")))
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
        let (count, commands) = self.borrow()?.invalidate_watched(&what);
        Ok(self.with_head(&[count as f64], commands))
    }

    /// Watches a GET the cache keeps: `[watchId, ...commands]` (its value
    /// now, or the fetch for it). Throws a plain error object on bad options.
    pub fn watch(&self, options: JsValue, now_ms: f64) -> Result<Array, JsValue> {
        let raw = read_request(&options).map_err(|e| self.error(&e))?;
        let (id, commands) = self
            .borrow()?
            .watch(raw, now_ms)
            .map_err(|e| self.error(&e))?;
        Ok(self.with_head(&[f64::from(id)], commands))
    }

    /// Stops watcher `id`: `[found ? 1 : 0, ...commands]` (the fetch made for
    /// it alone stops).
    pub fn unwatch(&self, id: u32, now_ms: f64) -> Result<Array, JsValue> {
        let (found, commands) = self.borrow()?.unwatch(id, now_ms);
        Ok(self.with_head(&[f64::from(u8::from(found))], commands))
    }

    /// The socket engine read an invalidation a service pushed (a `{"$mp":1}`
    /// frame; its command's `names`): the current user's entries it selects
    /// are dropped: `[count, ...commands]` (watched ones are refetched).
    #[wasm_bindgen(js_name = invalidatePushed)]
    pub fn invalidate_pushed(&self, names: JsValue) -> Result<Array, JsValue> {
        let names = string_within(&names, MAX_PUSHED_BYTES)
            .ok()
            .flatten()
            .unwrap_or_default();
        let (count, commands) = self
            .borrow()?
            .invalidate_pushed(&names)
            .map_err(|e| self.error(&e))?;
        Ok(self.with_head(&[count as f64], commands))
    }

    /// The socket engine ignored a frame of the library's (counted in `cacheStats`).
    #[wasm_bindgen(js_name = frameIgnored)]
    pub fn frame_ignored(&self) -> Result<(), JsValue> {
        self.borrow()?.frame_ignored();
        Ok(())
    }

    /// A managed socket opened: watched queries are asked again (invalidations
    /// sent while it was not open are lost).
    #[wasm_bindgen(js_name = socketOpened)]
    pub fn socket_opened(&self) -> Result<Array, JsValue> {
        let commands = self.borrow()?.socket_opened();
        Ok(self.commands(commands))
    }

    /// A `waitWatch` command's delay is over: watched entries that are gone are refetched.
    #[wasm_bindgen(js_name = onWatchTimer)]
    pub fn on_watch_timer(&self, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.borrow()?.on_watch_timer(now_ms);
        Ok(self.commands(commands))
    }

    /// The storage key to restore from and save to, or undefined without `cache.persist`.
    #[wasm_bindgen(js_name = persistKey)]
    pub fn persist_key(&self) -> Result<Option<String>, JsValue> {
        Ok(self
            .borrow()?
            .persists()
            .then(|| persist::PERSIST_KEY.to_owned()))
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
        Ok(persist::snapshot(now_ms, user, entries))
    }

    /// Restores what `snapshot` saved. Anything else (another format or
    /// version, a damaged entry) is discarded whole: `{ restored, discarded }`
    /// says what happened, for the debug log.
    pub fn restore(&self, stored: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        Ok(match persist::read_snapshot(&stored) {
            Ok((user, entries)) => {
                let restored = self.borrow()?.restore(user, entries, now_ms);
                persist::restore_outcome(restored, None)
            }
            Err(reason) => persist::restore_outcome(0, Some(&reason)),
        })
    }

    /// Validates `client.socket(options)` and opens (or shares) the socket:
    /// `{ id, shared, route, reason, service, path, url?, header?, acked, config }`,
    /// or throws an error object. `config` is the numbers the socket engine
    /// starts a new socket with (`Sockets.start`).
    #[wasm_bindgen(js_name = socketOpen)]
    pub fn socket_open(&self, options: JsValue) -> Result<JsValue, JsValue> {
        let raw = read_socket_options(&options).map_err(|e| self.error(&e))?;
        let inner = self.borrow()?;
        let mut registry = self.registry()?;
        let opened = registry
            .open(inner.config(), inner.platform(), raw)
            .map_err(|e| self.error(&e))?;
        Ok(write::socket_opened(&opened, registry.target(opened.id)))
    }

    /// What the caller sends on a socket, as the text that goes out:
    /// strings as they are and anything else as JSON, or always JSON in
    /// acked mode. Throws when it cannot be sent.
    #[wasm_bindgen(js_name = socketPayload)]
    pub fn socket_payload(&self, data: JsValue, acked: bool) -> Result<String, JsValue> {
        let too_large = |units| self.error(&limits::body_too_large(units));
        let text = string_within(&data, MAX_BODY_BYTES).map_err(too_large)?;
        match (text, acked) {
            (Some(text), false) => Ok(text),
            _ => JSON::stringify(&data)
                .ok()
                .map(JsValue::from)
                .map(|t| string_within(&t, MAX_BODY_BYTES).map_err(too_large))
                .transpose()?
                .flatten()
                .ok_or_else(|| {
                    self.error(&RequestError::invalid(
                        "send",
                        format!("needs a string or JSON data, got {}", type_name(&data)),
                    ))
                }),
        }
    }

    /// Socket `id` failed to open or failed: the request engine hears the
    /// platform's errMsg and errCode (a cloud socket's -601034 says the
    /// shared cloud init is gone). The socket engine hears it too.
    #[wasm_bindgen(js_name = socketFailure)]
    pub fn socket_failure(
        &self,
        id: u32,
        detail: JsValue,
        err_code: JsValue,
    ) -> Result<(), JsValue> {
        let route = self.registry()?.target(id).map(|t| t.route);
        if let Some(route) = route {
            let failure = Failure {
                err_msg: text_prefix(&detail, MESSAGE_UNITS).unwrap_or_default(),
                err_code: as_i32(&err_code),
                ..Failure::default()
            };
            self.borrow()?.on_socket_failure(route, failure);
        }
        Ok(())
    }

    /// A caller lets go of socket `id` (`close()`): true when it was the
    /// last, and the socket engine closes it (`Sockets.close`).
    #[wasm_bindgen(js_name = socketRelease)]
    pub fn socket_release(&self, id: u32) -> Result<bool, JsValue> {
        Ok(self.registry()?.release(id))
    }

    /// `{ entries, bytes, hits, misses, evictions, staleServes }`.
    #[wasm_bindgen(js_name = cacheStats)]
    pub fn cache_stats(&self) -> Result<JsValue, JsValue> {
        Ok(write::cache_stats(&self.borrow()?.cache_stats()))
    }

    /// What the client did per route and path class, and the state of each
    /// service's breaker and budget: `{ total, rows, folded, services }`.
    pub fn stats(&self, now_ms: f64) -> Result<JsValue, JsValue> {
        let engine = self.borrow()?;
        let services: Vec<write::Service> = engine
            .services()
            .map(|route| {
                let load = engine.load(route);
                (
                    route,
                    engine.breaker(route, now_ms),
                    engine.budget(route),
                    load,
                )
            })
            .collect();
        Ok(write::stats(engine.stats(), &services))
    }

    /// Clears the statistics (requests in flight stay counted).
    #[wasm_bindgen(js_name = resetStats)]
    pub fn reset_stats(&self) -> Result<(), JsValue> {
        self.borrow()?.reset_stats();
        Ok(())
    }

    /// What one request may carry (`core::limits`): the shim sends longer
    /// paths and data the slow way, where they are refused before being copied.
    pub fn limits(&self) -> JsValue {
        use crate::core::limits::*;
        Obj::new()
            .num("pathBytes", MAX_PATH_BYTES as f64)
            .num("targetBytes", MAX_TARGET_BYTES as f64)
            .num("queryJson", MAX_QUERY_JSON as f64)
            .num("headers", MAX_HEADERS as f64)
            .num("headerBytes", MAX_HEADER_BYTES as f64)
            .num("bodyBytes", MAX_BODY_BYTES as f64)
            .num("listItems", MAX_LIST_ITEMS as f64)
            .num("userBytes", MAX_USER_BYTES as f64)
            .js()
    }

    /// Requests started and not yet settled.
    #[wasm_bindgen(js_name = inFlight)]
    pub fn in_flight(&self) -> Result<u32, JsValue> {
        Ok(self.borrow()?.in_flight() as u32)
    }
}

impl Engine {
    fn borrow(&self) -> Result<core::cell::RefMut<'_, engine::Engine<JsValue>>, JsValue> {
        self.inner.try_borrow_mut().map_err(|_| {
            self.error(&RequestError::invalid(
                "client",
                "was called again from inside one of its own calls (a getter or toJSON in the options?)",
            ))
        })
    }

    fn registry(&self) -> Result<core::cell::RefMut<'_, Registry>, JsValue> {
        self.sockets.try_borrow_mut().map_err(|_| {
            self.error(&RequestError::invalid(
                "socket",
                "was called again from inside one of its own calls",
            ))
        })
    }

    /// Starts a request: `[id, ...commands]`.
    fn started(&self, raw: RawRequest, now_ms: f64) -> Result<Array, JsValue> {
        let (id, commands) = self
            .borrow()?
            .start(raw, now_ms)
            .map_err(|e| self.error(&e))?;
        Ok(self.with_head(&[f64::from(id)], commands))
    }

    /// A user id (a non-empty string) or null (None); anything else is
    /// `field` with `expected` in the error.
    fn user_id(
        &self,
        value: &JsValue,
        field: &'static str,
        expected: &'static str,
    ) -> Result<Option<String>, JsValue> {
        if value.is_null() {
            return Ok(None);
        }
        match string_within(value, MAX_USER_BYTES) {
            Ok(Some(id)) if !id.is_empty() => Ok(Some(id)),
            Err(units) => Err(self.error(&RequestError::invalid(
                field,
                format!("is {units} characters or more; a user id has at most {MAX_USER_BYTES}"),
            ))),
            _ => Err(self.error(&RequestError::invalid(
                field,
                format!("{expected}, got {}", type_name(value)),
            ))),
        }
    }

    fn error(&self, error: &RequestError) -> JsValue {
        error_object(error, self.locale, None, "")
    }

    fn commands(&self, commands: Vec<Command<JsValue>>) -> Array {
        self.with_head(&[], commands)
    }

    /// `[...head, ...commands]`, made at its final length.
    fn with_head(&self, head: &[f64], commands: Vec<Command<JsValue>>) -> Array {
        let out = Array::new_with_length((head.len() + commands.len()) as u32);
        for (i, n) in head.iter().enumerate() {
            out.set(i as u32, JsValue::from_f64(*n));
        }
        for (i, command) in commands.into_iter().enumerate() {
            out.set(
                (head.len() + i) as u32,
                write::command(command, self.locale, self.shapes.as_ref()),
            );
        }
        out
    }
}

fn failure(err_msg: JsValue, err_code: JsValue, errno: JsValue) -> Failure {
    Failure {
        err_msg: text_prefix(&err_msg, MESSAGE_UNITS).unwrap_or_default(),
        err_code: as_i32(&err_code),
        errno: as_i32(&errno),
        fault: false,
    }
}

fn valid_status(status: f64) -> Option<u16> {
    (float::is_whole(status) && (100.0..=599.0).contains(&status)).then_some(status as u16)
}

fn as_i32(value: &JsValue) -> Option<i32> {
    if let Ok(Some(text)) = string_within(value, 32) {
        // Integer parsing only: f64 parsing would cost the wasm several KB.
        return text.trim().parse().ok();
    }
    let n = value.as_f64()?;
    (float::is_whole(n) && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX)).then_some(n as i32)
}

/// What a cached copy of a response can be revalidated with: the core
/// chooses from what fits (a longer header is none).
fn revalidation(etag: &JsValue, last_modified: &JsValue) -> Option<Validator> {
    let read = |v: &JsValue| string_within(v, MAX_VALIDATOR_BYTES).ok().flatten();
    if etag.is_undefined() && last_modified.is_undefined() {
        return None;
    }
    Validator::of(read(etag).as_deref(), read(last_modified).as_deref())
}
