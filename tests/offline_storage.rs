//! The offline queue as wx storage holds it: the bytes it takes as stored
//! (checked against a reference `JSON.stringify` written here), its bound in
//! those bytes, and the check of every stored field on restore.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::borrow::Cow;

use mp_request::core::cache::json::is_json;
use mp_request::core::config::RawConfig;
use mp_request::core::engine::Command;
use mp_request::core::error::ErrorKind;
use mp_request::core::offline::{
    check_stored, json_string_bytes, number_bytes, stored_bytes, Mutation, Queue, QueueLimits,
    Refused, StoredItem, MAX_MAX_BYTES, QUEUE_FORMAT, QUEUE_VERSION, STORAGE_KEY_BYTES, UNREADABLE,
};
use mp_request::core::request::{Method, RawRequest};
use mp_request::core::POLICY_VERSION;
use proptest::prelude::*;
use support::*;

// ---- A reference serialisation, as JSON.stringify writes it ----

/// `JSON.stringify(text)` (ECMA-262 QuoteJSONString; a Rust string has no
/// lone surrogates, so nothing else is escaped).
fn js_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `JSON.stringify(value)` for a number: ECMA-262 Number::toString from the
/// shortest round-trip digits (which Rust's `{:e}` also gives).
fn js_number(value: f64) -> String {
    if !value.is_finite() {
        return "null".into();
    }
    if value == 0.0 {
        return "0".into();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let exp = format!("{:e}", value.abs());
    let (mantissa, e) = exp.split_once('e').unwrap();
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = e.parse::<i32>().unwrap() + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let rest = if k > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let e = n - 1;
        let e_sign = if e >= 0 { "+" } else { "-" };
        format!("{}{rest}e{e_sign}{}", &digits[..1], e.abs())
    };
    format!("{sign}{body}")
}

/// `JSON.stringify(mutation_object(m))`: the keys in the order the boundary writes them.
fn js_mutation(m: &Mutation) -> String {
    let header: Vec<String> = m
        .headers
        .iter()
        .map(|(n, v)| format!("{}:{}", js_string(n), js_string(v)))
        .collect();
    let mut out = format!(
        "{{\"id\":{},\"method\":{},\"path\":{},\"header\":{{{}}}",
        m.id,
        js_string(m.method.as_str()),
        js_string(&m.path),
        header.join(",")
    );
    if let Some(d) = &m.data_json {
        out += &format!(",\"dataJson\":{}", js_string(d));
    }
    out += &format!(",\"idempotencyKey\":{}", js_string(&m.idempotency_key));
    if let Some(u) = &m.user {
        out += &format!(",\"user\":{}", js_string(u));
    }
    out += &format!(
        ",\"queuedAt\":{},\"attempts\":{}}}",
        js_number(m.queued_at),
        m.attempts
    );
    out
}

/// `JSON.stringify(queue_snapshot(..))`: what `setStorageSync` writes.
fn js_queue(q: &Queue) -> String {
    let items: Vec<String> = q.iter().map(js_mutation).collect();
    format!(
        "{{\"format\":{},\"version\":{QUEUE_VERSION},\"policy\":{POLICY_VERSION},\"items\":[{}]}}",
        js_string(QUEUE_FORMAT),
        items.join(",")
    )
}

// ---- Strategies ----

/// Text full of what JSON escapes, and of multi-byte characters.
fn text(max: usize) -> impl Strategy<Value = String> {
    let c = prop_oneof![
        3 => any::<char>(),
        2 => prop::sample::select(vec![
            '"', '\\', '\n', '\r', '\t', '\u{8}', '\u{c}', '\u{0}', '\u{1f}', '\u{7f}',
            '/', '\u{2028}', '\u{fffd}', '网', '😀', 'a', '\u{80}',
        ]),
    ];
    prop::collection::vec(c, 0..max).prop_map(String::from_iter)
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u64..4_000_000_000_000).prop_map(|n| n as f64),
        any::<f64>(),
        prop::sample::select(vec![
            0.0,
            -0.0,
            1e15,
            1e21,
            123456789012345680000.0,
            1.2345678901234567e-6,
            -1.2345678901234567e-6,
            -1.2345678901234567e-7,
            5e-324,
            f64::MAX,
            0.1,
            f64::NAN,
            f64::INFINITY,
        ]),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (
        (
            any::<u32>(),
            prop::sample::select(vec![
                Method::Post,
                Method::Put,
                Method::Delete,
                Method::Patch,
            ]),
            text(40),
            prop::collection::vec((text(8), text(16)), 0..4),
            prop::option::of(text(200)),
        ),
        (text(40), prop::option::of(text(12)), number(), any::<u32>()),
    )
        .prop_map(
            |((id, method, path, headers, data_json), (key, user, queued_at, attempts))| Mutation {
                id,
                method,
                path,
                headers,
                data_json,
                idempotency_key: key,
                user,
                queued_at,
                attempts,
            },
        )
}

fn digits(n: u32) -> usize {
    n.to_string().len()
}

proptest! {
    #[test]
    fn strings_count_exactly_as_json_stringify_writes_them(s in text(300)) {
        prop_assert_eq!(json_string_bytes(&s), js_string(&s).len());
    }

    #[test]
    fn numbers_never_count_below_what_json_writes(v in number()) {
        let written = js_number(v).len();
        prop_assert!(number_bytes(v) >= written, "{v:e}: {} < {written}", number_bytes(v));
        if v.fract() == 0.0 && (0.0..1e15).contains(&v) {
            prop_assert_eq!(number_bytes(v), written);
        }
    }

    #[test]
    fn a_mutation_counts_its_stored_bytes_never_fewer_and_strings_exactly(m in mutation()) {
        let written = js_mutation(&m).len();
        let size = m.size();
        prop_assert!(size >= written, "{size} < {written}: {}", js_mutation(&m));
        // The slack is in the two numbers only: strings and keys count exactly.
        let number_slack = (number_bytes(m.queued_at) - js_number(m.queued_at).len())
            + (10 - digits(m.attempts));
        prop_assert_eq!(size - written, number_slack);
    }

    #[test]
    fn the_bound_holds_in_bytes_as_stored(
        max_bytes in prop_oneof![1024u32..8192, 1024u32..=MAX_MAX_BYTES],
        max_items in 1u32..60,
        items in prop::collection::vec(mutation(), 1..60),
    ) {
        let limits = QueueLimits { max_items, max_bytes };
        let mut q = Queue::new(limits);
        for m in items {
            match q.push(m) {
                Ok(_) => {}
                Err(Refused::Full) => prop_assert_eq!(q.len(), max_items as usize),
                Err(Refused::TooLarge) => {}
            }
            let written = js_queue(&q).len();
            prop_assert!(written <= max_bytes as usize, "{written} > {max_bytes}");
            prop_assert!(q.stored_bytes() >= written);
            prop_assert!(written <= STORAGE_KEY_BYTES);
        }
    }

    #[test]
    fn is_json_accepts_what_json_writes_and_no_prefix_of_it(
        value in text(30),
        depth in 0usize..50,
        cut in 0usize..1000,
    ) {
        let doc = format!(
            "{}{{\"k\":{},\"n\":[-1.5e-7,0,true,null,{{}}]}}{}",
            "[".repeat(depth),
            js_string(&value),
            "]".repeat(depth)
        );
        prop_assert!(is_json(&doc));
        let cut = cut % doc.len();
        if let Some(prefix) = doc.get(..cut) {
            prop_assert!(!is_json(prefix), "{prefix:?}");
        }
    }
}

// ---- The bound ----

/// A mutation whose body is full of what JSON escapes twice (once in
/// `dataJson`, once more when the queue is stored).
fn escaping(body_bytes: usize) -> Mutation {
    let unit = "\"\\\n\u{1}网";
    let data = js_string(&unit.repeat(body_bytes / js_string(unit).len()));
    Mutation {
        id: 0,
        method: Method::Post,
        path: "/api/order/create".into(),
        headers: vec![("X-Trace".into(), "t1".into())],
        data_json: Some(data),
        idempotency_key: "k".repeat(32),
        user: Some("u1".into()),
        queued_at: 1_765_000_000_000.0,
        attempts: 0,
    }
}

#[test]
fn the_largest_bound_never_writes_more_than_one_key_holds() {
    let mut q = Queue::new(QueueLimits {
        max_items: 1000,
        max_bytes: MAX_MAX_BYTES,
    });
    // Bodies just under callContainer's 100 KB: each takes about twice that stored.
    while q.push(escaping(99 * 1024)).is_ok() {}
    let written = js_queue(&q).len();
    assert!(q.len() >= 4, "{}", q.len());
    assert!(written <= MAX_MAX_BYTES as usize, "{written}");
    assert!(written < STORAGE_KEY_BYTES);
    // Small ones fill what is left, still within the bound.
    while q.push(escaping(100)).is_ok() {}
    let written = js_queue(&q).len();
    assert!(written <= MAX_MAX_BYTES as usize && written + 4000 > MAX_MAX_BYTES as usize);
    assert!(q.stored_bytes() >= written);
    // The old estimate (the body's own bytes) would have taken about twice as much.
    let body: usize = q.iter().map(|m| m.data_json.as_ref().unwrap().len()).sum();
    assert!(written > body * 5 / 4, "{written} vs {body}");
}

#[test]
fn sizes_do_not_drift_while_attempts_grow() {
    let mut q = Queue::new(QueueLimits::default());
    let empty = q.stored_bytes();
    assert_eq!(empty, js_queue(&q).len());
    assert_eq!(empty, stored_bytes(0, 0));
    let id = q.push(escaping(300)).unwrap();
    let two = q.push(escaping(300)).unwrap();
    q.get_mut(id).unwrap().attempts = u32::MAX;
    assert!(q.stored_bytes() >= js_queue(&q).len());
    q.remove(id);
    q.remove(two);
    assert_eq!(q.stored_bytes(), empty);
}

#[test]
fn restore_uses_the_same_measure() {
    let items: Vec<Mutation> = (1..=12)
        .map(|id| Mutation {
            id,
            ..escaping(99 * 1024)
        })
        .collect();
    let mut q = Queue::new(QueueLimits {
        max_items: 100,
        max_bytes: MAX_MAX_BYTES,
    });
    let dropped = q.restore(items);
    assert!(dropped >= 3, "{dropped}");
    assert!(js_queue(&q).len() <= MAX_MAX_BYTES as usize);
}

#[test]
fn an_engine_whose_queue_is_full_in_bytes_says_so() {
    let mut e = engine(
        RawConfig {
            base_url: Some("https://api.example.com".into()),
            offline_queue_max_bytes: Some(2048.0),
            ..RawConfig::default()
        },
        7,
    );
    e.set_online(false, 0.0);
    let queued = |data: &str| RawRequest {
        offline: Some("queue".into()),
        data_json: Some(data.into()),
        ..post("/api/order/create")
    };
    let body = js_string(&"\"".repeat(400));
    let mut notes = Vec::new();
    for _ in 0..3 {
        let (_, commands) = e.start(queued(&body), 1.0).unwrap();
        let commands = saved(&mut e, commands, 1.0);
        let Some(Command::Reject(settled, err)) =
            commands.iter().find(|c| matches!(c, Command::Reject(..)))
        else {
            panic!("{commands:?}")
        };
        assert_eq!(err.kind(), ErrorKind::Offline);
        notes.push((settled.queued, settled.note.clone()));
    }
    // 400 quotes: 802 bytes of dataJson, 1604 as stored: one fits in 2048, not two.
    assert_eq!(notes[0], (Some(1), String::new()));
    assert_eq!(
        notes[1],
        (
            None,
            "not queued: the offline queue is full (with it, it would take more than its 2048 bytes in storage)".into()
        )
    );
}

// ---- Stored items ----

fn good() -> StoredItem {
    StoredItem {
        id: Some(3.0),
        method: Some("POST".into()),
        path: Some("/api/order/create?x=1".into()),
        headers: vec![("X-Trace".into(), "t1".into())],
        data_json: Some(r#"{"title":"洗衣"}"#.into()),
        idempotency_key: Some("k".repeat(32)),
        user: Some("u1".into()),
        queued_at: Some(1_765_000_000_000.0),
        attempts: Some(2.0),
        wrong: vec![],
    }
}

/// The detail of the damage `item` (at index 2) has, or "" when it passes.
fn damage(item: StoredItem) -> String {
    match item.check(2, &[]) {
        Ok(_) => String::new(),
        Err(d) => {
            assert_eq!(d.index, 2);
            assert_eq!(d.error.kind(), ErrorKind::Invalid);
            assert_eq!(d.mutation.data_json, None, "no data for a damaged item");
            d.error.to_string()
        }
    }
}

fn wrong(field: &'static str, found: &str) -> Vec<(Cow<'static, str>, String)> {
    vec![(Cow::Borrowed(field), found.into())]
}

#[test]
fn a_good_item_is_restored_as_it_was() {
    let m = good().check(0, &[]).unwrap();
    assert_eq!(
        m,
        Mutation {
            id: 3,
            method: Method::Post,
            path: "/api/order/create?x=1".into(),
            headers: vec![("X-Trace".into(), "t1".into())],
            data_json: Some(r#"{"title":"洗衣"}"#.into()),
            idempotency_key: "k".repeat(32),
            user: Some("u1".into()),
            queued_at: 1_765_000_000_000.0,
            attempts: 2,
        }
    );
    let lower = StoredItem {
        method: Some("patch".into()),
        user: None,
        data_json: None,
        attempts: Some(0.0),
        queued_at: Some(0.5),
        ..good()
    };
    let m = lower.check(0, &[]).unwrap();
    assert_eq!((m.method, m.user, m.data_json), (Method::Patch, None, None));
}

#[test]
fn the_detail_names_the_item_and_the_field() {
    assert_eq!(
        damage(StoredItem {
            data_json: Some("{\"title\":".into()),
            ..good()
        }),
        "`items[2].dataJson` in the stored offline queue is not JSON; the item was dropped"
    );
}

#[test]
fn id_is_a_whole_number_from_1_that_fits_u32_and_is_not_a_duplicate() {
    for (id, detail) in [
        (None, "`items[2].id` in the stored offline queue is missing"),
        (Some(0.0), "`items[2].id` in the stored offline queue must be a whole number from 1 to 4294967295, got 0"),
        (Some(1.5), "must be a whole number from 1 to 4294967295, got 1.5"),
        (Some(-1.0), "got -1"),
        (Some(4294967296.0), "got 4294967296"),
        (Some(f64::NAN), "got NaN"),
    ] {
        let got = damage(StoredItem { id, ..good() });
        assert!(got.contains(detail), "{got}");
    }
    assert_eq!(
        damage(StoredItem {
            id: Some(4294967295.0),
            ..good()
        }),
        ""
    );
    let earlier = good().check(0, &[]).unwrap();
    let dup = good().check(1, &[earlier]).unwrap_err();
    assert_eq!(
        dup.error.to_string(),
        "`items[1].id` in the stored offline queue is the id of an earlier item; the item was dropped"
    );
}

#[test]
fn method_is_a_mutation() {
    for (method, detail) in [
        (None, "`items[2].method` in the stored offline queue is missing"),
        (Some("FETCH"), "`items[2].method` in the stored offline queue is not one of POST, PUT, DELETE, PATCH, got \"FETCH\""),
        (Some("GET"), "got \"GET\""),
        (Some("options"), "got \"options\""),
        (Some(""), "got \"\""),
    ] {
        let got = damage(StoredItem { method: method.map(Into::into), ..good() });
        assert!(got.contains(detail), "{got}");
    }
    for method in ["POST", "PUT", "DELETE", "PATCH", "delete"] {
        assert_eq!(
            damage(StoredItem {
                method: Some(method.into()),
                ..good()
            }),
            ""
        );
    }
}

#[test]
fn path_passes_the_request_rule() {
    for (path, detail) in [
        (
            None,
            "`items[2].path` in the stored offline queue is missing",
        ),
        (
            Some("api/x"),
            "`items[2].path` in the stored offline queue must be a string starting with '/'",
        ),
        (Some("//evil.example/x"), "must not start with '//'"),
        (Some("/a b"), "encode spaces"),
        (Some("/a#b"), "must not contain a fragment"),
    ] {
        let got = damage(StoredItem {
            path: path.map(Into::into),
            ..good()
        });
        assert!(got.contains(detail), "{got}");
    }
}

#[test]
fn headers_pass_the_request_rule() {
    let with = |name: &str, value: &str| StoredItem {
        headers: vec![("X-Ok".into(), "1".into()), (name.into(), value.into())],
        ..good()
    };
    let got = damage(with("Bad Name", "v"));
    assert!(
        got.starts_with(
            "`items[2].header` in the stored offline queue has an invalid name \"Bad Name\""
        ),
        "{got}"
    );
    let got = damage(with("X-Split", "a\r\nSet-Cookie: x"));
    assert!(
        got.starts_with(
            "`items[2].header.X-Split` in the stored offline queue must not contain CR, LF or NUL"
        ),
        "{got}"
    );
    let got = damage(StoredItem {
        wrong: wrong("header.X-Count", "number"),
        ..good()
    });
    assert_eq!(got, "`items[2].header.X-Count` in the stored offline queue is not a string, got number; the item was dropped");
    let got = damage(StoredItem {
        wrong: wrong("header", "undefined"),
        headers: vec![],
        ..good()
    });
    assert!(
        got.starts_with(
            "`items[2].header` in the stored offline queue is not an object, got undefined"
        ),
        "{got}"
    );
}

#[test]
fn credential_headers_are_left_out_silently_whatever_they_hold() {
    let item = StoredItem {
        headers: vec![
            ("Authorization".into(), "Bearer secret".into()),
            ("X-Trace".into(), "t1".into()),
            ("cookie".into(), "sid=1\r\n".into()),
            ("PROXY-AUTHORIZATION".into(), "Basic x".into()),
        ],
        wrong: wrong("header.Cookie", "number"),
        ..good()
    };
    let checked = check_stored(vec![item]);
    assert!(checked.damaged.is_empty(), "{:?}", checked.damaged);
    assert_eq!(checked.credentials_dropped, 3);
    assert_eq!(
        checked.items[0].headers,
        vec![("X-Trace".to_owned(), "t1".to_owned())]
    );
    assert_eq!(check_stored(vec![good()]).credentials_dropped, 0);
}

#[test]
fn data_json_if_present_is_json() {
    for bad in [
        "",
        "{",
        "undefined",
        "{'a':1}",
        "[1,]",
        "\"open",
        "NaN",
        "1 2",
    ] {
        let got = damage(StoredItem {
            data_json: Some(bad.into()),
            ..good()
        });
        assert!(
            got.contains("`items[2].dataJson` in the stored offline queue is not JSON"),
            "{bad:?}: {got}"
        );
    }
    for fine in [
        "null",
        "0",
        "\"s\"",
        "[]",
        "{\"a\":[{\"b\":\"\\u0000\\n\"}]}",
        " {} ",
    ] {
        assert_eq!(
            damage(StoredItem {
                data_json: Some(fine.into()),
                ..good()
            }),
            "",
            "{fine:?}"
        );
    }
    assert_eq!(
        damage(StoredItem {
            data_json: None,
            ..good()
        }),
        ""
    );
    let got = damage(StoredItem {
        data_json: None,
        wrong: wrong("dataJson", "object"),
        ..good()
    });
    assert!(
        got.contains("`items[2].dataJson` in the stored offline queue is not a string, got object"),
        "{got}"
    );
}

#[test]
fn idempotency_key_passes_the_request_rule() {
    for (key, detail) in [
        (None, "`items[2].idempotencyKey` in the stored offline queue is missing".to_owned()),
        (Some(String::new()), "`items[2].idempotencyKey` in the stored offline queue must be 1 to 255 visible ASCII characters".to_owned()),
        (Some("has space".into()), "must be 1 to 255 visible ASCII".into()),
        (Some("k".repeat(256)), "must be 1 to 255 visible ASCII".into()),
        (Some("键".into()), "must be 1 to 255 visible ASCII".into()),
    ] {
        let got = damage(StoredItem { idempotency_key: key, ..good() });
        assert!(got.contains(&detail), "{got}");
    }
    assert_eq!(
        damage(StoredItem {
            idempotency_key: Some("k".repeat(255)),
            ..good()
        }),
        ""
    );
}

#[test]
fn user_is_absent_null_or_a_non_empty_string() {
    assert_eq!(
        damage(StoredItem {
            user: None,
            ..good()
        }),
        ""
    );
    let got = damage(StoredItem {
        user: Some(String::new()),
        ..good()
    });
    assert!(
        got.starts_with("`items[2].user` in the stored offline queue is an empty string"),
        "{got}"
    );
    let got = damage(StoredItem {
        user: None,
        wrong: wrong("user", "number"),
        ..good()
    });
    assert!(
        got.starts_with(
            "`items[2].user` in the stored offline queue is not a string or null, got number"
        ),
        "{got}"
    );
}

#[test]
fn queued_at_is_finite_from_0_and_attempts_whole_from_0() {
    for (queued_at, detail) in [
        (
            None,
            "`items[2].queuedAt` in the stored offline queue is missing",
        ),
        (Some(-1.0), "must be a time from 0 on, got -1"),
        (Some(f64::NAN), "got NaN"),
        (Some(f64::INFINITY), "got Infinity"),
    ] {
        let got = damage(StoredItem {
            queued_at,
            ..good()
        });
        assert!(got.contains(detail), "{got}");
    }
    for (attempts, detail) in [
        (
            None,
            "`items[2].attempts` in the stored offline queue is missing",
        ),
        (
            Some(-1.0),
            "must be a whole number from 0 to 4294967295, got -1",
        ),
        (Some(0.5), "got 0.5"),
        (Some(4294967296.0), "got 4294967296"),
    ] {
        let got = damage(StoredItem { attempts, ..good() });
        assert!(got.contains(detail), "{got}");
    }
}

#[test]
fn wrong_types_and_unreadable_fields_are_damage() {
    let got = damage(StoredItem {
        id: None,
        wrong: wrong("id", "string"),
        ..good()
    });
    assert_eq!(got, "`items[2].id` in the stored offline queue is not a number, got string; the item was dropped");
    let got = damage(StoredItem {
        wrong: wrong("path", UNREADABLE),
        ..good()
    });
    assert_eq!(got, "`items[2].path` in the stored offline queue could not be read (its getter threw); the item was dropped");
    // The first problem in field order, whatever its sort.
    let got = damage(StoredItem {
        method: Some("FETCH".into()),
        headers: vec![],
        wrong: wrong("header", "undefined"),
        ..good()
    });
    assert!(got.starts_with("`items[2].method`"), "{got}");
    let got = damage(StoredItem {
        attempts: Some(-1.0),
        wrong: wrong("dataJson", "number"),
        data_json: None,
        ..good()
    });
    assert!(
        got.starts_with(
            "`items[2].dataJson` in the stored offline queue is not a string, got number"
        ),
        "{got}"
    );
    let got = damage(StoredItem {
        wrong: wrong("", "number"),
        ..StoredItem::default()
    });
    assert_eq!(
        got,
        "`items[2]` in the stored offline queue is not an object, got number; the item was dropped"
    );
}

#[test]
fn a_damaged_item_is_reported_with_what_could_be_read_and_the_others_are_restored() {
    let ids = |items: &[Mutation]| items.iter().map(|m| m.id).collect::<Vec<_>>();
    let stored = vec![
        StoredItem {
            id: Some(1.0),
            ..good()
        },
        StoredItem {
            id: Some(2.0),
            data_json: Some("not json".into()),
            method: Some("FETCH".into()),
            ..good()
        },
        StoredItem {
            id: Some(3.0),
            ..good()
        },
        StoredItem {
            id: Some(1.0),
            ..good()
        },
    ];
    let checked = check_stored(stored);
    assert_eq!(ids(&checked.items), [1, 3]);
    let damaged: Vec<(usize, u32)> = checked
        .damaged
        .iter()
        .map(|d| (d.index, d.mutation.id))
        .collect();
    assert_eq!(damaged, [(1, 2), (3, 1)]);
    let first = &checked.damaged[0];
    assert!(
        first.error.to_string().starts_with("`items[1].method`"),
        "the first problem: {}",
        first.error
    );
    assert_eq!(first.mutation.path, "/api/order/create?x=1");
    assert_eq!(first.mutation.data_json, None);

    // The engine restores the rest and replays them in order.
    let mut e = engine(
        RawConfig {
            base_url: Some("https://api.example.com".into()),
            ..RawConfig::default()
        },
        7,
    );
    let (dropped, commands) = e.restore_queue(checked.items, 0.0);
    assert_eq!(dropped, 0);
    assert!(
        !commands.iter().any(|c| matches!(c, Command::Replay(_))),
        "they were made by u1: nothing replays before u1 is the user"
    );
    e.set_user(Some("u1".into()), 1.0);
    let commands = e.on_replay_timer(1.0);
    assert!(commands
        .iter()
        .any(|c| matches!(c, Command::Replay(r) if r.mutation.id == 1)));
    assert_eq!(e.pending().map(|m| m.id).collect::<Vec<_>>(), [1, 3]);
}
