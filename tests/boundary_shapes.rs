//! The exact JS shape of everything the boundary hands the shim: request
//! commands, error objects, socket commands and events (which reach user
//! handlers as they are), snapshots and statistics objects. Compared as JSON
//! text, keys in order, so a change of representation cannot change a shape.
#![cfg(target_arch = "wasm32")]

mod js_values;

use js_sys::{Array, Reflect, JSON};
use js_values::{array, object, platform};
use mp_request::wasm::{Engine, Sockets};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

fn json(value: &JsValue) -> String {
    JSON::stringify(value).unwrap().as_string().unwrap()
}

/// Records the JSON of every value handed back, in order.
#[derive(Default)]
struct Log(Vec<String>);

impl Log {
    fn all(&mut self, label: &str, value: Result<Array, JsValue>) -> Array {
        let value = value.unwrap_or_else(|e| panic!("{label}: {}", json(&e)));
        self.0.push(format!("{label}: {}", json(&value)));
        value
    }
    fn one(&mut self, label: &str, value: Result<JsValue, JsValue>) -> JsValue {
        let value = value.unwrap_or_else(|e| panic!("{label}: {}", json(&e)));
        self.0.push(format!("{label}: {}", json(&value)));
        value
    }
    fn err<T>(&mut self, label: &str, value: Result<T, JsValue>) {
        let Err(e) = value else {
            panic!("{label}: expected an error");
        };
        self.0.push(format!("{label}: {}", json(&e)));
    }
}

fn id_of(started: &Array) -> u32 {
    started.get(0).as_f64().unwrap() as u32
}

#[wasm_bindgen_test]
fn request_commands_and_errors_keep_their_shapes() {
    let mut log = Log::default();
    let routes = array(vec![object(&[
        ("path", "/api/order/:id".into()),
        ("response", object(&[])),
    ])]);
    let options = object(&[
        ("env", "prod-1".into()),
        ("service", "svc".into()),
        ("baseUrl", "http://127.0.0.1:9".into()),
        ("mock", object(&[("routes", routes)])),
        (
            "cache",
            object(&[
                ("persist", true.into()),
                (
                    "rules",
                    array(vec![object(&[
                        ("path", "/api/home/*".into()),
                        ("ttlMs", 60_000.into()),
                        ("tags", array(vec!["home".into()])),
                    ])]),
                ),
            ]),
        ),
        ("retry", object(&[("limit", 1.into())])),
    ]);
    let e = Engine::new(options, platform(3), JsValue::UNDEFINED).unwrap();
    log.one("cloudConfig", e.cloud_config());
    // The cloud route: init first, then the send.
    let first = log.all(
        "start cloud",
        e.start(object(&[("path", "/api/home/init".into())]), 0.0),
    );
    log.all(
        "init failed",
        e.on_init(false, "cloud.init:fail".into(), JsValue::from(-601034), 1.0),
    );
    log.all("init timer", e.on_init_timer());
    log.all(
        "init ok",
        e.on_init(true, JsValue::UNDEFINED, JsValue::UNDEFINED, 2.0),
    );
    let id = id_of(&first);
    log.all(
        "failure",
        e.on_failure(
            id,
            "cloud.callContainer:fail reset".into(),
            JsValue::UNDEFINED,
            600001.into(),
            false,
            3.0,
        ),
    );
    log.all("timer", e.on_timer(id, 400.0));
    let response = object(&[
        ("statusCode", 200.into()),
        ("data", object(&[("n", 1.into())])),
    ]);
    log.all(
        "stored",
        e.on_response(
            id,
            200.0,
            JsValue::UNDEFINED,
            "o-user".into(),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            response,
            false,
            410.0,
        ),
    );
    log.all(
        "hit",
        e.start(object(&[("path", "/api/home/init".into())]), 420.0),
    );
    // A clamped timeout, a 5xx that exhausts the retries, a cancel.
    let slow = log.all(
        "start clamped",
        e.start(
            object(&[("path", "/api/slow".into()), ("timeoutMs", 20_000.into())]),
            500.0,
        ),
    );
    log.all(
        "503",
        e.on_response(
            id_of(&slow),
            503.0,
            "1".into(),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            object(&[]),
            false,
            501.0,
        ),
    );
    log.all("retry after", e.on_timer(id_of(&slow), 1501.0));
    log.all(
        "503 again",
        e.on_response(
            id_of(&slow),
            503.0,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            object(&[]),
            false,
            1502.0,
        ),
    );
    let cancelled = e
        .start(object(&[("path", "/api/c".into())]), 1600.0)
        .unwrap();
    log.all("cancel", e.cancel(id_of(&cancelled), 1601.0));
    // The http and mock routes.
    log.all(
        "start http",
        e.start(
            object(&[("path", "/api/x?b=2".into()), ("route", "http".into())]),
            1700.0,
        ),
    );
    log.all(
        "start mock",
        e.start(
            object(&[("path", "/api/order/42".into()), ("route", "mock".into())]),
            1800.0,
        ),
    );
    // Errors thrown by calls.
    log.err("bad path", e.start(object(&[("path", 42.into())]), 0.0));
    log.err("bad user", e.set_user(7.into(), 0.0));
    log.err(
        "bad client",
        Engine::new(
            object(&[("nope", 1.into())]),
            platform(1),
            JsValue::UNDEFINED,
        ),
    );
    log.one("cacheStats", e.cache_stats());
    let snapshot = log.one("snapshot", e.snapshot(2000.0));
    log.one("restore", e.restore(snapshot, 2001.0));
    log.one(
        "restore other",
        e.restore(object(&[("format", "x".into())]), 2001.0),
    );
    log.one("stats", e.stats(2002.0));
    let got = log.0.join("\n");
    assert_eq!(got, REQUEST_SHAPES.trim(), "\n{got}\n");
}

#[wasm_bindgen_test]
fn cloud_init_commands_keep_their_shapes() {
    let mut log = Log::default();
    let options = || object(&[("env", "prod-1".into()), ("service", "svc".into())]);
    let not_enabled = || JsValue::from("cloud.init:fail Cloud API isn't enabled");
    // Sockets wait for the one shared init, retried as for requests.
    let e = Engine::new(options(), platform(3), JsValue::UNDEFINED).unwrap();
    log.all("socket first", e.socket_wants_cloud());
    log.all("socket joins", e.socket_wants_cloud());
    log.all(
        "init failed",
        e.on_init(false, not_enabled(), JsValue::from(-601034), 1.0),
    );
    log.all("init timer", e.on_init_timer());
    log.all(
        "init ok",
        e.on_init(true, JsValue::UNDEFINED, JsValue::UNDEFINED, 2.0),
    );
    log.all("socket ready", e.socket_wants_cloud());
    // An init that fails for good.
    let f = Engine::new(options(), platform(4), JsValue::UNDEFINED).unwrap();
    f.socket_wants_cloud().unwrap();
    for _ in 0..3 {
        f.on_init(false, not_enabled(), JsValue::from(-601034), 1.0)
            .unwrap();
        f.on_init_timer().unwrap();
    }
    log.all(
        "init failed for good",
        f.on_init(false, not_enabled(), JsValue::from(-601034), 9.0),
    );
    // The app's own instance: never initialised here.
    let method = || JsValue::from(js_sys::Function::new_no_args(""));
    let cloud = object(&[
        ("callContainer", method()),
        ("connectContainer", method()),
        ("init", method()),
    ]);
    let given = Engine::new(
        object(&[("cloud", cloud), ("service", "svc".into())]),
        platform(5),
        JsValue::UNDEFINED,
    )
    .unwrap();
    log.one("given cloudConfig", given.cloud_config());
    log.all(
        "given start",
        given.start(object(&[("path", "/api/x".into())]), 0.0),
    );
    log.all("given socket", given.socket_wants_cloud());
    log.err(
        "given no instance",
        Engine::new(
            object(&[("cloud", object(&[])), ("service", "svc".into())]),
            platform(6),
            JsValue::UNDEFINED,
        ),
    );
    let got = log.0.join("\n");
    assert_eq!(got, CLOUD_SHAPES.trim(), "\n{got}\n");
}

#[wasm_bindgen_test]
fn offline_queue_shapes_keep_their_shapes() {
    let mut log = Log::default();
    let options = || object(&[("baseUrl", "http://127.0.0.1:9".into()), ("seed", 1.into())]);
    let e = Engine::new(options(), platform(7), JsValue::UNDEFINED).unwrap();
    log.all("offline", e.set_online(false, 0.0));
    let post = object(&[
        ("path", "/api/order/create".into()),
        ("method", "POST".into()),
        ("data", object(&[("n", 1.into())])),
        ("header", object(&[("X-Trace", "t".into())])),
        ("offline", "queue".into()),
    ]);
    log.all("queued", e.start(post.clone(), 5.0));
    log.all("saved", e.on_queue_saved(true, JsValue::UNDEFINED, 5.0));
    log.all("pending", e.pending());
    log.all("queued again", e.start(post, 6.0));
    log.all(
        "not saved",
        e.on_queue_saved(false, "setStorageSync:fail exceed the max size".into(), 6.0),
    );
    let saved = log.one("snapshot", e.queue_snapshot());
    let restarted = Engine::new(options(), platform(8), JsValue::UNDEFINED).unwrap();
    let restored = log.one("restore", restarted.restore_queue(saved, 100.0));
    let commands = Array::from(&Reflect::get(&restored, &"commands".into()).unwrap());
    let id = Reflect::get(&commands.get(0), &"id".into())
        .unwrap()
        .as_f64()
        .unwrap() as u32;
    let response = object(&[("statusCode", 200.into()), ("data", object(&[]))]);
    log.all(
        "synced",
        restarted.on_response(
            id,
            200.0,
            JsValue::NULL,
            JsValue::NULL,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            response,
            false,
            110.0,
        ),
    );
    log.one(
        "restore other",
        restarted.restore_queue(object(&[("format", "mp-request/queue".into())]), 120.0),
    );
    // A user's queued writes, dropped on logout.
    restarted.set_user("u1".into(), 130.0).unwrap();
    restarted.set_online(false, 130.0).unwrap();
    let post = object(&[
        ("path", "/api/order/create".into()),
        ("method", "POST".into()),
        ("offline", "queue".into()),
    ]);
    restarted.start(post, 131.0).unwrap();
    restarted
        .on_queue_saved(true, JsValue::UNDEFINED, 131.0)
        .unwrap();
    log.all(
        "drop pending",
        restarted.drop_pending(JsValue::UNDEFINED, 132.0),
    );
    // The client's header function is asked before every attempt.
    let asking = Engine::new(
        object(&[
            ("baseUrl", "http://127.0.0.1:9".into()),
            ("header", js_sys::Function::new_no_args("return {}").into()),
        ]),
        platform(9),
        JsValue::UNDEFINED,
    )
    .unwrap();
    log.all(
        "asks",
        asking.start(object(&[("path", "/api/x".into())]), 0.0),
    );
    log.all(
        "headers",
        asking.on_headers(
            1,
            1,
            object(&[("Authorization", "Bearer t".into())]),
            JsValue::UNDEFINED,
            1.0,
        ),
    );
    // One item whose dataJson is not JSON, one with a credential header.
    let item = |id: i32, data: &str, header: JsValue| {
        object(&[
            ("id", id.into()),
            ("method", "PUT".into()),
            ("path", "/api/order/7".into()),
            ("header", header),
            ("dataJson", data.into()),
            ("idempotencyKey", "k-1".into()),
            ("queuedAt", 5.into()),
            ("attempts", 0.into()),
        ])
    };
    let stored = object(&[
        ("format", "mp-request/queue".into()),
        ("version", 1.into()),
        ("policy", 1.into()),
        (
            "items",
            array(vec![
                item(4, "{\"n\":", object(&[("X-Trace", "t".into())])),
                item(5, "{}", object(&[("Authorization", "Bearer s".into())])),
            ]),
        ),
    ]);
    let fresh = Engine::new(options(), platform(9), JsValue::UNDEFINED).unwrap();
    fresh.set_online(false, 0.0).unwrap();
    log.one("restore damaged", fresh.restore_queue(stored, 130.0));
    log.all("pending after", fresh.pending());
    let got = log.0.join("\n");
    assert_eq!(got, QUEUE_SHAPES.trim(), "\n{got}\n");
}

const QUEUE_SHAPES: &str = r##"
offline: []
queued: [1,{"type":"saveQueue"}]
saved: [{"type":"reject","id":1,"error":{"kind":"offline","message":"网络不可用，已保存，联网后将自动提交","detail":"the device is offline (network type 'none')","code":null,"statusCode":null,"retryable":true,"attempts":0,"route":"http","queued":true,"queueId":1}},{"type":"end","id":1}]
pending: [{"id":1,"method":"POST","path":"/api/order/create","header":{"X-Trace":"t"},"dataJson":"{\"n\":1}","idempotencyKey":"51307108ad417eea34dd088ba39783d0","queuedAt":5,"attempts":0}]
queued again: [2,{"type":"saveQueue"}]
not saved: [{"type":"reject","id":2,"error":{"kind":"offline","message":"网络不可用，请检查网络设置","detail":"the device is offline (network type 'none'); not queued: the offline queue could not be saved (setStorageSync:fail exceed the max size)","code":null,"statusCode":null,"retryable":true,"attempts":0,"route":"http"},"logPattern":"/api/order/create"},{"type":"end","id":2}]
snapshot: {"format":"mp-request/queue","version":1,"policy":1,"items":[{"id":1,"method":"POST","path":"/api/order/create","header":{"X-Trace":"t"},"dataJson":"{\"n\":1}","idempotencyKey":"51307108ad417eea34dd088ba39783d0","queuedAt":5,"attempts":0}]}
restore: {"restored":1,"damaged":[],"commands":[{"type":"replay","id":1,"mutation":1,"method":"POST","path":"/api/order/create","header":{"X-Trace":"t"},"dataJson":"{\"n\":1}"},{"type":"send","id":1,"route":"http","reason":"no env configured, using baseUrl","method":"POST","attempt":1,"timeoutMs":10000,"url":"http://127.0.0.1:9/api/order/create","path":"/api/order/create","header":{"X-Trace":"t","Idempotency-Key":"51307108ad417eea34dd088ba39783d0"},"body":"{\"n\":1}","guardMs":11000}]}
synced: [{"type":"end","id":1},{"type":"synced","mutation":{"id":1,"method":"POST","path":"/api/order/create","header":{"X-Trace":"t"},"dataJson":"{\"n\":1}","idempotencyKey":"51307108ad417eea34dd088ba39783d0","queuedAt":5,"attempts":0},"ok":true,"value":{"statusCode":200,"data":{}}},{"type":"saveQueue"},{"type":"waitReplay","delayMs":0}]
restore other: {"restored":0,"discarded":"another version of the format","damaged":[],"commands":[]}
drop pending: [1,{"type":"synced","mutation":{"id":2,"method":"POST","path":"/api/order/create","header":{},"idempotencyKey":"dcdc24abc4aa1657105ec5abbf329b43","user":"u1","queuedAt":131,"attempts":0},"ok":false,"error":{"kind":"cancelled","message":"请求已取消","detail":"dropped from the offline queue by client.dropPending()","code":null,"statusCode":null,"retryable":false,"attempts":0,"route":null}},{"type":"saveQueue"},{"type":"waitReplay","delayMs":0}]
asks: [1,{"type":"headers","id":1,"attempt":1,"delayMs":30000}]
headers: [{"type":"send","id":1,"route":"http","reason":"no env configured, using baseUrl","method":"GET","attempt":1,"timeoutMs":10000,"url":"http://127.0.0.1:9/api/x","path":"/api/x","header":{"Authorization":"Bearer t"},"guardMs":11000}]
restore damaged: {"restored":1,"damaged":[{"mutation":{"id":4,"method":"PUT","path":"/api/order/7","header":{"X-Trace":"t"},"idempotencyKey":"k-1","queuedAt":5,"attempts":0},"error":{"kind":"invalid","message":"请求参数无效：`items[0].dataJson` in the stored offline queue is not JSON; the item was dropped","detail":"`items[0].dataJson` in the stored offline queue is not JSON; the item was dropped","code":null,"statusCode":null,"retryable":false,"attempts":0,"route":null}}],"commands":[{"type":"saveQueue"}]}
pending after: [{"id":5,"method":"PUT","path":"/api/order/7","header":{},"dataJson":"{}","idempotencyKey":"k-1","queuedAt":5,"attempts":0}]
"##;

#[wasm_bindgen_test]
fn socket_commands_and_events_keep_their_shapes() {
    let mut log = Log::default();
    let options = object(&[("env", "prod-1".into()), ("service", "svc".into())]);
    let e = Engine::new(options, platform(5), JsValue::UNDEFINED).unwrap();
    let opened = log.one("open", e.socket_open(object(&[("acked", true.into())])));
    let id = Reflect::get(&opened, &"id".into())
        .unwrap()
        .as_f64()
        .unwrap() as u32;
    let config: Vec<f64> = Array::from(&Reflect::get(&opened, &"config".into()).unwrap())
        .iter()
        .map(|n| n.as_f64().unwrap())
        .collect();
    let s = Sockets::new(5.0, &e.locale());
    log.all("start", s.start(id, &config, 0.0));
    let payload = e.socket_payload(object(&[("hi", 1.into())]), true).unwrap();
    log.0.push(format!("payload: {payload}"));
    log.all("send queued", s.send(id, &payload));
    log.all("opened", s.opened(id, 1, 10.0));
    log.all(
        "message",
        s.message(id, 1, Some("{\"ack\":1}".into()), 20.0),
    );
    // A frame the shim kept (large or binary): delivered as it holds it.
    log.all("frame", s.message(id, 1, None, 20.0));
    // Frames a service pushes to the library: handed to the request engine, or ignored.
    let pushed = r#"{"$mp":1,"type":"invalidate","paths":["/api/a"],"tags":["t"]}"#;
    log.all("pushed", s.message(id, 1, Some(pushed.into()), 20.0));
    log.all(
        "pushed unknown",
        s.message(id, 1, Some(r#"{"$mp":2}"#.into()), 20.0),
    );
    log.all("invalidatePushed", e.invalidate_pushed("/api/a\n#t".into()));
    log.err(
        "invalidatePushed bad",
        e.invalidate_pushed(JsValue::from_f64(1.0)),
    );
    e.frame_ignored().unwrap();
    log.all("socketOpened", e.socket_opened());
    log.one("cacheStats", e.cache_stats());
    log.all("timer", s.timer(id, 10_020.0));
    e.socket_failure(id, "boom".into(), JsValue::UNDEFINED)
        .unwrap();
    log.all("error", s.on_error(id, 1, "boom".into(), 10_030.0));
    log.all("closed", s.closed(id, 1, 1006.0, "gone".into(), 10_040.0));
    log.all("hidden", s.set_hidden(true, 10_050.0));
    log.all("shown", s.set_hidden(false, 10_060.0));
    log.all("offline", s.set_online(false, 10_070.0));
    // A refusal from an older task, acked mode: the frame is still unacked; nothing to do.
    log.all(
        "send failed",
        s.send_failed(
            id,
            1,
            1.0,
            "{\"type\":\"msg\",\"id\":1,\"data\":{\"hi\":1}}".into(),
            "sendSocketMessage:fail WebSocket is not connected".into(),
            10_075.0,
        ),
    );
    log.err("payload bad", e.socket_payload(JsValue::UNDEFINED, false));
    log.err("start bad", s.start(9, &[1.0, 2.0], 10_076.0));
    log.0
        .push(format!("release: {}", e.socket_release(id).unwrap()));
    log.all("close", s.close(id));
    log.0.push(format!("state: {}", s.state(id).unwrap()));
    let got = log.0.join("\n");
    assert_eq!(got, SOCKET_SHAPES.trim(), "\n{got}\n");
}

const REQUEST_SHAPES: &str = r##"
cloudConfig: {"env":"prod-1","service":"svc","resourceAppid":null,"resourceEnv":null}
start cloud: [1,{"type":"init","attempt":1,"timeoutMs":5000},{"type":"wait","id":1,"delayMs":30000}]
init failed: [{"type":"waitInit","delayMs":300}]
init timer: [{"type":"init","attempt":2,"timeoutMs":5000}]
init ok: [{"type":"send","id":1,"route":"cloud","reason":"env configured and wx.cloud available","method":"GET","attempt":1,"timeoutMs":10000,"path":"/api/home/init","guardMs":11000}]
failure: [{"type":"wait","id":1,"delayMs":34}]
timer: [{"type":"send","id":1,"route":"cloud","reason":"env configured and wx.cloud available","method":"GET","attempt":2,"timeoutMs":10000,"path":"/api/home/init","guardMs":11000}]
stored: [{"type":"resolve","id":1,"route":"cloud","reason":"env configured and wx.cloud available","attempts":2,"elapsedMs":410,"fromCache":false,"stale":false,"value":{"statusCode":200,"data":{"n":1}}},{"type":"end","id":1},{"type":"persist","delayMs":1000}]
hit: [2,{"type":"resolve","id":2,"route":"cloud","reason":"env configured and wx.cloud available","attempts":0,"elapsedMs":0,"fromCache":true,"stale":false,"value":{"statusCode":200,"data":{"n":1}}},{"type":"end","id":2}]
start clamped: [3,{"type":"send","id":3,"route":"cloud","reason":"env configured and wx.cloud available","method":"GET","attempt":1,"timeoutMs":15000,"clampedFrom":20000,"path":"/api/slow","guardMs":16000}]
503: [{"type":"wait","id":3,"delayMs":1000}]
retry after: [{"type":"send","id":3,"route":"cloud","reason":"env configured and wx.cloud available","method":"GET","attempt":2,"timeoutMs":15000,"clampedFrom":20000,"path":"/api/slow","guardMs":16000}]
503 again: [{"type":"reject","id":3,"error":{"kind":"service","message":"服务暂时不可用，请稍后重试","detail":"HTTP 503; gave up after 2 attempts","code":null,"statusCode":503,"retryable":true,"attempts":2,"route":"cloud"},"logPattern":"/api/slow"},{"type":"end","id":3}]
cancel: [{"type":"reject","id":4,"error":{"kind":"cancelled","message":"请求已取消","detail":"cancelled by the caller","code":null,"statusCode":null,"retryable":false,"attempts":1,"route":"cloud"}},{"type":"abort","id":4},{"type":"end","id":4}]
start http: [5,{"type":"send","id":5,"route":"http","reason":"route: 'http' requested","method":"GET","attempt":1,"timeoutMs":10000,"url":"http://127.0.0.1:9/api/x?b=2","path":"/api/x?b=2","guardMs":11000}]
start mock: [6,{"type":"send","id":6,"route":"mock","reason":"route: 'mock' requested","method":"GET","attempt":1,"timeoutMs":10000,"mock":{"index":0,"params":{"id":"42"}},"path":"/api/order/42","guardMs":11000}]
bad path: {"kind":"invalid","message":"请求参数无效：`path` must be a string, got number","detail":"`path` must be a string, got number","code":null,"statusCode":null,"retryable":false,"attempts":0,"route":null}
bad user: {"kind":"invalid","message":"请求参数无效：`user` must be a non-empty string or null, got number","detail":"`user` must be a non-empty string or null, got number","code":null,"statusCode":null,"retryable":false,"attempts":0,"route":null}
bad client: {"kind":"invalid","message":"请求参数无效：`options` has an unknown option \"nope\"; known: env, service, resourceAppid, resourceEnv, cloud, baseUrl, mode, mock, retry, retryBudget, breaker, maxConcurrent, offlineQueue, cache, stats, timeoutMs, locale, seed, wasmPath, debug, onSync, header, report, realtimeLog","detail":"`options` has an unknown option \"nope\"; known: env, service, resourceAppid, resourceEnv, cloud, baseUrl, mode, mock, retry, retryBudget, breaker, maxConcurrent, offlineQueue, cache, stats, timeoutMs, locale, seed, wasmPath, debug, onSync, header, report, realtimeLog","code":null,"statusCode":null,"retryable":false,"attempts":0,"route":null}
cacheStats: {"entries":1,"bytes":97,"hits":1,"misses":1,"evictions":0,"staleServes":0,"revalidations":0,"pushedInvalidations":0,"ignoredFrames":0}
snapshot: {"format":"mp-request/cache","version":1,"policy":1,"savedAt":2000,"user":"o-user","entries":[{"key":"6:o-user5:cloud3:GET14:/api/home/init0:0:","path":"/api/home/init","scope":"o-user","tags":["home"],"freshUntil":60410,"staleUntil":60410,"size":97,"value":{"statusCode":200,"data":{"n":1}}}]}
restore: {"restored":1}
restore other: {"restored":0,"discarded":"another format (not written by mp-request)"}
stats: {"total":{"requests":4,"failed":2,"errors":{"cancelled":1,"service":1},"retries":2,"cacheHits":1,"hitRatio":0.25,"revalidated":0,"inFlight":2,"latency":{"count":3,"meanMs":471,"p50Ms":416,"p95Ms":1002,"p99Ms":1002,"maxMs":1002,"buckets":[[1.125,1],[416,1],[1002,1]]}},"rows":[{"route":"cloud","pattern":"/api/home/init","requests":2,"failed":0,"errors":{},"retries":1,"cacheHits":1,"hitRatio":0.5,"revalidated":0,"inFlight":0,"latency":{"count":1,"meanMs":410,"p50Ms":410,"p95Ms":410,"p99Ms":410,"maxMs":410,"buckets":[[410,1]]}},{"route":"cloud","pattern":"/api/c","requests":1,"failed":1,"errors":{"cancelled":1},"retries":0,"cacheHits":0,"hitRatio":0,"revalidated":0,"inFlight":0,"latency":{"count":1,"meanMs":1,"p50Ms":1,"p95Ms":1,"p99Ms":1,"maxMs":1,"buckets":[[1,1]]}},{"route":"cloud","pattern":"/api/slow","requests":1,"failed":1,"errors":{"service":1},"retries":1,"cacheHits":0,"hitRatio":0,"revalidated":0,"inFlight":0,"latency":{"count":1,"meanMs":1002,"p50Ms":1002,"p95Ms":1002,"p99Ms":1002,"maxMs":1002,"buckets":[[1002,1]]}},{"route":"mock","pattern":"/api/order/:id","requests":0,"failed":0,"errors":{},"retries":0,"cacheHits":0,"hitRatio":0,"revalidated":0,"inFlight":1,"latency":{"count":0,"meanMs":0,"p50Ms":0,"p95Ms":0,"p99Ms":0,"maxMs":0,"buckets":[]}},{"route":"http","pattern":"/api/x","requests":0,"failed":0,"errors":{},"retries":0,"cacheHits":0,"hitRatio":0,"revalidated":0,"inFlight":1,"latency":{"count":0,"meanMs":0,"p50Ms":0,"p95Ms":0,"p99Ms":0,"maxMs":0,"buckets":[]}}],"folded":0,"services":[{"route":"cloud","breaker":{"state":"closed","calls":4,"failures":3,"retryInMs":0,"opened":0},"budget":{"tokens":495,"capacity":500},"inFlight":0,"queued":0},{"route":"http","breaker":{"state":"closed","calls":0,"failures":0,"retryInMs":0,"opened":0},"budget":{"tokens":500,"capacity":500},"inFlight":1,"queued":0}]}
"##;

const CLOUD_SHAPES: &str = r##"
socket first: [{"type":"init","attempt":1,"timeoutMs":5000}]
socket joins: []
init failed: [{"type":"waitInit","delayMs":300}]
init timer: [{"type":"init","attempt":2,"timeoutMs":5000}]
init ok: [{"type":"cloudReady"}]
socket ready: [{"type":"cloudReady"}]
init failed for good: [{"type":"cloudFailed","error":{"kind":"init","message":"云服务初始化失败，请稍后重试","detail":"cloud.init:fail Cloud API isn't enabled; wx.cloud init failed 4 times, the next request tries again","code":-601034,"statusCode":null,"retryable":false,"attempts":0,"route":null}}]
given cloudConfig: {"env":null,"service":"svc","resourceAppid":null,"resourceEnv":null}
given start: [1,{"type":"send","id":1,"route":"cloud","reason":"the app's cloud instance","method":"GET","attempt":1,"timeoutMs":10000,"path":"/api/x","guardMs":11000}]
given socket: [{"type":"cloudReady"}]
given no instance: {"kind":"invalid","message":"请求参数无效：`cloud.callContainer` must be a function, got undefined: pass a wx.cloud.Cloud instance (or wx.cloud)","detail":"`cloud.callContainer` must be a function, got undefined: pass a wx.cloud.Cloud instance (or wx.cloud)","code":null,"statusCode":null,"retryable":false,"attempts":0,"route":null}
"##;

const SOCKET_SHAPES: &str = r##"
open: {"id":1,"shared":false,"route":"cloud","reason":"connectContainer","service":"ws","path":"/","acked":true,"config":[1000,10000,1.5,null,10000,5000,null,10000,25000,1000,1048576,1]}
start: [{"type":"connect","socket":1,"epoch":1},{"type":"event","socket":1,"event":{"name":"state","state":"connecting"}},{"type":"timer","socket":1,"atMs":10000}]
payload: {"hi":1}
send queued: []
opened: [{"type":"transmit","socket":1,"epoch":1,"seq":1,"text":"{\"type\":\"msg\",\"id\":1,\"data\":{\"hi\":1}}"},{"type":"event","socket":1,"event":{"name":"open"}},{"type":"event","socket":1,"event":{"name":"state","state":"open"}},{"type":"timer","socket":1,"atMs":10010}]
message: [{"type":"deliver","socket":1}]
frame: [{"type":"deliver","socket":1}]
pushed: [{"type":"invalidate","socket":1,"names":"/api/a\n#t"}]
pushed unknown: [{"type":"ignored","socket":1,"detail":"another version than 1"}]
invalidatePushed: [0]
invalidatePushed bad: {"kind":"invalid","message":"请求参数无效：`invalidation` takes 1 to 64 lines, each a path prefix starting with '/' or '#' and a tag","detail":"`invalidation` takes 1 to 64 lines, each a path prefix starting with '/' or '#' and a tag","code":null,"statusCode":null,"retryable":false,"attempts":0,"route":null}
socketOpened: []
cacheStats: {"entries":0,"bytes":0,"hits":0,"misses":0,"evictions":0,"staleServes":0,"revalidations":0,"pushedInvalidations":1,"ignoredFrames":1}
timer: [{"type":"transmit","socket":1,"epoch":1,"seq":0,"text":"{\"type\":\"ping\",\"t\":10020}"},{"type":"timer","socket":1,"atMs":20020}]
error: [{"type":"event","socket":1,"event":{"name":"error","detail":"boom"}},{"type":"closeTask","socket":1,"epoch":1,"code":4000,"reason":"error"},{"type":"event","socket":1,"event":{"name":"close","code":1006,"reason":"boom","reconnecting":true}},{"type":"event","socket":1,"event":{"name":"reconnecting","attempt":1,"delayMs":1000}},{"type":"event","socket":1,"event":{"name":"state","state":"reconnecting"}},{"type":"timer","socket":1,"atMs":11030}]
closed: []
hidden: [{"type":"event","socket":1,"event":{"name":"state","state":"paused"}}]
shown: [{"type":"connect","socket":1,"epoch":3},{"type":"event","socket":1,"event":{"name":"state","state":"connecting"}},{"type":"timer","socket":1,"atMs":20060}]
offline: []
send failed: []
payload bad: {"kind":"invalid","message":"请求参数无效：`send` needs a string or JSON data, got undefined","detail":"`send` needs a string or JSON data, got undefined","code":null,"statusCode":null,"retryable":false,"attempts":0,"route":null}
start bad: {"kind":"invalid","message":"请求参数无效：`socket` settings must be the request engine's 12 numbers","detail":"`socket` settings must be the request engine's 12 numbers","code":null,"statusCode":null,"retryable":false,"attempts":0,"route":null}
release: true
close: [{"type":"closeTask","socket":1,"epoch":3,"code":1000,"reason":"closed by the caller"},{"type":"event","socket":1,"event":{"name":"error","detail":"closed by the caller; 1 message(s) were not sent","unsent":["{\"hi\":1}"]}},{"type":"event","socket":1,"event":{"name":"close","code":1000,"reason":"closed by the caller; 1 message(s) were not sent","reconnecting":false}},{"type":"event","socket":1,"event":{"name":"state","state":"closed"}}]
state: closed
"##;
