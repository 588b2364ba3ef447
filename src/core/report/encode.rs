//! A report as the JSON text of the contract's version 1 (`docs/fleet.md`),
//! never longer than [`MAX_REPORT_BYTES`]: rows that do not fit are merged
//! into their route's `(other)` row, the quietest first.
//!
//! ```json
//! {"v":1,"seq":3,"device":"9f86d081884c7d65",
//!  "ctx":{"platform":"iOS","sdk":"3.4.1","app":"1.2.0","env":"release","build":"miniprogram","lib":"0.1.0"},
//!  "rows":[{"route":"cloud","pattern":"/api/order/:id","requests":12,"retries":2,"cacheHits":3,
//!           "errors":{"timeout":1},"latency":{"sumMs":1234,"maxMs":800,"buckets":[[12,3],[40,6]]}}]}
//! ```
//! A bucket is `[index, samples]`: index 0 holds [0, 1) ms, index i from 1 to
//! 144 holds [2^e·(1 + s/8), 2^e·(1 + (s+1)/8)) ms with e = (i-1) / 8 and
//! s = (i-1) % 8, and 145 everything from 2^18 ms on. Fixed buckets merge exactly.

use crate::core::float;
use crate::core::route::Route;
use crate::core::sort::sort_by;
use crate::core::stats::{public_pattern, Row, OTHER};
use crate::prelude::*;

/// The longest report: one small POST.
pub const MAX_REPORT_BYTES: usize = 8 * 1024;
/// The contract's version.
pub const VERSION: u32 = 1;
/// Longer patterns are counted in `(other)`.
pub const MAX_PATTERN_BYTES: usize = 256;
/// Longest context value (longer ones are cut).
pub const MAX_CONTEXT_BYTES: usize = 32;

/// What a team slices the fleet by.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    /// iOS, Android, devtools, Windows, Mac, HarmonyOS, web, node or other.
    pub platform: &'static str,
    /// The base library's version ('3.4.1'), or 'unknown'.
    pub sdk: String,
    /// The app's version (`miniProgram.version`; empty in development).
    pub app: String,
    /// `miniProgram.envVersion`: develop, trial or release (empty outside WeChat).
    pub env: String,
    /// Which build of mp-request: miniprogram, web or node.
    pub build: String,
}

/// The report text of `rows` (each a row's delta; mock rows are left out),
/// named by their patterns as they may leave the device (`public_pattern`:
/// rows that become the same pattern are merged).
pub fn encode(seq: u64, device: &str, context: &Context, rows: Vec<Row>) -> String {
    let mut kept: Vec<Row> = Vec::new();
    let mut other: Vec<Row> = Vec::new();
    for mut row in rows {
        if row.route == Route::Mock {
            continue;
        }
        row.pattern = public_pattern(&row.pattern);
        if row.pattern == OTHER || row.pattern.len() > MAX_PATTERN_BYTES {
            fold(&mut other, &row);
        } else if let Some(same) = kept
            .iter_mut()
            .find(|k| k.route == row.route && k.pattern == row.pattern)
        {
            same.merge(&row);
        } else {
            kept.push(row);
        }
    }
    // The busiest first: what does not fit is the quietest.
    sort_by(&mut kept, |a, b| {
        (b.requests, b.retries, &a.pattern) < (a.requests, a.retries, &b.pattern)
    });
    let head = head(seq, device, context);
    let mut sizes: Vec<usize> = kept.iter().map(|r| row_text(r, &r.pattern).len()).collect();
    let others =
        |other: &[Row]| -> usize { other.iter().map(|r| row_text(r, OTHER).len() + 1).sum() };
    let mut other_bytes = others(&other);
    loop {
        let total = head.len() + sizes.iter().map(|n| n + 1).sum::<usize>() + other_bytes + 2;
        if total <= MAX_REPORT_BYTES || kept.is_empty() {
            break;
        }
        let row = kept.pop().expect("a row");
        sizes.pop();
        fold(&mut other, &row);
        other_bytes = others(&other);
    }
    let mut out = head;
    let mut first = true;
    for row in &kept {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&row_text(row, &row.pattern));
    }
    for row in &other {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&row_text(row, OTHER));
    }
    out.push_str("]}");
    out
}

/// Adds `row` to its route's `(other)` row.
fn fold(other: &mut Vec<Row>, row: &Row) {
    match other.iter_mut().find(|o| o.route == row.route) {
        Some(o) => o.merge(row),
        None => {
            let mut o = Row::new(row.route, OTHER.to_owned());
            o.merge(row);
            other.push(o);
        }
    }
}

/// Everything before the first row.
fn head(seq: u64, device: &str, c: &Context) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"v\":");
    out.push_str(&VERSION.to_string());
    out.push_str(",\"seq\":");
    out.push_str(&seq.to_string());
    out.push_str(",\"device\":");
    push_string(&mut out, device);
    out.push_str(",\"ctx\":{\"platform\":");
    push_string(&mut out, c.platform);
    for (name, value) in [
        ("sdk", c.sdk.as_str()),
        ("app", c.app.as_str()),
        ("env", c.env.as_str()),
        ("build", c.build.as_str()),
        ("lib", env!("CARGO_PKG_VERSION")),
    ] {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
        push_string(&mut out, context_value(value));
    }
    out.push_str("},\"rows\":[");
    out
}

/// A context value cut to [`MAX_CONTEXT_BYTES`] at a character boundary.
fn context_value(value: &str) -> &str {
    let mut end = value.len().min(MAX_CONTEXT_BYTES);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.get(..end).unwrap_or("")
}

/// One row's object.
fn row_text(row: &Row, pattern: &str) -> String {
    let mut out = String::with_capacity(128);
    out.push_str("{\"route\":");
    push_string(&mut out, row.route.as_str());
    out.push_str(",\"pattern\":");
    push_string(&mut out, pattern);
    for (name, value) in [
        ("requests", row.requests),
        ("retries", row.retries),
        ("cacheHits", row.cache_hits),
    ] {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
        out.push_str(&value.to_string());
    }
    out.push_str(",\"errors\":{");
    for (i, (kind, n)) in row.errors.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(&mut out, kind.as_str());
        out.push(':');
        out.push_str(&n.to_string());
    }
    let latency = &row.latency;
    out.push_str("},\"latency\":{\"sumMs\":");
    out.push_str(&whole(latency.sum_ms()).to_string());
    out.push_str(",\"maxMs\":");
    out.push_str(&whole(latency.max_ms()).to_string());
    out.push_str(",\"buckets\":[");
    let mut first = true;
    for (i, &n) in latency.counts().iter().enumerate() {
        if n == 0 {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        out.push('[');
        out.push_str(&i.to_string());
        out.push(',');
        out.push_str(&n.to_string());
        out.push(']');
    }
    out.push_str("]}}");
    out
}

/// Milliseconds as a whole number (samples are whole on every platform:
/// `Date.now()` differences).
fn whole(ms: f64) -> u64 {
    float::round(ms.max(0.0)) as u64
}

/// `text` as a JSON string.
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[(c as usize) >> 4]));
                out.push(char::from(HEX[(c as usize) & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::cache::json::is_json;
    use crate::core::error::ErrorKind;

    fn context() -> Context {
        Context {
            platform: "iOS",
            sdk: "3.4.1".into(),
            app: "1.2.0".into(),
            env: "release".into(),
            build: "miniprogram".into(),
        }
    }

    fn row(route: Route, pattern: &str, requests: u64) -> Row {
        let mut row = Row::new(route, pattern.into());
        row.requests = requests;
        for i in 0..requests {
            row.latency.record(10.0 + i as f64);
        }
        row
    }

    #[test]
    fn a_report_is_the_contracts_json() {
        let mut r = row(Route::Cloud, "/api/order/:id", 2);
        r.retries = 1;
        r.cache_hits = 1;
        r.errors.push((ErrorKind::Timeout, 1));
        let text = encode(3, "9f86d081884c7d65", &context(), vec![r]);
        assert!(is_json(&text), "{text}");
        assert_eq!(
            text,
            concat!(
                r#"{"v":1,"seq":3,"device":"9f86d081884c7d65","ctx":{"platform":"iOS","sdk":"3.4.1","#,
                r#""app":"1.2.0","env":"release","build":"miniprogram","lib":""#,
                env!("CARGO_PKG_VERSION"),
                r#""},"rows":[{"route":"cloud","pattern":"/api/order/:id","requests":2,"retries":1,"#,
                r#""cacheHits":1,"errors":{"timeout":1},"latency":{"sumMs":21,"maxMs":11,"buckets":[[27,1],[28,1]]}}]}"#
            )
        );
    }

    #[test]
    fn mock_rows_are_left_out_and_strings_are_escaped() {
        let mut c = context();
        c.app = "a\"b\\c\u{1}".into();
        let text = encode(
            1,
            "0000000000000000",
            &c,
            vec![row(Route::Mock, "/m", 1), row(Route::Http, "/a", 1)],
        );
        assert!(is_json(&text), "{text}");
        assert!(!text.contains("\"mock\""));
        assert!(text.contains(r#""app":"a\"b\\c\u0001""#), "{text}");
    }

    #[test]
    fn a_report_never_exceeds_its_bound_and_loses_no_request() {
        // 400 rows with full histograms, two routes, long patterns: far beyond 8 KB.
        let mut rows = Vec::new();
        for i in 0..400u64 {
            let route = if i % 2 == 0 {
                Route::Cloud
            } else {
                Route::Http
            };
            let mut r = Row::new(
                route,
                format!("/api/{}/{i}", "x".repeat((i % 300) as usize)),
            );
            r.requests = 1000 - i;
            for ms in 0..2000 {
                r.latency.record(f64::from(ms) * 137.0);
            }
            r.errors.push((ErrorKind::Service, i));
            rows.push(r);
        }
        let total: u64 = rows.iter().map(|r| r.requests).sum();
        let text = encode(9, "0123456789abcdef", &context(), rows);
        assert!(text.len() <= MAX_REPORT_BYTES, "{}", text.len());
        assert!(is_json(&text));
        assert!(text.contains("\"(other)\""));
        let sum: u64 = text
            .split("\"requests\":")
            .skip(1)
            .map(|s| s.split(',').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, total, "rows that did not fit are in (other)");
        // The busiest rows are the ones kept by name.
        assert!(text.contains("\"requests\":1000,"));
    }

    #[test]
    fn rows_leave_the_device_under_public_patterns_merged() {
        let text = encode(
            1,
            "0000000000000000",
            &context(),
            vec![
                row(Route::Cloud, "/api/user/alice@example.com", 2),
                row(Route::Cloud, "/api/user/bob@example.com", 3),
            ],
        );
        assert!(!text.contains("example.com"), "{text}");
        assert!(
            text.contains(r#""pattern":"/api/user/:id","requests":5"#),
            "{text}"
        );
        crate::core::fleet::parse(&text).expect("one row per pattern: the backend takes it");
    }

    #[test]
    fn long_context_values_are_cut_at_a_character() {
        let mut c = context();
        c.app = "版本".repeat(20);
        let text = encode(1, "0000000000000000", &c, Vec::new());
        assert!(is_json(&text), "{text}");
        assert!(
            text.contains(&format!("\"app\":\"{}\"", "版本".repeat(5))),
            "{text}"
        );
    }
}
