//! Boundary tests: the `#[wasm_bindgen]` engine driven with real JS values
//! under Node (`wasm-pack test --node`).
#![cfg(target_arch = "wasm32")]

mod js_values;

use js_sys::{Array, Object, Reflect};
use js_values::{get, object};
use mp_request::wasm::Engine;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

fn platform() -> JsValue {
    js_values::platform(7)
}

/// An engine whose cloud init is already done.
fn engine() -> Engine {
    let options = object(&[
        ("env", "prod-5g94mx7a3d07e78c".into()),
        ("service", "golang-lfwy".into()),
    ]);
    let e = Engine::new(options, platform(), JsValue::UNDEFINED).unwrap();
    let started = e.start(get_request("/warm-up"), 0.0).unwrap();
    assert_eq!(get(&started.get(1), "type"), "init");
    let sent = e
        .on_init(true, JsValue::UNDEFINED, JsValue::UNDEFINED, 0.0)
        .unwrap();
    let id = get(&sent.get(0), "id").as_f64().unwrap() as u32;
    e.on_response(
        id,
        200.0,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        false,
        0.0,
    )
    .unwrap();
    e
}

/// Starts a request and returns its id and first command.
fn start(e: &Engine, options: JsValue) -> (u32, JsValue) {
    let out = e.start(options, 0.0).unwrap();
    (out.get(0).as_f64().unwrap() as u32, out.get(1))
}

fn get_request(path: &str) -> JsValue {
    object(&[("path", path.into())])
}

#[wasm_bindgen_test]
fn mock_routes_match_in_the_core_with_params() {
    let routes: Array = [
        object(&[("path", "/api/order/:id".into()), ("response", object(&[]))]),
        object(&[
            ("method", "GET".into()),
            ("path", "/api/order/list".into()),
            ("response", object(&[])),
        ]),
    ]
    .into_iter()
    .collect();
    let options = object(&[
        ("mode", "mock".into()),
        ("mock", object(&[("routes", routes.into())])),
    ]);
    let e = Engine::new(options, platform(), JsValue::UNDEFINED).unwrap();
    let (_, send) = start(&e, get_request("/api/order/42"));
    assert_eq!(get(&send, "route"), "mock");
    let mock = get(&send, "mock");
    assert_eq!(get(&mock, "index").as_f64(), Some(0.0));
    assert_eq!(get(&get(&mock, "params"), "id"), "42");
    let (_, send) = start(&e, get_request("/api/order/list"));
    assert_eq!(get(&get(&send, "mock"), "index").as_f64(), Some(1.0));
    let detail = invalid_detail(e.start(get_request("/nothing/here"), 0.0));
    assert!(detail.contains("GET /nothing/here"), "{detail}");
}

/// Starts and completes one GET; panics (fails the test) if anything is off.
fn round_trip(e: &Engine) {
    let (id, send) = start(e, get_request("/api/home/init"));
    assert_eq!(get(&send, "type"), "send");
    assert_eq!(get(&send, "id").as_f64(), Some(f64::from(id)));
    assert_eq!(get(&send, "route"), "cloud");
    assert_eq!(
        get(&send, "reason"),
        "env configured and wx.cloud available"
    );
    assert_eq!(get(&send, "method"), "GET");
    let done = e
        .on_response(
            id,
            200.0,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            false,
            5.0,
        )
        .unwrap()
        .get(0);
    assert_eq!(get(&done, "type"), "resolve");
    assert_eq!(get(&done, "attempts").as_f64(), Some(1.0));
}

fn invalid_detail(result: Result<js_sys::Array, JsValue>) -> String {
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
    let mut options = get_request("/x");
    Reflect::set(&options, &"retry".into(), &false.into()).unwrap();
    let (id, _) = start(&e, options.clone());
    let out = e
        .on_failure(
            id,
            "cloud.callContainer:fail errCode: 102002 | errMsg: 请求超时".into(),
            102002.into(),
            JsValue::UNDEFINED,
            false,
            1.0,
        )
        .unwrap()
        .get(0);
    assert_eq!(get(&out, "type"), "reject");
    let error = get(&out, "error");
    assert_eq!(get(&error, "kind"), "timeout");
    assert_eq!(get(&error, "message"), "请求超时，请检查网络");
    assert_eq!(get(&error, "code").as_f64(), Some(102002.0));
    assert_eq!(get(&error, "route"), "cloud");
    assert_eq!(get(&error, "attempts").as_f64(), Some(1.0));
    // Retried by default: the same failure gives a wait, then a second attempt.
    options = get_request("/x");
    let (id, _) = start(&e, options);
    let wait = e
        .on_failure(
            id,
            "x".into(),
            102002.into(),
            JsValue::UNDEFINED,
            false,
            1.0,
        )
        .unwrap()
        .get(0);
    assert_eq!(get(&wait, "type"), "wait");
    assert!(get(&wait, "delayMs").as_f64().unwrap() <= 300.0);
    let again = e.on_timer(id, 400.0).unwrap().get(0);
    assert_eq!(get(&again, "attempt").as_f64(), Some(2.0));
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
    let platform = platform();
    let route = |path: &str| object(&[("path", path.into())]);
    let mock = |routes: Vec<JsValue>| {
        object(&[
            ("baseUrl", "http://x".into()),
            (
                "mock",
                object(&[("routes", routes.into_iter().collect::<Array>().into())]),
            ),
        ])
    };
    let cases: Vec<(JsValue, &str)> = vec![
        (
            object(&[("baseUrl", "http://x".into()), ("mode", "grpc".into())]),
            "`mode` must be",
        ),
        (
            object(&[
                ("baseUrl", "http://x".into()),
                (
                    "retry",
                    object(&[("capMs", 10.into()), ("baseMs", 20.into())]),
                ),
            ]),
            "`retry.capMs` must not be below baseMs",
        ),
        (
            object(&[("baseUrl", "http://x".into()), ("mock", "on".into())]),
            "`mock` must be an object",
        ),
        (
            object(&[
                ("baseUrl", "http://x".into()),
                ("mock", object(&[("enabled", "yes".into())])),
            ]),
            "`mock.enabled` must be true, false or 'auto'",
        ),
        (
            mock(vec![route("/a")]),
            "`mock.routes[0]` needs exactly one of `response`, `handler` or `error`",
        ),
        (
            mock(vec![object(&[
                ("path", "api".into()),
                ("response", object(&[])),
            ])]),
            "`mock.routes[0]` path must start with '/'",
        ),
        (
            mock(vec![object(&[
                ("path", "/a".into()),
                ("handler", 1.into()),
            ])]),
            "`mock.routes[0].handler` must be a function",
        ),
        (
            mock(vec![object(&[
                ("path", "/a".into()),
                ("response", object(&[])),
                ("delay", 1.into()),
            ])]),
            "`mock.routes[0]` has an unknown option \"delay\"",
        ),
        (
            object(&[("baseUrl", "http://x".into()), ("seed", (-1).into())]),
            "`seed` must be a whole number",
        ),
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
        let err = match Engine::new(options, platform.clone(), JsValue::UNDEFINED) {
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
    // Events for ids the engine does not wait for are ignored: nothing to do.
    assert_eq!(
        e.on_response(
            999_999,
            200.0,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            false,
            0.0
        )
        .unwrap()
        .length(),
        0,
        "unknown id"
    );
    assert_eq!(e.on_timer(999_999, 0.0).unwrap().length(), 0);
    assert_eq!(e.cancel(999_999, 0.0).unwrap().length(), 0);
    assert_eq!(e.on_init_timer().unwrap().length(), 0);
    assert_eq!(
        e.on_failure(0, JsValue::NULL, "x".into(), JsValue::NULL, false, 0.0)
            .unwrap()
            .length(),
        0
    );
    assert_eq!(
        e.on_headers(7, 1, JsValue::NULL, JsValue::UNDEFINED, 0.0)
            .unwrap()
            .length(),
        0
    );
    assert_eq!(e.on_replay_timer(0.0).unwrap().length(), 0);
    assert!(e.drop_pending(7.into(), 0.0).is_err());
    round_trip(&e);
    assert_eq!(e.in_flight().unwrap(), 0);
}

#[wasm_bindgen_test]
fn malformed_statuses_are_failures_not_panics() {
    let e = engine();
    for status in [f64::NAN, -1.0, 1e12, 200.5] {
        let options = get_request("/x");
        Reflect::set(&options, &"retry".into(), &false.into()).unwrap();
        let (id, _) = start(&e, options);
        let out = e
            .on_response(
                id,
                status,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
                false,
                0.0,
            )
            .unwrap()
            .get(0);
        assert_eq!(get(&out, "type"), "reject");
        assert_eq!(get(&get(&out, "error"), "kind"), "network");
    }
    round_trip(&e);
}

#[wasm_bindgen_test]
fn a_cache_hit_returns_the_very_object_that_was_stored() {
    let options = object(&[
        ("env", "prod-5g94mx7a3d07e78c".into()),
        ("service", "golang-lfwy".into()),
        (
            "cache",
            object(&[(
                "rules",
                [object(&[
                    ("path", "/api/home/*".into()),
                    ("ttlMs", 60_000.into()),
                ])]
                .into_iter()
                .collect::<Array>()
                .into(),
            )]),
        ),
    ]);
    let e = Engine::new(options, platform(), JsValue::UNDEFINED).unwrap();
    e.start(get_request("/warm"), 0.0).unwrap();
    let warm = e
        .on_init(true, JsValue::UNDEFINED, JsValue::UNDEFINED, 0.0)
        .unwrap()
        .get(0);
    let warm_id = get(&warm, "id").as_f64().unwrap() as u32;
    e.on_response(
        warm_id,
        200.0,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        object(&[]),
        false,
        0.0,
    )
    .unwrap();
    let (id, _) = start(&e, get_request("/api/home/init"));
    let response = object(&[
        ("statusCode", 200.into()),
        ("data", object(&[("n", 1.into())])),
    ]);
    e.on_response(
        id,
        200.0,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        response.clone(),
        false,
        1.0,
    )
    .unwrap();
    let (_, hit) = start(&e, get_request("/api/home/init"));
    assert_eq!(get(&hit, "type"), "resolve");
    assert_eq!(get(&hit, "fromCache"), true);
    assert!(
        js_sys::Object::is(&get(&hit, "value"), &response),
        "zero-copy: the same object"
    );
    let stats = e.cache_stats().unwrap();
    assert_eq!(get(&stats, "entries").as_f64(), Some(1.0));
    assert_eq!(get(&stats, "hits").as_f64(), Some(1.0));
    assert!(get(&stats, "bytes").as_f64().unwrap() > 64.0);
    assert_eq!(e.invalidate("/api/home/".into()).unwrap().get(0), 1);
    assert!(e.invalidate(42.into()).is_err());
    assert!(e.invalidate(object(&[("tag", "".into())])).is_err());
    // What the socket engine hands on, hostile: refused with a typed error, nothing counted.
    let huge: JsValue = "/a\n".repeat(10_000).into();
    for bad in [
        JsValue::UNDEFINED,
        JsValue::NULL,
        42.into(),
        "".into(),
        "api".into(),
        "#".into(),
        object(&[("names", "/a".into())]),
        huge,
    ] {
        let error = e.invalidate_pushed(bad).unwrap_err();
        assert_eq!(get(&error, "kind"), "invalid");
    }
    assert_eq!(
        get(&e.cache_stats().unwrap(), "pushedInvalidations").as_f64(),
        Some(0.0)
    );
    assert_eq!(
        e.invalidate_pushed("/api/\n#home".into()).unwrap().get(0),
        0
    );
    assert!(e.socket_opened().unwrap().length() == 0);
    e.frame_ignored().unwrap();
    assert_eq!(
        get(&e.cache_stats().unwrap(), "ignoredFrames").as_f64(),
        Some(1.0)
    );
    assert!(e.set_user(7.into(), 0.0).is_err());
    e.set_user("alice".into(), 0.0).unwrap();
    e.set_user(JsValue::NULL, 0.0).unwrap();
}

/// `object` with a `key` whose getter throws.
fn throwing_getter(object: JsValue, key: &str) -> JsValue {
    let descriptor = js_values::object(&[(
        "get",
        js_sys::Function::new_no_args("throw new Error('boom')").into(),
    )]);
    let target: &Object = object.unchecked_ref();
    Object::define_property(target, &key.into(), descriptor.unchecked_ref());
    object
}

#[wasm_bindgen_test]
fn a_damaged_stored_queue_item_is_dropped_alone_and_nothing_throws() {
    let good = |id: i32| {
        object(&[
            ("id", id.into()),
            ("method", "POST".into()),
            ("path", "/api/order/create".into()),
            ("header", object(&[])),
            ("dataJson", "{}".into()),
            ("idempotencyKey", format!("key-{id}").into()),
            ("queuedAt", 1.into()),
            ("attempts", 0.into()),
        ])
    };
    let with = |id: i32, key: &str, value: JsValue| {
        let item = good(id);
        Reflect::set(&item, &key.into(), &value).unwrap();
        item
    };
    let items: Array = [
        good(1),
        1.into(),
        JsValue::NULL,
        "item".into(),
        Array::new().into(),
        throwing_getter(good(2), "dataJson"),
        with(3, "header", throwing_getter(object(&[]), "X-Trace")),
        with(4, "header", object(&[("X-Count", 1.into())])),
        with(5, "header", JsValue::NULL),
        with(6, "id", "6".into()),
        with(7, "user", 7.into()),
        with(8, "attempts", JsValue::NULL),
        with(9, "dataJson", "{\"a\":".into()),
        with(10, "user", JsValue::NULL),
        good(1),
    ]
    .into_iter()
    .collect();
    let stored = object(&[
        ("format", "mp-request/queue".into()),
        ("version", 1.into()),
        ("policy", 1.into()),
        ("items", items.into()),
    ]);
    let e = engine();
    e.set_online(false, 1.0).unwrap();
    let restored = e.restore_queue(stored, 2.0).unwrap();
    assert_eq!(get(&restored, "restored"), 2);
    let damaged = Array::from(&get(&restored, "damaged"));
    let details: Vec<String> = damaged
        .iter()
        .map(|d| get(&get(&d, "error"), "detail").as_string().unwrap())
        .collect();
    let fields: Vec<&str> = details
        .iter()
        .map(|d| d.split('`').nth(1).unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "items[1]",
            "items[2]",
            "items[3]",
            "items[4]",
            "items[5].dataJson",
            "items[6].header.X-Trace",
            "items[7].header.X-Count",
            "items[8].header",
            "items[9].id",
            "items[10].user",
            "items[11].attempts",
            "items[12].dataJson",
            "items[14].id",
        ],
        "{details:#?}"
    );
    assert!(
        details[0].contains("is not an object, got number"),
        "{}",
        details[0]
    );
    assert!(details[4].contains("could not be read"), "{}", details[4]);
    assert!(
        details[12].contains("is the id of an earlier item"),
        "{}",
        details[12]
    );
    let ids: Vec<f64> = e
        .pending()
        .unwrap()
        .iter()
        .map(|m| get(&m, "id").as_f64().unwrap())
        .collect();
    assert_eq!(ids, [1.0, 10.0]);
    // Still serves: the replays start, and so do requests.
    let replay = e.set_online(true, 3.0).unwrap();
    assert_eq!(get(&replay.get(0), "type"), "replay");
    round_trip(&e);
}

/// The socket engine is reachable from JS: nothing JS can hand it (settings
/// that are not the request engine's, ids it never started, any number for a
/// time, a code or a sequence) may trap it; it still runs a socket afterwards.
#[wasm_bindgen_test]
fn the_socket_engine_still_serves_after_hostile_calls() {
    use mp_request::wasm::Sockets;
    let weird = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.0,
        0.0,
        0.5,
        1e300,
        f64::MAX,
        f64::MIN_POSITIVE,
        4_294_967_296.0,
    ];
    for seed in weird {
        let _ = Sockets::new(seed, "\u{0}\u{ffff}");
    }
    let s = Sockets::new(f64::NAN, "xx");
    let config = {
        let e = engine();
        let opened = e.socket_open(object(&[])).unwrap();
        Array::from(&Reflect::get(&opened, &"config".into()).unwrap())
            .iter()
            .map(|n| n.as_f64().unwrap())
            .collect::<Vec<f64>>()
    };
    assert_eq!(config.len(), 12);
    // Wrong lengths, and each number replaced by each weird value: refused or run, never a trap.
    for len in [0, 1, 11, 13, 1000] {
        assert!(s.start(1, &vec![1.0; len], 0.0).is_err(), "{len} numbers");
    }
    let mut id = 100;
    for at in 0..config.len() {
        for v in weird {
            let mut c = config.clone();
            c[at] = v;
            id += 1;
            if s.start(id, &c, v).is_ok() {
                let _ = s.opened(id, 1, v);
                let _ = s.timer(id, v);
                let _ = s.send(id, "x");
                let _ = s.closed(id, 1, v, JsValue::from_f64(v), v);
                let _ = s.close(id);
            }
        }
    }
    // Ids, epochs, times, codes and sequences it never gave.
    for v in weird {
        for id in [0, 1, 7, u32::MAX] {
            let _ = s.opened(id, u32::MAX, v);
            let _ = s.message(id, 0, Some("{\"type\":\"pong\",\"t\":1e999}".into()), v);
            let _ = s.message(id, 0, None, v);
            let _ = s.closed(id, 0, v, JsValue::NULL, v);
            let _ = s.on_error(id, 0, JsValue::from_f64(v), v);
            let _ = s.send_failed(id, 0, v, String::new(), JsValue::UNDEFINED, v);
            let _ = s.timer(id, v);
            let _ = s.close(id);
            assert_eq!(s.state(id).unwrap(), "closed");
            let _ = s.set_online(v > 0.0, v);
            let _ = s.set_hidden(v < 0.0, v);
        }
    }
    let _ = s.set_online(true, 0.0);
    let _ = s.set_hidden(false, 0.0);
    // Still serves: a socket starts, opens, sends and closes.
    let started = s.start(1, &config, 1000.0).unwrap();
    assert_eq!(get(&started.get(0), "type"), "connect");
    let epoch = get(&started.get(0), "epoch").as_f64().unwrap() as u32;
    s.opened(1, epoch, 1001.0).unwrap();
    assert_eq!(s.state(1).unwrap(), "open");
    let sent = s.send(1, "hello").unwrap();
    assert!(sent
        .iter()
        .any(|c| get(&c, "type") == "transmit" && get(&c, "text") == "hello"));
    s.close(1).unwrap();
    assert_eq!(s.state(1).unwrap(), "closed");
}

#[wasm_bindgen_test]
fn fleet_reports_start_from_hostile_storage_and_the_backend_refuses_bad_reports() {
    use mp_request::wasm::{check_report, summarise, Fleet};
    let options = object(&[
        ("env", "prod-5g94mx7a3d07e78c".into()),
        ("service", "golang-lfwy".into()),
        (
            "report",
            object(&[
                ("path", "/api/fleet/report".into()),
                ("everyMs", 1000.into()),
            ]),
        ),
    ]);
    // Whatever storage held (a number, a long string, an object), the device gets a valid id.
    for stored in [
        JsValue::from(42),
        JsValue::from_str(&"f".repeat(5000)),
        Object::new().into(),
        JsValue::from_str("0123456789abcdef"),
    ] {
        let e = Engine::new(options.clone(), platform(), JsValue::UNDEFINED).unwrap();
        assert_eq!(
            e.report_key().unwrap().as_deref(),
            Some("mp-request:device")
        );
        let started = e
            .start_reports(stored.clone(), "miniprogram", JsValue::from(7))
            .unwrap();
        let device = started.get(0).as_string().unwrap();
        assert!(device.len() == 16 && device.bytes().all(|b| b.is_ascii_hexdigit()));
        if stored.as_string().as_deref() == Some("0123456789abcdef") {
            assert_eq!(device, "0123456789abcdef", "a stored id is kept");
        }
        assert_eq!(get(&started.get(1), "type"), "waitReport");
        // Nothing to say yet: the timer only arms the next one.
        let next = e.on_report_timer(1000.0).unwrap();
        assert_eq!(next.length(), 1);
        assert_eq!(get(&next.get(0), "type"), "waitReport");
    }
    // A bad `report` is named.
    let bad = object(&[("report", object(&[("path", 7.into())]))]);
    let error = Engine::new(bad, platform(), JsValue::UNDEFINED)
        .err()
        .unwrap();
    assert!(get(&error, "detail")
        .as_string()
        .unwrap()
        .contains("report.path"));

    // The backend side: bad input is refused and the module keeps serving.
    assert!(Fleet::new(5.0, 1.0).is_err());
    assert!(Fleet::new(f64::NAN, 1.0).is_err());
    let fleet = Fleet::new(60_000.0, 2.0).unwrap();
    for hostile in [
        JsValue::UNDEFINED,
        JsValue::from(1),
        JsValue::from_str("{"),
        JsValue::from_str(&"[".repeat(10_000)),
    ] {
        assert!(fleet.add(hostile.clone(), 0.0).is_err());
        assert!(check_report(hostile).is_some());
    }
    let empty = r#"{"v":1,"seq":1,"device":"0123456789abcdef","ctx":{"platform":"iOS","sdk":"3.4.1","app":"","env":"release","build":"miniprogram","lib":"0.1.0"},"rows":[]}"#;
    assert_eq!(check_report(JsValue::from_str(empty)), None);
    fleet.add(JsValue::from_str(empty), 0.0).unwrap();
    assert!(fleet.summary().unwrap().contains("\"reports\":1"));
    let reports = Array::of2(&JsValue::from_str(empty), &JsValue::from_str(empty));
    assert!(summarise(&reports, 60_000.0)
        .unwrap()
        .contains("\"reports\":2"));
    reports.push(&JsValue::from(3));
    assert!(summarise(&reports, 60_000.0).is_err());
}
