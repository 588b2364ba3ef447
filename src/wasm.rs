//! The `#[wasm_bindgen]` boundary: JS values in, core types through, small JS
//! objects out. No policy here, and nothing that JS can make panic: every read
//! of a JS value is checked, and every JS call that can throw is caught.

use std::cell::RefCell;

use js_sys::{Array, ArrayBuffer, Reflect, JSON};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::core::classify::Failure;
use crate::core::config::{ClientConfig, Platform, RawConfig};
use crate::core::engine::{self, Command, Settled};
use crate::core::error::RequestError;
use crate::core::locale::Locale;
use crate::core::request::RawRequest;

/// Options `createClient` accepts. The shim consumes `wasmPath` and `debug`;
/// they are listed so that a misspelt option is reported, not ignored.
const CLIENT_OPTIONS: &[&str] = &[
    "env",
    "service",
    "resourceAppid",
    "resourceEnv",
    "baseUrl",
    "timeoutMs",
    "locale",
    "wasmPath",
    "debug",
];

/// Options `client.request` accepts.
const REQUEST_OPTIONS: &[&str] = &["path", "method", "data", "header", "timeoutMs"];

/// One client's request engine, owned by the JS client.
#[wasm_bindgen]
pub struct Engine {
    inner: RefCell<engine::Engine>,
    locale: Locale,
}

#[wasm_bindgen]
impl Engine {
    /// Validates the client options; throws a plain error object on bad input.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, platform: JsValue) -> Result<Engine, JsValue> {
        let config = read_config(&options).map_err(|e| error_object(&e, Locale::ZhCn, None))?;
        let platform = Platform {
            has_cloud: Reflect::get(&platform, &"hasCloud".into())
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        };
        let locale = config.locale;
        Ok(Engine {
            inner: RefCell::new(engine::Engine::new(config, platform)),
            locale,
        })
    }

    /// `{ env, service, resourceAppid, resourceEnv }` for the cloud adapter.
    #[wasm_bindgen(js_name = cloudConfig)]
    pub fn cloud_config(&self) -> Result<JsValue, JsValue> {
        let inner = self.borrow()?;
        let c: &ClientConfig = inner.config();
        to_js(&CloudConfigJs {
            env: c.env.as_deref(),
            service: c.service.as_deref(),
            resource_appid: c.resource_appid.as_deref(),
            resource_env: c.resource_env.as_deref(),
        })
    }

    /// Plans a request; returns the first command or throws an error object.
    pub fn start(&self, options: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        // Read everything from JS before borrowing: a getter or `toJSON` may
        // call back into this engine.
        let spec = read_request(&options)
            .and_then(RawRequest::validate)
            .map_err(|e| error_object(&e, self.locale, None))?;
        let command = self
            .borrow()?
            .start(&spec, now_ms)
            .map_err(|e| error_object(&e, self.locale, None))?;
        self.command(command)
    }

    /// Reports an HTTP response to an attempt.
    #[wasm_bindgen(js_name = onResponse)]
    pub fn on_response(&self, id: u32, status: f64, now_ms: f64) -> Result<JsValue, JsValue> {
        let command = match valid_status(status) {
            Some(status) => self.borrow()?.on_response(id, status, now_ms),
            None => self.borrow()?.on_failure(
                id,
                Failure {
                    err_msg: format!("malformed response: status {status}"),
                    ..Failure::default()
                },
                now_ms,
            ),
        };
        self.command(command.map_err(|e| error_object(&e, self.locale, None))?)
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
    ) -> Result<JsValue, JsValue> {
        let failure = Failure {
            err_msg: err_msg.as_string().unwrap_or_default(),
            err_code: as_i32(&err_code),
            errno: as_i32(&errno),
        };
        let command = self
            .borrow()?
            .on_failure(id, failure, now_ms)
            .map_err(|e| error_object(&e, self.locale, None))?;
        self.command(command)
    }

    /// Requests started and not yet settled.
    #[wasm_bindgen(js_name = inFlight)]
    pub fn in_flight(&self) -> Result<u32, JsValue> {
        Ok(self.borrow()?.in_flight() as u32)
    }
}

impl Engine {
    fn borrow(&self) -> Result<std::cell::RefMut<'_, engine::Engine>, JsValue> {
        self.inner.try_borrow_mut().map_err(|_| {
            let err = RequestError::invalid(
                "client",
                "was called again from inside one of its own calls (a getter or toJSON in the options?)",
            );
            error_object(&err, self.locale, None)
        })
    }

    fn command(&self, command: Command) -> Result<JsValue, JsValue> {
        match command {
            Command::Send(send) => to_js(&SendJs {
                r#type: "send",
                id: send.id,
                route: send.route.route.as_str(),
                reason: send.route.reason,
                method: send.method.as_str(),
                attempt: send.attempt,
                timeout_ms: send.timeout_ms,
                url: send.url.as_deref(),
            }),
            Command::Resolve(settled) => to_js(&ResolveJs {
                r#type: "resolve",
                id: settled.id,
                route: settled.route.as_str(),
                attempts: settled.attempts,
                elapsed_ms: settled.elapsed_ms,
            }),
            Command::Reject(settled, error) => {
                let error = error_object(&error, self.locale, Some(&settled));
                let out = to_js(&RejectJs {
                    r#type: "reject",
                    id: settled.id,
                })?;
                set(&out, "error", &error);
                Ok(out)
            }
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CloudConfigJs<'a> {
    env: Option<&'a str>,
    service: Option<&'a str>,
    resource_appid: Option<&'a str>,
    resource_env: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendJs<'a> {
    r#type: &'static str,
    id: u32,
    route: &'static str,
    reason: &'static str,
    method: &'static str,
    attempt: u32,
    timeout_ms: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResolveJs {
    r#type: &'static str,
    id: u32,
    route: &'static str,
    attempts: u32,
    elapsed_ms: f64,
}

#[derive(Serialize)]
struct RejectJs {
    r#type: &'static str,
    id: u32,
}

/// The fields of a JS `RequestError`, as a plain object the shim wraps.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorJs<'a> {
    kind: &'static str,
    message: &'a str,
    detail: String,
    code: Option<i32>,
    status_code: Option<u16>,
    retryable: bool,
    attempts: u32,
    route: Option<&'static str>,
}

fn error_object(error: &RequestError, locale: Locale, settled: Option<&Settled>) -> JsValue {
    let message = error.user_message(locale);
    let fields = ErrorJs {
        kind: error.kind().as_str(),
        message: &message,
        detail: error.to_string(),
        code: error.code(),
        status_code: error.status(),
        retryable: error.is_retryable(),
        attempts: settled.map_or(0, |s| s.attempts),
        route: settled.map(|s| s.route.as_str()),
    };
    to_js(&fields).unwrap_or_else(|e| e)
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsValue::from_str(&e.to_string()))
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a fresh plain object's property cannot throw; ignore the result anyway.
    let _ = Reflect::set(target, &key.into(), value);
}

fn valid_status(status: f64) -> Option<u16> {
    (status.fract() == 0.0 && (100.0..=599.0).contains(&status)).then_some(status as u16)
}

fn as_i32(value: &JsValue) -> Option<i32> {
    let n = value
        .as_f64()
        .or_else(|| value.as_string().and_then(|s| s.trim().parse().ok()))?;
    (n.fract() == 0.0 && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX)).then_some(n as i32)
}

// ---- reading JS options -------------------------------------------------

fn read_config(options: &JsValue) -> Result<ClientConfig, RequestError> {
    let options = plain_object("options", options, CLIENT_OPTIONS)?;
    RawConfig {
        env: opt_string(options, "env")?,
        service: opt_string(options, "service")?,
        resource_appid: opt_string(options, "resourceAppid")?,
        resource_env: opt_string(options, "resourceEnv")?,
        base_url: opt_string(options, "baseUrl")?,
        timeout_ms: opt_number(options, "timeoutMs")?,
        locale: opt_string(options, "locale")?,
    }
    .validate()
}

fn read_request(options: &JsValue) -> Result<RawRequest, RequestError> {
    let options = plain_object("options", options, REQUEST_OPTIONS)?;
    let path = opt_string(options, "path")?
        .ok_or_else(|| RequestError::invalid("path", "is required, e.g. '/api/home/init'"))?;
    Ok(RawRequest {
        path,
        method: opt_string(options, "method")?,
        headers: read_headers(&get(options, "header")?)?,
        body_bytes: body_bytes(&get(options, "data")?)?,
        timeout_ms: opt_number(options, "timeoutMs")?,
    })
}

/// `value` as a plain object whose own keys are all in `known`.
fn plain_object<'a>(
    field: &'static str,
    value: &'a JsValue,
    known: &[&str],
) -> Result<&'a JsValue, RequestError> {
    if !value.is_object() || Array::is_array(value) {
        return Err(RequestError::invalid(
            field,
            format!("must be an object, got {}", type_name(value)),
        ));
    }
    let keys = Reflect::own_keys(value)
        .map_err(|_| RequestError::invalid(field, "could not be read (its keys threw)"))?;
    for key in keys.iter() {
        if let Some(key) = key.as_string() {
            if !known.contains(&key.as_str()) {
                return Err(RequestError::invalid(
                    "options",
                    format!("has an unknown option {key:?}; known: {}", known.join(", ")),
                ));
            }
        }
    }
    Ok(value)
}

fn get(object: &JsValue, key: &'static str) -> Result<JsValue, RequestError> {
    Reflect::get(object, &JsValue::from_str(key))
        .map_err(|_| RequestError::invalid(key, "could not be read (its getter threw)"))
}

fn opt_string(object: &JsValue, key: &'static str) -> Result<Option<String>, RequestError> {
    let value = get(object, key)?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| {
        RequestError::invalid(key, format!("must be a string, got {}", type_name(&value)))
    })
}

fn opt_number(object: &JsValue, key: &'static str) -> Result<Option<f64>, RequestError> {
    let value = get(object, key)?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_f64().map(Some).ok_or_else(|| {
        RequestError::invalid(key, format!("must be a number, got {}", type_name(&value)))
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
            n.to_string()
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

/// The size in bytes the body will have on the wire.
fn body_bytes(data: &JsValue) -> Result<usize, RequestError> {
    if data.is_undefined() || data.is_null() {
        return Ok(0);
    }
    if let Some(s) = data.as_string() {
        return Ok(s.len());
    }
    if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
        return Ok(buffer.byte_length() as usize);
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
        Some(text) => Ok(text.len()),
        None => Err(RequestError::invalid(
            "data",
            format!("cannot be sent as JSON: got {}", type_name(data)),
        )),
    }
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
