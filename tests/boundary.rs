//! Boundary tests: the `#[wasm_bindgen]` engine driven with real JS values
//! under Node (`wasm-pack test --node`).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Object, Reflect};
use mp_request::wasm::Engine;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(key)).unwrap()
}

fn engine() -> Engine {
    let options = object(&[
        ("env", "prod-5g94mx7a3d07e78c".into()),
        ("service", "golang-lfwy".into()),
    ]);
    Engine::new(options, object(&[("hasCloud", true.into())])).unwrap()
}

fn get_request(path: &str) -> JsValue {
    object(&[("path", path.into())])
}

/// Starts and completes one GET; panics (fails the test) if anything is off.
fn round_trip(e: &Engine) {
    let send = e.start(get_request("/api/home/init"), 0.0).unwrap();
    assert_eq!(get(&send, "type"), "send");
    assert_eq!(get(&send, "route"), "cloud");
    assert_eq!(get(&send, "method"), "GET");
    let id = get(&send, "id").as_f64().unwrap() as u32;
    let done = e.on_response(id, 200.0, 5.0).unwrap();
    assert_eq!(get(&done, "type"), "resolve");
    assert_eq!(get(&done, "attempts").as_f64(), Some(1.0));
}

fn invalid_detail(result: Result<JsValue, JsValue>) -> String {
    let err = result.expect_err("expected an error");
    assert_eq!(get(&err, "kind"), "invalid", "{:?}", err);
    assert_eq!(get(&err, "retryable"), false);
    get(&err, "detail").as_string().unwrap()
}

#[wasm_bindgen_test]
fn a_get_round_trips_as_plain_objects() {
    round_trip(&engine());
}

#[wasm_bindgen_test]
fn failures_come_back_classified_with_the_seed_message() {
    let e = engine();
    let send = e.start(get_request("/x"), 0.0).unwrap();
    let id = get(&send, "id").as_f64().unwrap() as u32;
    let out = e
        .on_failure(
            id,
            "cloud.callContainer:fail errCode: 102002 | errMsg: 请求超时".into(),
            102002.into(),
            JsValue::UNDEFINED,
            1.0,
        )
        .unwrap();
    assert_eq!(get(&out, "type"), "reject");
    let error = get(&out, "error");
    assert_eq!(get(&error, "kind"), "timeout");
    assert_eq!(get(&error, "message"), "请求超时，请检查网络");
    assert_eq!(get(&error, "code").as_f64(), Some(102002.0));
    assert_eq!(get(&error, "route"), "cloud");
    assert_eq!(get(&error, "attempts").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
fn bad_request_options_name_the_field() {
    let e = engine();
    let cyclic = Object::new();
    Reflect::set(&cyclic, &"self".into(), &cyclic).unwrap();
    let cases: Vec<(JsValue, &str)> = vec![
        (JsValue::NULL, "`options` must be an object, got null"),
        (
            Array::new().into(),
            "`options` must be an object, got array",
        ),
        ("GET /x".into(), "`options` must be an object, got string"),
        (object(&[]), "`path` is required"),
        (
            object(&[("path", 42.into())]),
            "`path` must be a string, got number",
        ),
        (
            get_request("api/x"),
            "`path` must be a string starting with '/'",
        ),
        (
            object(&[("path", "/x".into()), ("method", "FETCH".into())]),
            "`method` must be one of",
        ),
        (
            object(&[("path", "/x".into()), ("data", cyclic.into())]),
            "`data` cannot be sent as JSON",
        ),
        (
            object(&[("path", "/x".into()), ("header", "x".into())]),
            "`header` must be an object",
        ),
        (
            object(&[("path", "/x".into()), ("timeoutMs", "5".into())]),
            "`timeoutMs` must be a number",
        ),
        (
            object(&[("path", "/x".into()), ("pth", "/y".into())]),
            "unknown option \"pth\"",
        ),
    ];
    for (options, expected) in cases {
        let detail = invalid_detail(e.start(options, 0.0));
        assert!(
            detail.contains(expected),
            "{detail:?} should contain {expected:?}"
        );
    }
    round_trip(&e);
}

#[wasm_bindgen_test]
fn bad_client_options_are_rejected() {
    let platform = object(&[("hasCloud", true.into())]);
    let cases: Vec<(JsValue, &str)> = vec![
        (JsValue::UNDEFINED, "`options` must be an object"),
        (object(&[]), "`env` or `baseUrl` is required"),
        (object(&[("env", "prod".into())]), "`service` is required"),
        (
            object(&[("baseUrl", "ftp://x".into())]),
            "`baseUrl` must be an http(s) URL",
        ),
        (
            object(&[("baseUrl", "http://x".into()), ("locale", "fr".into())]),
            "`locale`",
        ),
        (
            object(&[("baseUrl", "http://x".into()), ("envv", "p".into())]),
            "unknown option \"envv\"",
        ),
    ];
    for (options, expected) in cases {
        let err = match Engine::new(options, platform.clone()) {
            Ok(_) => panic!("{expected}: accepted"),
            Err(err) => err,
        };
        assert_eq!(get(&err, "kind"), "invalid");
        let detail = get(&err, "detail").as_string().unwrap();
        assert!(
            detail.contains(expected),
            "{detail:?} should contain {expected:?}"
        );
    }
}

#[wasm_bindgen_test]
fn still_serves_after_a_thousand_bad_calls() {
    let e = engine();
    let bad: Vec<JsValue> = vec![
        JsValue::NULL,
        42.into(),
        object(&[("path", JsValue::NULL)]),
        object(&[("path", "//x".into())]),
        object(&[("path", "/x".into()), ("method", 7.into())]),
        object(&[("path", "/x".into()), ("timeoutMs", f64::NAN.into())]),
    ];
    for i in 0..1000 {
        assert!(e.start(bad[i % bad.len()].clone(), 0.0).is_err());
    }
    assert!(e.on_response(999_999, 200.0, 0.0).is_err(), "unknown id");
    assert!(e
        .on_failure(0, JsValue::NULL, "x".into(), JsValue::NULL, 0.0)
        .is_err());
    round_trip(&e);
    assert_eq!(e.in_flight().unwrap(), 0);
}

#[wasm_bindgen_test]
fn malformed_statuses_are_failures_not_panics() {
    let e = engine();
    for status in [f64::NAN, -1.0, 1e12, 200.5] {
        let send = e.start(get_request("/x"), 0.0).unwrap();
        let id = get(&send, "id").as_f64().unwrap() as u32;
        let out = e.on_response(id, status, 0.0).unwrap();
        assert_eq!(get(&out, "type"), "reject");
        assert_eq!(get(&get(&out, "error"), "kind"), "network");
    }
    round_trip(&e);
}
