//! Fuzz-style property tests of the core's parsers and readers (issue 17):
//! hostile input to the JSON canonicaliser and the cache key, the stored
//! offline queue and cache entries as storage may give them back, path
//! patterns, the query encoder, request and client validation.
//!
//! proptest, not cargo-fuzz. cargo-fuzz would need the nightly toolchain, a
//! `cargo install cargo-fuzz` and libFuzzer (built from C++ by
//! `libfuzzer-sys`) on every machine that runs it, and its runs are
//! open-ended; these properties run on stable inside `cargo test` (so in CI
//! via `make test`), within a fixed budget, generate structured input (JSON
//! values that know their own text, patterns with paths that must match
//! them), and shrink a failure to a minimal input. `PROPTEST_CASES=100000`
//! runs them as long as a fuzzing session.
//!
//! Not covered natively: the wasm readers of what storage holds
//! (`src/wasm/persist.rs`: `read_queue`, `read_snapshot`) take `JsValue`s and
//! exist only for wasm32; they hand the core a `StoredItem` per queue item
//! and `(key, Entry)` per cache entry, which is where these tests start.
//!
//! What they found, fixed with unit tests of their own: the canonical form
//! reordered repeated JSON keys (so two different values could share a cache
//! key), and the offline queue handed out an id already in use after
//! restoring ids up to `u32::MAX`. Left as it is, on purpose: the
//! canonicaliser and the query encoder accept some text that is not JSON
//! (`-`, `01`, `"\x"`); they only ever see `JSON.stringify`'s output, and
//! the stored queue's `dataJson` is checked with `is_json` before use.
#![cfg(not(target_arch = "wasm32"))]
// std's stable sorts, not the core's heapsort: the expected answers are
// computed independently of the code under test (and tests ship no wasm).
#![allow(clippy::disallowed_methods)]

use mp_request::core::cache::json::{canonical, is_json};
use mp_request::core::cache::key::{cache_key, KeyParts};
use mp_request::core::cache::rules::{RawCacheConfig, RawInvalidation, RawRequestCache, RawRule};
use mp_request::core::cache::store::Entry;
use mp_request::core::config::{parse_sdk_version, Platform, RawConfig, RawMockRoute, RawRetry};
use mp_request::core::error::RequestError;
use mp_request::core::mock::{self, MockRoute};
use mp_request::core::offline::{
    is_credential, json_string_bytes, Mutation, Queue, QueueLimits, StoredItem, UNREADABLE,
};
use mp_request::core::pattern::Pattern;
use mp_request::core::query::{encode, with_query};
use mp_request::core::report::RawReport;
use mp_request::core::request::{
    as_sent, validate_header, validate_path, Body, IdempotencyKey, Method, RawRequest,
    MAX_TIMEOUT_MS,
};
use mp_request::core::resilience::{breaker::RawBreaker, budget::RawBudget};
use mp_request::core::retry::RetryPolicy;
use mp_request::core::route::Route;
use mp_request::core::stats::path_class::{PathClasses, MAX_PATTERN_CHARS};
use mp_request::Engine;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use std::borrow::Cow;

/// Cases per property: `PROPTEST_CASES`, else a number that keeps the whole
/// file to a few seconds in a debug build.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // A failure prints its minimal case; nothing is written next to the source.
        failure_persistence: None,
        // ChaCha, the default, is most of the time of a debug build here.
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Hostile inputs
// ---------------------------------------------------------------------------

/// Pieces that parsers trip over: separators, escapes, multi-byte text,
/// controls, bidi and zero-width characters.
const PIECES: &[&str] = &[
    "/",
    "//",
    "/",
    ":",
    ":id",
    "*",
    "%",
    "%2F",
    "%zz",
    "?",
    "&",
    "=",
    "#",
    "\\",
    "\"",
    "'",
    " ",
    "\t",
    "\r\n",
    "\0",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    ".",
    "..",
    "a",
    "Z",
    "0",
    "9",
    "_",
    "-",
    "é",
    "网络",
    "😀",
    "\u{fffd}",
    "\u{feff}",
    "\u{200b}",
    "\u{202e}",
    "\u{2028}",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\\u",
    "\\ud800",
    "\\udc00",
    "\\ud83d\\ude00",
    "\\\"",
    "true",
    "null",
    "-0",
    "1e",
    "1e999",
    "e+",
    "0x1",
];

/// Any string: arbitrary Unicode (proptest's default), or one assembled
/// from [`PIECES`], now and then repeated past every length limit.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        4 => proptest::collection::vec(proptest::sample::select(PIECES), 0..24)
            .prop_map(|p| p.concat()),
        1 => (proptest::collection::vec(proptest::sample::select(PIECES), 1..4), 500usize..3000)
            .prop_map(|(p, n)| p.concat().repeat(n)),
    ]
}

/// A path-like string: '/' first most of the time.
fn hostile_path() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => hostile(),
        3 => hostile().prop_map(|s| format!("/{s}")),
    ]
}

/// Numbers as JS may hand them over: NaN, ±Infinity, -0, huge, tiny, edges
/// of u32 and of the safe integers, fractions, and anything at all.
fn hostile_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        proptest::sample::select(vec![
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            f64::EPSILON,
            0.5,
            0.9995,
            1.0 - f64::EPSILON,
            1.0,
            -1.0,
            99.5,
            100.0,
            1000.0,
            1024.0,
            60_000.0,
            60_000.4,
            60_000.6,
            600_000.0,
            1_000_000.0,
            4_294_967_295.0,
            4_294_967_296.0,
            9_007_199_254_740_991.0,
            9e15,
            1e15,
            1e21,
            1e300,
            f64::MAX,
            f64::MIN,
        ]),
        any::<f64>(),
        (-10i64..2_000_000).prop_map(|n| n as f64),
        (-10i64..2_000_000, 1u32..1000).prop_map(|(n, d)| n as f64 + f64::from(d) / 1000.0),
    ]
}

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    proptest::option::weighted(0.7, s)
}

/// A value as given: usually one that passes (`good`), one time in
/// `1 + odds` anything (`bad`), so most cases get past validation and every
/// field is still hostile in some.
fn mostly<T: std::fmt::Debug + Clone + 'static>(
    odds: u32,
    good: impl Strategy<Value = T> + 'static,
    bad: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    prop_oneof![odds => good, 1 => bad].boxed()
}

fn is_invalid(err: &RequestError) -> bool {
    matches!(err, RequestError::Invalid { .. })
}

// ---------------------------------------------------------------------------
// Generated JSON: every value knows the exact text it is written as
// ---------------------------------------------------------------------------

/// A UTF-16 code unit of a JSON string and how it is written.
#[derive(Clone, Debug)]
enum Unit {
    /// A character: raw when allowed, or escaped (`\n`, `\u00e9`, a
    /// surrogate pair for astral characters).
    Char(char, bool),
    /// A lone surrogate, necessarily escaped (`\ud800`).
    Lone(u16),
}

#[derive(Clone, Debug)]
struct JStr(Vec<Unit>);

impl JStr {
    /// The token, quotes included.
    fn token(&self) -> String {
        let mut out = String::from("\"");
        for unit in &self.0 {
            match *unit {
                Unit::Lone(u) => out.push_str(&format!("\\u{u:04x}")),
                Unit::Char(c, escape) => match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' if escape => out.push_str("\\n"),
                    '/' if escape => out.push_str("\\/"),
                    c if escape || (c as u32) < 0x20 => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{u:04X}"));
                        }
                    }
                    c => out.push(c),
                },
            }
        }
        out.push('"');
        out
    }

    /// The string JS reads from the token, as UTF-8 (a lone surrogate becomes
    /// U+FFFD, as `TextEncoder` and `encodeURIComponent`'s callers see it).
    fn value(&self) -> String {
        let mut units = Vec::new();
        for unit in &self.0 {
            match *unit {
                Unit::Lone(u) => units.push(u),
                Unit::Char(c, _) => {
                    let mut buf = [0u16; 2];
                    units.extend_from_slice(c.encode_utf16(&mut buf));
                }
            }
        }
        String::from_utf16_lossy(&units)
    }
}

fn jstr() -> impl Strategy<Value = JStr> {
    let unit = prop_oneof![
        6 => (any::<char>(), any::<bool>()).prop_map(|(c, e)| Unit::Char(c, e)),
        3 => (proptest::sample::select(vec!['a', 'b', '"', '\\', '/', '\n', '\u{1}', 'é', '😀', ' ', '&', '=', '%']), any::<bool>())
            .prop_map(|(c, e)| Unit::Char(c, e)),
        1 => (0xD800u16..=0xDFFF).prop_map(Unit::Lone),
    ];
    proptest::collection::vec(unit, 0..8).prop_map(JStr)
}

/// A key from a small set, so duplicates and shared prefixes are common.
fn small_key() -> impl Strategy<Value = JStr> {
    proptest::sample::select(vec!["a", "b", "ab", "a!", "A", "", "é", "a\"", "a\\"])
        .prop_map(|k| JStr(k.chars().map(|c| Unit::Char(c, false)).collect()))
}

/// A JSON number as written: big, small, signed, with fraction and exponent.
fn jnum() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop_oneof![
            Just("0".to_owned()),
            "[1-9][0-9]{0,3}",
            "[1-9][0-9]{15,400}",
        ],
        opt("[0-9]{1,30}"),
        opt(("[eE]", "[+-]?", "[0-9]{1,6}")),
    )
        .prop_map(|(neg, int, frac, exp)| {
            let mut n = String::new();
            if neg {
                n.push('-');
            }
            n.push_str(&int);
            if let Some(f) = frac {
                n.push('.');
                n.push_str(&f);
            }
            if let Some((e, s, d)) = exp {
                n.push_str(&e);
                n.push_str(&s);
                n.push_str(&d);
            }
            n
        })
}

#[derive(Clone, Debug)]
enum Json {
    Lit(&'static str),
    Num(String),
    Str(JStr),
    Arr(Vec<Json>),
    Obj(Vec<(JStr, Json)>),
}

fn leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        proptest::sample::select(vec!["true", "false", "null"]).prop_map(Json::Lit),
        jnum().prop_map(Json::Num),
        jstr().prop_map(Json::Str),
    ]
}

/// Any JSON value; objects may repeat a key when `duplicates`.
fn json(duplicates: bool) -> impl Strategy<Value = Json> {
    leaf().prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Json::Arr),
            proptest::collection::vec(
                (
                    prop_oneof![
                        1 => jstr(),
                        if duplicates { 4 } else { 1 } => small_key(),
                    ],
                    inner,
                ),
                0..8,
            )
            .prop_map(move |mut members| {
                if !duplicates {
                    let mut seen = std::collections::HashSet::new();
                    members.retain(|(k, _)| seen.insert(k.token()));
                }
                Json::Obj(members)
            }),
        ]
    })
}

/// How a value is written: the whitespace between tokens, and how object
/// members are ordered.
#[derive(Clone, Debug)]
struct Style {
    /// Whitespace, taken in turn at every place JSON allows it.
    ws: Vec<&'static str>,
    /// Seeds the shuffle of object members (0: as generated).
    shuffle: u64,
    /// Members sorted by their key token (overrides `shuffle`).
    sorted: bool,
}

impl Style {
    const COMPACT_SORTED: Style = Style {
        ws: Vec::new(),
        shuffle: 0,
        sorted: true,
    };
}

fn style() -> impl Strategy<Value = Style> {
    (
        proptest::collection::vec(
            proptest::sample::select(vec!["", "", "", " ", "\n", "\r\n\t", "  \t "]),
            0..16,
        ),
        any::<u64>(),
    )
        .prop_map(|(ws, shuffle)| Style {
            ws,
            shuffle,
            sorted: false,
        })
}

struct Writer<'a> {
    style: &'a Style,
    out: String,
    turn: usize,
    rng: u64,
}

impl Writer<'_> {
    fn write(style: &Style, value: &Json) -> String {
        let mut w = Writer {
            style,
            out: String::new(),
            turn: 0,
            rng: style.shuffle,
        };
        w.ws();
        w.value(value);
        w.ws();
        w.out
    }

    fn ws(&mut self) {
        if !self.style.ws.is_empty() {
            self.out
                .push_str(self.style.ws[self.turn % self.style.ws.len()]);
            self.turn += 1;
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn value(&mut self, value: &Json) {
        match value {
            Json::Lit(l) => self.out.push_str(l),
            Json::Num(n) => self.out.push_str(n),
            Json::Str(s) => self.out.push_str(&s.token()),
            Json::Arr(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.ws();
                    self.value(item);
                    self.ws();
                }
                if items.is_empty() {
                    self.ws();
                }
                self.out.push(']');
            }
            Json::Obj(members) => {
                let mut order: Vec<usize> = (0..members.len()).collect();
                if self.style.sorted {
                    order.sort_by_key(|&i| members[i].0.token());
                } else if self.rng != 0 {
                    for i in (1..order.len()).rev() {
                        let j = (self.next() % (i as u64 + 1)) as usize;
                        order.swap(i, j);
                    }
                }
                self.out.push('{');
                for (n, &i) in order.iter().enumerate() {
                    if n > 0 {
                        self.out.push(',');
                    }
                    self.ws();
                    self.out.push_str(&members[i].0.token());
                    self.ws();
                    self.out.push(':');
                    self.ws();
                    self.value(&members[i].1);
                    self.ws();
                }
                if members.is_empty() {
                    self.ws();
                }
                self.out.push('}');
            }
        }
    }
}

fn nesting(value: &Json) -> usize {
    match value {
        Json::Arr(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        Json::Obj(members) => 1 + members.iter().map(|(_, v)| nesting(v)).max().unwrap_or(0),
        _ => 0,
    }
}

// ---------------------------------------------------------------------------
// 1. The JSON canonicaliser and the cache key
// ---------------------------------------------------------------------------

/// Text that is mostly JSON: tokens, brackets and escapes in any order.
fn json_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        proptest::sample::select(vec![
            "{", "}", "[", "]", ",", ":", " ", "\n", "\"", "\\", "\\u", "\\ud800", "\\\"", "true",
            "null", "fals", "0", "-", "+", ".", "e", "E", "1", "01", "\"a\"", "\"b\"", "é",
            "\u{1}",
        ])
        .prop_map(str::to_owned),
        jnum(),
        jstr().prop_map(|s| s.token()),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the text: no panic, the same answer twice, a fixed point.
    #[test]
    fn canonical_never_panics_is_deterministic_and_idempotent(
        text in prop_oneof![hostile(), json_soup()]
    ) {
        let once = canonical(&text);
        prop_assert_eq!(&once, &canonical(&text));
        let _ = is_json(&text);
        if let Some(c) = once {
            prop_assert_eq!(canonical(&c), Some(c.clone()), "not a fixed point");
        }
    }

    /// Valid JSON however written (whitespace, member order, huge numbers,
    /// escapes, lone surrogates): accepted within the depth limit, and equal to
    /// the compact sorted writing of the same value.
    #[test]
    fn equal_json_values_canonicalise_alike(
        value in json(false),
        a in style(),
        b in style(),
    ) {
        let (ta, tb) = (Writer::write(&a, &value), Writer::write(&b, &value));
        prop_assert!(is_json(&ta), "generated text is JSON: {}", ta);
        let expected = Writer::write(&Style::COMPACT_SORTED, &value);
        prop_assert_eq!(canonical(&ta), Some(expected.clone()));
        prop_assert_eq!(canonical(&tb), Some(expected));
    }

    /// Repeated keys (which `JSON.stringify` never writes, but a caller's own
    /// JSON might): the members of one key keep their order, so the value
    /// `JSON.parse` reads (the last one wins) is the value keyed, and texts
    /// with different values never share a canonical form.
    #[test]
    fn repeated_keys_keep_their_order(value in json(true), ws in style()) {
        let text = Writer::write(&Style { shuffle: 0, ..ws }, &value);
        let expected = Writer::write(&Style::COMPACT_SORTED, &value);
        prop_assert_eq!(canonical(&text), Some(expected), "{}", text);
    }

    /// Any nesting: no stack overflow; accepted exactly up to the limit.
    #[test]
    fn deep_nesting_is_refused_not_overflowed(depth in 0usize..200, object in any::<bool>()) {
        let (open, close) = if object { ("{\"k\":[", "]}") } else { ("[", "]") };
        let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        prop_assert!(is_json(&text));
        let levels = if object { 2 * depth } else { depth };
        prop_assert_eq!(canonical(&text).is_some(), levels <= 64, "{} levels", levels);
    }

    /// The cache key: equal requests (data keys, query parameters and
    /// headers in any order, header names in any case, any JSON whitespace)
    /// share a key; requests that differ in anything else never do.
    #[test]
    fn cache_keys_are_equal_exactly_for_equal_requests(
        a in key_parts(),
        b in key_parts(),
        sa in style(),
        sb in style(),
    ) {
        let ka = a.key(&sa);
        prop_assert_eq!(&ka, &a.permuted().key(&sb), "a reordered request");
        let kb = b.key(&sb);
        match (ka, kb) {
            (Some(ka), Some(kb)) => prop_assert_eq!(
                ka == kb,
                a.normal() == b.normal(),
                "{:?} / {:?}", a, b
            ),
            (ka, kb) => {
                // Only data too deep to canonicalise has no key.
                prop_assert_eq!(ka.is_none(), a.data.as_ref().is_some_and(|d| nesting(d) > 64));
                prop_assert_eq!(kb.is_none(), b.data.as_ref().is_some_and(|d| nesting(d) > 64));
            }
        }
    }

    /// Hostile parts of every kind: a key or None, never a panic.
    #[test]
    fn cache_key_never_panics(
        scope in hostile(),
        path in hostile_path(),
        data in opt(prop_oneof![hostile(), json_soup()]),
        headers in proptest::collection::vec((hostile(), hostile()), 0..4),
    ) {
        let parts = KeyParts {
            scope: &scope,
            route: Route::Http,
            method: Method::Get,
            path: &path,
            data_json: data.as_deref(),
            headers: &headers,
        };
        prop_assert_eq!(cache_key(parts), cache_key(parts));
    }
}

/// A cache key's parts, small enough that different requests often agree.
#[derive(Clone, Debug)]
struct Parts {
    scope: &'static str,
    route: Route,
    method: Method,
    path: &'static str,
    query: Vec<&'static str>,
    data: Option<Json>,
    headers: Vec<(String, &'static str)>,
}

fn key_parts() -> impl Strategy<Value = Parts> {
    (
        proptest::sample::select(vec!["", "u1", "u2", "4:u"]),
        proptest::sample::select(vec![Route::Cloud, Route::Http, Route::Mock]),
        proptest::sample::select(vec![Method::Get, Method::Head, Method::Post]),
        proptest::sample::select(vec!["/", "/x", "/x/y", "/1:x", "/x?"]),
        proptest::collection::vec(
            proptest::sample::select(vec!["", "a=1", "b=2", "a", "a=", "=1", "a=1=2", "c=%26"]),
            0..4,
        ),
        opt(prop_oneof![leaf(), json(false)]),
        proptest::collection::vec(
            (
                proptest::sample::select(vec!["Accept", "accept", "X-A", "x-a", "A"])
                    .prop_map(str::to_owned),
                proptest::sample::select(vec!["", "1", "json", "1:1"]),
            ),
            0..3,
        ),
    )
        .prop_map(|(scope, route, method, path, query, data, headers)| Parts {
            scope,
            route,
            method,
            path,
            query,
            data,
            headers,
        })
}

impl Parts {
    fn key(&self, style: &Style) -> Option<String> {
        let path = if self.query.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}?{}", self.path, self.query.join("&"))
        };
        let data = self.data.as_ref().map(|d| Writer::write(style, d));
        let headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), (*v).to_owned()))
            .collect();
        cache_key(KeyParts {
            scope: self.scope,
            route: self.route,
            method: self.method,
            path: &path,
            data_json: data.as_deref(),
            headers: &headers,
        })
    }

    /// The same request: parameters and headers reversed, names re-cased.
    /// (After a path ending in '?' the first parameter starts with '?':
    /// there the order stays.)
    fn permuted(&self) -> Parts {
        let mut p = self.clone();
        if !p.path.contains('?') {
            // Reordered only when every name is different: a repeated name
            // keeps the query as given (the server may take either value).
            if !repeated_name(&p.query) {
                p.query.reverse();
            }
        }
        p.headers.reverse();
        for (name, _) in &mut p.headers {
            *name = name
                .chars()
                .map(|c| {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
        }
        p
    }

    /// What makes two requests the same: the path up to the first '?', the
    /// non-empty parameters after it as a set, the data's value, the header
    /// names in lower case and their values as a set.
    #[allow(clippy::type_complexity)]
    fn normal(
        &self,
    ) -> (
        &str,
        Route,
        Method,
        String,
        Vec<String>,
        Option<String>,
        Vec<(String, &str)>,
    ) {
        let full = if self.query.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}?{}", self.path, self.query.join("&"))
        };
        let (path, query) = full.split_once('?').unwrap_or((&full, ""));
        let mut params: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if !repeated_name(&params) {
            params.sort();
        }
        let mut headers: Vec<(String, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), *v))
            .collect();
        headers.sort();
        (
            self.scope,
            self.route,
            self.method,
            path.to_owned(),
            params,
            self.data
                .as_ref()
                .map(|d| Writer::write(&Style::COMPACT_SORTED, d)),
            headers,
        )
    }
}

// ---------------------------------------------------------------------------
// 2. What storage gives back: the offline queue's items, the cache's entries
// ---------------------------------------------------------------------------

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "X-Trace",
            "Content-Type",
            "Authorization",
            "cookie",
            "X-Token",
            "X-Api-Key",
            "Idempotency-Key",
            "x-trace",
        ])
        .prop_map(str::to_owned),
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
    ]
}

/// A stored item: each field usually as the library writes it, one time in
/// ten anything (wrong types included).
fn stored_item() -> impl Strategy<Value = StoredItem> {
    let id = mostly(
        9,
        // Ids from storage are whatever it says, up to the largest u32.
        prop_oneof![1u32..6, u32::MAX - 3..=u32::MAX].prop_map(|n| Some(f64::from(n))),
        opt(hostile_number()),
    );
    let method = mostly(
        9,
        proptest::sample::select(vec!["POST", "put", "Delete", "PATCH"])
            .prop_map(|m| Some(m.to_owned())),
        opt(prop_oneof![
            proptest::sample::select(vec!["GET", "HEAD", "options", ""]).prop_map(str::to_owned),
            hostile(),
        ]),
    );
    let path = mostly(
        9,
        "/[a-z0-9/?=&%é网]{0,20}".prop_map(Some),
        opt(hostile_path()),
    );
    let headers = proptest::collection::vec(
        mostly(9, (header_name(), "[ -~]{0,12}"), (hostile(), hostile())),
        0..4,
    );
    let data_json = mostly(
        9,
        opt((json(false), style()).prop_map(|(v, s)| Writer::write(&s, &v))),
        opt(prop_oneof![hostile(), json_soup()]),
    );
    let key = mostly(
        9,
        "[!-~]{1,40}".prop_map(Some),
        opt(prop_oneof![hostile(), "[!-~]{250,260}"]),
    );
    let user = mostly(9, opt("[a-z0-9_-]{1,12}"), opt(hostile()));
    let queued_at = mostly(
        9,
        (0u64..2_000_000_000_000).prop_map(|t| Some(t as f64)),
        opt(hostile_number()),
    );
    let attempts = mostly(
        9,
        (0u32..5).prop_map(|n| Some(f64::from(n))),
        opt(hostile_number()),
    );
    let wrong = mostly(
        9,
        Just(Vec::new()),
        proptest::collection::vec(
            (
                prop_oneof![
                    proptest::sample::select(vec![
                        "",
                        "id",
                        "method",
                        "path",
                        "header",
                        "dataJson",
                        "idempotencyKey",
                        "user",
                        "queuedAt",
                        "attempts",
                        "header.Authorization",
                        "header.X-Token",
                        "header.X-Trace",
                        "nonsense",
                    ])
                    .prop_map(Cow::Borrowed),
                    hostile().prop_map(Cow::Owned),
                ],
                prop_oneof![
                    proptest::sample::select(vec![
                        "number", "null", "object", "boolean", UNREADABLE
                    ])
                    .prop_map(str::to_owned),
                    hostile(),
                ],
            ),
            0..3,
        ),
    );
    (
        (id, method, path, headers, data_json),
        (key, user, queued_at, attempts, wrong),
    )
        .prop_map(
            |(
                (id, method, path, headers, data_json),
                (idempotency_key, user, queued_at, attempts, wrong),
            )| {
                StoredItem {
                    id,
                    method,
                    path,
                    headers,
                    data_json,
                    idempotency_key,
                    user,
                    queued_at,
                    attempts,
                    wrong,
                }
            },
        )
}

/// How the boundary reads back the object a mutation is stored as.
fn stored_form(m: &Mutation) -> StoredItem {
    StoredItem {
        id: Some(f64::from(m.id)),
        method: Some(m.method.as_str().to_owned()),
        path: Some(m.path.clone()),
        headers: m.headers.clone(),
        data_json: m.data_json.clone(),
        idempotency_key: Some(m.idempotency_key.clone()),
        user: m.user.clone(),
        queued_at: Some(m.queued_at),
        attempts: Some(f64::from(m.attempts)),
        wrong: Vec::new(),
    }
}

/// `JSON.stringify(text)` as the boundary writes it (a Rust string has no
/// lone surrogates; U+2028 and U+2029 are written as they are).
fn js_stringify(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(config())]

    /// A stored item is restored or dropped with an `invalid` error naming
    /// it, never a panic; what is restored is sound and reads back the same
    /// from what it is stored as.
    #[test]
    fn stored_items_are_restored_or_dropped_and_restored_ones_round_trip(
        item in stored_item(),
        index in 0usize..5,
    ) {
        let wrong_field = item
            .wrong
            .iter()
            .any(|(field, _)| !field.strip_prefix("header.").is_some_and(is_credential));
        match item.clone().check(index, &[]) {
            Ok(m) => {
                prop_assert!(!wrong_field, "a field of the wrong type passed: {:?}", item.wrong);
                prop_assert!(m.id >= 1);
                prop_assert!(!m.method.is_safe(), "{:?}", m.method);
                prop_assert!(validate_path(&m.path).is_ok());
                for (name, value) in &m.headers {
                    prop_assert!(!is_credential(name), "credential {} restored", name);
                    prop_assert!(validate_header(name, value).is_ok());
                }
                prop_assert!(m.data_json.as_deref().is_none_or(is_json));
                prop_assert!(!m.idempotency_key.is_empty() && m.idempotency_key.len() <= 255);
                prop_assert!(m.idempotency_key.bytes().all(|b| b.is_ascii_graphic()));
                prop_assert_ne!(m.user.as_deref(), Some(""));
                prop_assert!(m.queued_at.is_finite() && m.queued_at >= 0.0);
                prop_assert!(m.size() >= js_stringify(&m.path).len());
                let again = stored_form(&m).check(index, &[]);
                prop_assert_eq!(again, Ok(m.clone()));
                // An item with the same id after it is damaged.
                let twin = stored_form(&m).check(index + 1, std::slice::from_ref(&m));
                prop_assert!(twin.is_err());
            }
            Err(damaged) => {
                prop_assert_eq!(damaged.index, index);
                prop_assert_eq!(&damaged.mutation.data_json, &None);
                let RequestError::Invalid { field, problem } = &damaged.error else {
                    return Err(TestCaseError::fail(format!("not invalid: {:?}", damaged.error)));
                };
                prop_assert!(field.starts_with(&format!("items[{index}]")), "{}", field);
                prop_assert!(problem.ends_with("the item was dropped"), "{}", problem);
            }
        }
    }

    /// A whole stored queue: every item accounted for, restored ids unique,
    /// the bounds kept whatever storage held, new ids never reuse one.
    #[test]
    fn a_stored_queue_restores_within_bounds_with_unique_ids(
        items in proptest::collection::vec(stored_item(), 0..12),
        max_items in 1u32..8,
        max_bytes in 1024u32..6000,
        pushes in 0usize..4,
    ) {
        let n = items.len();
        let checked = mp_request::core::offline::check_stored(items);
        prop_assert_eq!(checked.items.len() + checked.damaged.len(), n);
        let mut ids: Vec<u32> = checked.items.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids.dedup();
        prop_assert_eq!(ids.len(), checked.items.len(), "repeated ids restored");
        prop_assert!(checked.damaged.windows(2).all(|w| w[0].index < w[1].index));
        let mut queue = Queue::new(QueueLimits { max_items, max_bytes });
        let restored = checked.items.len();
        let dropped = queue.restore(checked.items.clone());
        prop_assert_eq!(queue.len() + dropped, restored);
        prop_assert!(queue.len() <= max_items as usize);
        prop_assert!(queue.stored_bytes() <= max_bytes as usize);
        // The engine takes what was restored the same way.
        let mut engine: Engine = Engine::new(base_config().validate().unwrap(), platform(), 3);
        let (engine_dropped, _) = engine.restore_queue(checked.items.clone(), 1_000.0);
        let mut pending: Vec<u32> = engine.pending().map(|m| m.id).collect();
        prop_assert_eq!(pending.len() + engine_dropped, checked.items.len());
        pending.sort_unstable();
        pending.dedup();
        prop_assert_eq!(pending.len() + engine_dropped, checked.items.len());
        let template = Mutation {
            id: 0,
            method: Method::Post,
            path: "/x".into(),
            headers: vec![],
            data_json: None,
            idempotency_key: "k".into(),
            user: None,
            queued_at: 0.0,
            attempts: 0,
        };
        for _ in 0..pushes {
            let before: Vec<u32> = queue.iter().map(|m| m.id).collect();
            if let Ok(id) = queue.push(template.clone()) {
                prop_assert!(!before.contains(&id), "new id {} is in use: {:?}", id, before);
            }
        }
    }

    /// What the size of a stored item counts for a string is what
    /// `JSON.stringify` writes.
    #[test]
    fn stored_string_sizes_are_exact(text in hostile()) {
        prop_assert_eq!(json_string_bytes(&text), js_stringify(&text).len());
    }

    /// Saved cache entries with any windows, sizes and keys: restored within
    /// the cache's bounds, never served past their window, saved again.
    #[test]
    fn saved_cache_entries_restore_within_bounds(
        entries in proptest::collection::vec(
            (
                hostile(),
                hostile(),
                prop_oneof![0usize..5000, Just(usize::MAX), any::<usize>()],
                hostile_number(),
                hostile_number(),
                proptest::collection::vec(hostile(), 0..3),
            ),
            0..10,
        ),
        user in opt(hostile()),
        max_entries in 0u32..6,
        max_bytes in 0u32..20_000,
        now in prop_oneof![hostile_number(), (0u64..2_000_000_000_000).prop_map(|t| t as f64)],
    ) {
        let raw = RawConfig {
            cache: Some(RawCacheConfig {
                max_entries: Some(f64::from(max_entries)),
                max_bytes: Some(f64::from(max_bytes)),
                persist: Some(true),
                ..RawCacheConfig::default()
            }),
            ..base_config()
        };
        let mut engine: Engine<String> = Engine::new(raw.validate().unwrap(), Platform::default(), 1);
        let n = entries.len();
        let entries: Vec<(String, Entry<String>)> = entries
            .into_iter()
            .map(|(key, path, size, fresh_until, stale_until, tags)| {
                let entry = Entry {
                    value: key.clone(),
                    size,
                    path,
                    scope: String::new(),
                    tags,
                    fresh_until,
                    stale_until,
                    reason: "",
                    validator: None,
                    revalidated: false,
                fetch: 0,
                };
                (key, entry)
            })
            .collect();
        let restored = engine.restore(user, entries, now);
        prop_assert!(restored <= n);
        let stats = engine.cache_stats();
        prop_assert!(stats.entries <= max_entries as usize);
        prop_assert!(stats.bytes <= max_bytes as usize);
        let (_, saved) = engine.snapshot(now);
        for (_, entry) in saved {
            prop_assert!(now < entry.stale_until);
        }
    }
}

// ---------------------------------------------------------------------------
// 3. Path patterns, the query encoder, request and client validation
// ---------------------------------------------------------------------------

/// A pattern segment and what a path puts in its place.
#[derive(Clone, Debug)]
enum Seg {
    Literal(String),
    Param(String, String),
    Rest(String),
}

/// A valid pattern, and a path it must match with the captures expected.
fn pattern_and_path() -> impl Strategy<Value = (String, String, Vec<(String, String)>)> {
    let segment = prop_oneof![
        3 => "[^/?#*:]{0,6}".prop_map(Seg::Literal),
        1 => proptest::sample::select(vec!["a", "b", "%2F", "", ".", "..", "网络", "😀"])
            .prop_map(|s| Seg::Literal(s.to_owned())),
        2 => ("[A-Za-z0-9_]{1,6}", "[^/?]{1,8}").prop_map(|(n, v)| Seg::Param(n, v)),
    ];
    (
        proptest::collection::vec(segment, 0..6),
        opt("[^?]{0,20}"),
        opt("[^#]{0,12}"),
    )
        .prop_map(|(mut segments, rest, query)| {
            if let Some(rest) = rest {
                segments.push(Seg::Rest(rest));
            }
            if segments.is_empty() {
                segments.push(Seg::Literal(String::new()));
            }
            let mut pattern = String::new();
            let mut path = String::new();
            let mut captures = Vec::new();
            for segment in &segments {
                pattern.push('/');
                path.push('/');
                match segment {
                    Seg::Literal(text) => {
                        pattern.push_str(text);
                        path.push_str(text);
                    }
                    Seg::Param(name, value) => {
                        pattern.push(':');
                        pattern.push_str(name);
                        path.push_str(value);
                        captures.push((name.clone(), value.clone()));
                    }
                    Seg::Rest(rest) => {
                        pattern.push('*');
                        path.push_str(rest);
                        captures.push(("*".to_owned(), rest.clone()));
                    }
                }
            }
            if let Some(query) = query {
                path.push('?');
                path.push_str(&query);
            }
            (pattern, path, captures)
        })
}

/// Pattern text: valid-looking pieces, or anything.
fn hostile_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => pattern_and_path().prop_map(|(p, _, _)| p),
        3 => hostile_path(),
    ]
}

/// A request's path: valid ones, ones at the length limit, or anything.
fn request_path() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "/[a-zA-Z0-9/._~%!$&'()*+,;=:@?é网-]{0,30}",
        1 => (4095usize..4098).prop_map(|len| format!("/{}", "a".repeat(len - 1))),
        2 => hostile_path(),
    ]
}

/// JSON a query is made from: an object or an array of anything.
fn object_or_array() -> impl Strategy<Value = Json> {
    prop_oneof![
        proptest::collection::vec(json(false), 0..6).prop_map(Json::Arr),
        proptest::collection::vec((jstr(), json(false)), 0..6).prop_map(Json::Obj),
    ]
}

/// `decodeURIComponent`, for what the encoder writes.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A request or client option: bad in one case of 25 (there are many).
fn field<T: std::fmt::Debug + Clone + 'static>(
    good: impl Strategy<Value = T> + 'static,
    bad: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    mostly(24, good, bad)
}

/// A number option: absent, `valid`, or (rarely) anything.
fn number_field(valid: f64) -> BoxedStrategy<Option<f64>> {
    field(
        prop_oneof![Just(None), Just(Some(valid))],
        opt(hostile_number()),
    )
}

/// A text option: absent, one of `good`, or (rarely) anything.
fn text_field(good: Vec<&'static str>) -> BoxedStrategy<Option<String>> {
    field(
        opt(proptest::sample::select(good).prop_map(str::to_owned)),
        opt(hostile()),
    )
}

fn raw_retry(n: fn(f64) -> BoxedStrategy<Option<f64>>) -> BoxedStrategy<Option<RawRetry>> {
    opt(prop_oneof![
        1 => Just(RawRetry::Disabled),
        4 => (n(2.0), n(100.0), n(2000.0), n(10_000.0)).prop_map(
            |(limit, base_ms, cap_ms, deadline_ms)| RawRetry::Custom {
                limit,
                base_ms,
                cap_ms,
                deadline_ms,
            }
        ),
    ])
    .boxed()
}

fn raw_request() -> BoxedStrategy<RawRequest> {
    let method = text_field(vec![
        "GET", "post", "PUT", "DELETE", "patch", "HEAD", "OPTIONS",
    ]);
    let headers = proptest::collection::vec(
        field((header_name(), "[ -~]{0,12}"), (hostile(), hostile())),
        0..4,
    );
    let data = field(
        prop_oneof![
            2 => Just((None, None, None)),
            4 => (object_or_array(), style())
                .prop_map(|(v, s)| (Some(Writer::write(&s, &v)), None, None)),
            1 => leaf().prop_map(|v| (Some(Writer::write(&Style::COMPACT_SORTED, &v)), None, None)),
            1 => hostile().prop_map(|t| (None, Some(t), None)),
            1 => any::<usize>().prop_map(|n| (None, None, Some(n))),
        ],
        (
            opt(prop_oneof![hostile(), json_soup()]),
            opt(hostile()),
            opt(any::<usize>()),
        ),
    );
    let cache = field(
        prop_oneof![
            Just(RawRequestCache::Default),
            Just(RawRequestCache::Off),
            (
                opt(Just(1000.0)),
                opt(Just(0.0)),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(|(ttl_ms, stale_ms, private, reload)| {
                    RawRequestCache::Options {
                        ttl_ms,
                        stale_ms,
                        tags: vec!["t".into()],
                        private,
                        reload,
                    }
                }),
        ],
        (
            opt(hostile_number()),
            opt(hostile_number()),
            proptest::collection::vec(hostile(), 0..20),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(ttl_ms, stale_ms, tags, private, reload)| {
                RawRequestCache::Options {
                    ttl_ms,
                    stale_ms,
                    tags,
                    private,
                    reload,
                }
            }),
    );
    (
        (
            request_path(),
            method,
            headers,
            number_field(5000.0),
            text_field(vec!["cloud", "http", "mock"]),
        ),
        (
            raw_retry(number_field),
            // false conflicts with a key and with the queue: rarely.
            field(opt(Just(true)), Just(Some(false))),
            any::<bool>(),
            field(opt("[!-~]{1,40}"), opt(hostile())),
        ),
        (
            text_field(vec!["high", "normal", "low"]),
            field(
                proptest::option::weighted(0.3, Just("queue".to_owned())),
                opt(hostile()),
            ),
            proptest::bool::weighted(0.1),
            data,
            cache,
        ),
    )
        .prop_map(
            |(
                (path, method, headers, timeout_ms, route),
                (retry, idempotent, idempotent_auto, idempotency_key),
                (priority, offline, aborted, (data_json, data_text, data_binary), cache),
            )| RawRequest {
                path,
                method,
                headers,
                timeout_ms,
                route,
                retry,
                idempotent,
                idempotent_auto,
                idempotency_key,
                priority,
                offline,
                aborted,
                // The fast path's flag, set wherever JSON data is: it changes only how a body is sent.
                data_json_kept: data_json.is_some(),
                data_json,
                data_text,
                data_binary,
                cache,
            },
        )
        .boxed()
}

fn raw_config() -> BoxedStrategy<RawConfig> {
    let n = number_field;
    let budget = (
        proptest::bool::weighted(0.1),
        n(100.0),
        n(5.0),
        n(10.0),
        n(1.0),
    )
        .prop_map(
            |(disabled, capacity, retry_cost, timeout_cost, success_refill)| RawBudget {
                disabled,
                capacity,
                retry_cost,
                timeout_cost,
                success_refill,
            },
        );
    let breaker = (
        proptest::bool::weighted(0.1),
        n(10_000.0),
        n(5.0),
        n(0.5),
        n(30_000.0),
    )
        .prop_map(
            |(disabled, window_ms, min_calls, failure_ratio, open_ms)| RawBreaker {
                disabled,
                window_ms,
                min_calls,
                failure_ratio,
                open_ms,
            },
        );
    let tags = || {
        field(
            proptest::collection::vec("[a-z]{1,6}", 0..3),
            proptest::collection::vec(hostile(), 0..20),
        )
    };
    let pattern = || {
        field(
            pattern_and_path().prop_map(|(p, _, _)| p),
            hostile_pattern(),
        )
    };
    let rule = (
        pattern(),
        field(Just(Some(30_000.0)), opt(hostile_number())),
        n(0.0),
        tags(),
    )
        .prop_map(|(path, ttl_ms, stale_ms, tags)| RawRule {
            path,
            ttl_ms,
            stale_ms,
            tags,
        });
    let invalidation = (
        text_field(vec!["POST", "delete"]),
        pattern(),
        field(
            proptest::collection::vec("/[a-z/]{0,8}", 1..3),
            proptest::collection::vec(hostile_path(), 0..3),
        ),
        tags(),
    )
        .prop_map(|(method, path, prefixes, tags)| RawInvalidation {
            method,
            path,
            prefixes,
            tags,
        });
    let cache = opt((
        n(50.0),
        n(100_000.0),
        proptest::collection::vec(rule, 0..3),
        proptest::collection::vec(invalidation, 0..2),
        opt(any::<bool>()),
        n(10_000.0),
    )
        .prop_map(
            |(max_entries, max_bytes, rules, invalidations, persist, persist_max_bytes)| {
                RawCacheConfig {
                    max_entries,
                    max_bytes,
                    rules,
                    invalidations,
                    persist,
                    persist_max_bytes,
                }
            },
        ));
    let mock_routes = proptest::collection::vec(
        (text_field(vec!["GET", "post"]), pattern())
            .prop_map(|(method, path)| RawMockRoute { method, path }),
        0..3,
    );
    // A backend: the cloud (env and service) or a base URL, either or both.
    let backend = field(
        prop_oneof![
            Just((Some("prod-5g94mx7a3d07e78c"), Some("golang-lfwy"), None)),
            Just((None, None, Some("https://api.example.com/"))),
            Just((Some("prod-1"), Some("svc"), Some("http://localhost:8080"))),
        ]
        .prop_map(|(e, s, b): (Option<&str>, Option<&str>, Option<&str>)| {
            (
                e.map(str::to_owned),
                s.map(str::to_owned),
                b.map(str::to_owned),
            )
        }),
        (
            opt(hostile()),
            opt(hostile()),
            opt(prop_oneof![
                hostile(),
                proptest::sample::select(vec![
                    "https://",
                    "ftp://x",
                    "http:///x",
                    "https://a?b",
                    "https://a#b",
                    "https://a//"
                ])
                .prop_map(str::to_owned),
            ]),
        ),
    );
    (
        (
            backend,
            text_field(vec!["wx1234567890abcdef"]),
            text_field(vec!["prod-2"]),
            n(5000.0),
            text_field(vec!["zh-CN", "en"]),
            text_field(vec!["auto", "cloud", "http", "mock"]),
            any::<bool>(),
        ),
        (
            raw_retry(number_field),
            budget,
            breaker,
            n(4.0),
            n(50.0),
            n(65_536.0),
            any::<bool>(),
            mock_routes,
        ),
        (
            any::<bool>(),
            any::<bool>(),
            n(42.0),
            cache,
            proptest::collection::vec(pattern(), 0..3),
            n(16.0),
            proptest::collection::vec(
                field((header_name(), "[ -~]{0,12}"), (hostile(), hostile())),
                0..3,
            ),
            // `report`: off, or a path, a period and a share of devices, each hostile at times.
            proptest::option::weighted(
                0.3,
                (text_field(vec!["/api/fleet/report"]), n(60_000.0), n(0.5)).prop_map(
                    |(path, every_ms, sample)| RawReport {
                        path,
                        every_ms,
                        sample,
                    },
                ),
            ),
        ),
    )
        .prop_map(
            |(
                (
                    (env, service, base_url),
                    resource_appid,
                    resource_env,
                    timeout_ms,
                    locale,
                    mode,
                    cloud_given,
                ),
                (
                    retry,
                    retry_budget,
                    breaker,
                    max_concurrent,
                    offline_queue_max_items,
                    offline_queue_max_bytes,
                    debug,
                    mock_routes,
                ),
                (
                    mock_allow_in_release,
                    mock_passthrough,
                    seed,
                    cache,
                    stats_patterns,
                    stats_max_patterns,
                    headers,
                    report,
                ),
            )| RawConfig {
                env,
                service,
                resource_appid,
                resource_env,
                cloud_given,
                base_url,
                timeout_ms,
                locale,
                mode,
                retry,
                retry_budget,
                breaker,
                max_concurrent,
                offline_queue_max_items,
                offline_queue_max_bytes,
                debug,
                mock_routes,
                mock_enabled: None,
                mock_allow_in_release,
                mock_passthrough,
                seed,
                cache,
                stats_patterns,
                stats_max_patterns,
                headers,
                header_function: false,
                report,
                realtime_log: None,
            },
        )
        .boxed()
}

/// A client with an HTTP backend and every default.
fn base_config() -> RawConfig {
    RawConfig {
        base_url: Some("https://api.example.com".into()),
        ..RawConfig::default()
    }
}

fn platform() -> Platform {
    Platform {
        has_cloud: true,
        sdk_version: parse_sdk_version("3.6.0"),
        device: Some("android".into()),
        env_version: Some("develop".into()),
    }
}

proptest! {
    #![proptest_config(config())]

    /// A valid pattern matches a path built from it, capturing what was put
    /// in place of its parameters and `*`, whatever query follows.
    #[test]
    fn a_pattern_matches_paths_built_from_it((pattern, path, captures) in pattern_and_path()) {
        let parsed = Pattern::parse("rule", &pattern);
        prop_assert!(parsed.is_ok(), "{:?}: {:?}", pattern, parsed);
        let parsed = parsed.unwrap();
        prop_assert!(parsed.matches(&path), "{:?} does not match {:?}", pattern, path);
        prop_assert_eq!(parsed.captures(&path), Some(captures));
    }

    /// Any pattern and any path: parsed or refused as `invalid` under the
    /// field given; `matches` agrees with `captures`; a pattern without
    /// parameters matches its own text.
    #[test]
    fn patterns_never_panic_and_matches_agrees_with_captures(
        pattern in hostile_pattern(),
        paths in proptest::collection::vec(prop_oneof![hostile_path(), pattern_and_path().prop_map(|(_, p, _)| p)], 1..4),
    ) {
        match Pattern::parse("stats.patterns[0]", &pattern) {
            Ok(parsed) => {
                let _ = parsed.specificity();
                for path in &paths {
                    prop_assert_eq!(parsed.matches(path), parsed.captures(path).is_some(), "{:?} {:?}", pattern, path);
                }
                if !pattern.contains([':', '*']) {
                    prop_assert!(parsed.matches(&pattern));
                }
            }
            Err(err) => {
                let RequestError::Invalid { field, .. } = &err else {
                    return Err(TestCaseError::fail(format!("not invalid: {err:?}")));
                };
                prop_assert_eq!(&**field, "stats.patterns[0]");
            }
        }
    }

    /// Mock routes, statistics patterns and cache rules built from any
    /// patterns, asked about any path.
    #[test]
    fn pattern_users_never_panic(
        patterns in proptest::collection::vec(hostile_pattern(), 0..4),
        methods in proptest::collection::vec(opt(prop_oneof![Just("GET".to_owned()), hostile()]), 4),
        path in prop_oneof![hostile_path(), pattern_and_path().prop_map(|(_, p, _)| p)],
    ) {
        let routes: Vec<MockRoute> = patterns
            .iter()
            .zip(&methods)
            .filter_map(|(p, m)| MockRoute::parse("mock.routes[0]", m.as_deref(), p).ok())
            .collect();
        for method in [Method::Get, Method::Post] {
            if let Some(found) = mock::find(&routes, method, &path) {
                prop_assert!(found.index < routes.len());
            }
        }
        if let Ok(classes) = PathClasses::parse(&patterns) {
            let class = classes.classify(&path);
            prop_assert!(
                patterns.contains(&class) || class.len() <= MAX_PATTERN_CHARS + '…'.len_utf8(),
                "{} bytes: {:?}", class.len(), class
            );
        }
        let rules = RawCacheConfig {
            rules: patterns
                .iter()
                .map(|p| RawRule { path: p.clone(), ttl_ms: Some(1000.0), ..RawRule::default() })
                .collect(),
            invalidations: patterns
                .iter()
                .map(|p| RawInvalidation {
                    path: p.clone(),
                    prefixes: vec![path.clone()],
                    ..RawInvalidation::default()
                })
                .collect(),
            ..RawCacheConfig::default()
        };
        if let Ok(cache) = rules.validate() {
            let plan = cache.plan(Method::Get, &path, &[], RawRequestCache::Default, false);
            prop_assert!(plan.is_ok());
            let _ = cache.invalidated_by(Method::Post, &path);
        }
    }

    /// The query encoder on any text: an answer, never a panic.
    #[test]
    fn query_encoder_never_panics(path in hostile_path(), text in prop_oneof![hostile(), json_soup()]) {
        let query = encode(&text);
        let target = with_query(&path, &text);
        prop_assert_eq!(query.is_some(), target.is_some());
    }

    /// An object or array, however written: one `k=v` per member, in order,
    /// as `encodeURIComponent` writes them (decoding gives back the key and
    /// the string's characters, lone surrogates as U+FFFD, other values as
    /// written), appended to the path after '?' or '&'.
    #[test]
    fn query_encoder_writes_each_member_as_wx_request_does(
        value in object_or_array(),
        path in prop_oneof![Just("/x".to_owned()), Just("/x?a=1".to_owned()), hostile_path()],
    ) {
        let text = Writer::write(&Style { ws: vec![], shuffle: 0, sorted: false }, &value);
        let query = encode(&text);
        prop_assert!(query.is_some(), "{}", text);
        let query = query.unwrap();
        prop_assert!(
            query.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()%=&".contains(&b)),
            "{}", query
        );
        let expected: Vec<(String, String)> = match &value {
            Json::Arr(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), member_value(v))).collect(),
            Json::Obj(members) => members.iter().map(|(k, v)| (k.value(), member_value(v))).collect(),
            _ => unreachable!(),
        };
        let pairs: Vec<(String, String)> = if query.is_empty() {
            Vec::new()
        } else {
            query
                .split('&')
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(k).unwrap_or_default(), percent_decode(v).unwrap_or_default())
                })
                .collect()
        };
        prop_assert_eq!(pairs, expected);
        let target = with_query(&path, &text).unwrap();
        if query.is_empty() {
            prop_assert_eq!(target, path);
        } else {
            let joint = if path.contains('?') { '&' } else { '?' };
            prop_assert_eq!(target, format!("{path}{joint}{query}"));
        }
    }

    /// Any path: accepted exactly when it is one the gateway and
    /// `wx.request` take.
    #[test]
    fn paths_are_accepted_exactly_when_sendable(path in request_path()) {
        let sendable = path.starts_with('/')
            && !path.starts_with("//")
            // 4096 bytes before the query, 16384 with it.
            && path.split('?').next().map_or(0, str::len) <= 4096
            && path.len() <= 16384
            && !path.chars().any(|c| c.is_control() || c.is_whitespace() || c == '#');
        match validate_path(&path) {
            Ok(()) => prop_assert!(sendable, "{:?}", path),
            Err(err) => {
                prop_assert!(!sendable, "{:?}: {}", path, err);
                prop_assert!(err.to_string().starts_with("`path`"), "{}", err);
            }
        }
    }

    /// Any request: validated or refused as `invalid`, never a panic; what
    /// passes is sound (and keys, and is sent, without a panic either).
    #[test]
    fn request_validation_never_panics_and_what_passes_is_sound(raw in raw_request()) {
        let given = raw.clone();
        match raw.validate(RetryPolicy::DEFAULT) {
            Ok(spec) => {
                prop_assert!(validate_path(&spec.path).is_ok());
                let bare = spec.path.split('?').next().map_or(0, str::len);
                prop_assert!(bare <= 4096 && spec.path.len() <= 16384 && !spec.path.starts_with("//"));
                for (name, value) in &spec.headers {
                    prop_assert!(validate_header(name, value).is_ok());
                }
                prop_assert!(spec.timeout_ms.is_none_or(|t| (1..=MAX_TIMEOUT_MS).contains(&t)));
                prop_assert!(spec.retry.backoff.base_ms <= spec.retry.backoff.cap_ms);
                if let Some(IdempotencyKey::Given(key)) = &spec.idempotency_key {
                    prop_assert!(!key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()));
                }
                if spec.offline_queue {
                    prop_assert!(!spec.method.is_safe() && spec.idempotency_key.is_some());
                    prop_assert!(!spec.headers.iter().any(|(n, _)| is_credential(n)));
                }
                if matches!(spec.method, Method::Get | Method::Head) {
                    prop_assert_eq!(&spec.body, &None);
                    let expected = match &given.data_json {
                        Some(json) => with_query(&given.path, json),
                        None => Some(given.path.clone()),
                    };
                    prop_assert_eq!(Some(spec.target.clone()), expected);
                } else {
                    prop_assert_eq!(&spec.target, &spec.path);
                    prop_assert_eq!(spec.body_bytes, spec.body.as_ref().map_or(0, Body::len));
                }
                let _ = cache_key(KeyParts {
                    scope: "u",
                    route: Route::Http,
                    method: spec.method,
                    path: &spec.target,
                    data_json: spec.data_json(),
                    headers: &spec.headers,
                });
                let form = [("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
                let _ = as_sent(spec.body.as_ref(), &form, spec.body_kept);
                // A kept body goes out as its length, never as a copy of its text.
                if let Ok(Some(sent)) = as_sent(spec.body.as_ref(), &[], spec.body_kept) {
                    prop_assert_eq!(matches!(sent, Body::Kept(_)), spec.body_kept);
                    prop_assert_eq!(sent.len(), spec.body_bytes);
                }
            }
            Err(err) => prop_assert!(is_invalid(&err), "{:?}", err),
        }
    }

    /// The small parsers of names and versions, on anything.
    #[test]
    fn small_parsers_never_panic(text in hostile(), value in hostile()) {
        let _ = parse_sdk_version(&text);
        for result in [
            Method::parse(&text).map(|_| ()),
            Route::parse(&text).map(|_| ()),
            mp_request::core::scheduler::Priority::parse(&text).map(|_| ()),
            validate_header(&text, &value),
            validate_path(&text),
        ] {
            if let Err(err) = result {
                prop_assert!(is_invalid(&err), "{:?}", err);
            }
        }
        let _ = is_credential(&text);
    }

    /// Any client options, numbers included (NaN, ±Infinity, -0, huge):
    /// a configuration or an `invalid` error; an engine made from what
    /// passes takes a request.
    #[test]
    fn client_validation_never_panics(raw in raw_config(), request in raw_request()) {
        match raw.validate() {
            Ok(config) => {
                prop_assert!((1..=MAX_TIMEOUT_MS).contains(&config.timeout_ms));
                let mut engine: Engine = Engine::new(config, platform(), 7);
                let _ = engine.start(request, 1_000.0);
            }
            Err(err) => prop_assert!(is_invalid(&err), "{:?}", err),
        }
    }
}

/// What the query carries for a member's value.
fn member_value(value: &Json) -> String {
    match value {
        Json::Str(s) => s.value(),
        other => Writer::write(
            &Style {
                ws: vec![],
                shuffle: 0,
                sorted: false,
            },
            other,
        ),
    }
}

/// A query parameter's name (the whole of it without `=`).
fn query_name(param: &str) -> &str {
    param.split_once('=').map_or(param, |(name, _)| name)
}

/// Some name appears twice among the parameters.
fn repeated_name<S: AsRef<str>>(params: &[S]) -> bool {
    let mut names: Vec<&str> = params.iter().map(|p| query_name(p.as_ref())).collect();
    names.sort_unstable();
    names.windows(2).any(|pair| pair[0] == pair[1])
}
