use super::summary::slices;
use super::*;
use crate::core::report::{encode, Context};
use crate::core::rng::Rng;

fn context(platform: &'static str, sdk: &str) -> Context {
    Context {
        platform,
        sdk: sdk.into(),
        app: "1.0.0".into(),
        env: "release".into(),
        build: "miniprogram".into(),
    }
}

/// A client's delta: `n` requests to `pattern` with latencies from `rng`.
fn delta(rng: &mut Rng, route: Route, pattern: &str, n: u64, samples: &mut Vec<f64>) -> Row {
    let mut row = Row::new(route, pattern.into());
    for _ in 0..n {
        row.requests += 1;
        if rng.up_to(9) == 0 {
            row.cache_hits += 1;
            continue;
        }
        let ms = f64::from(rng.up_to(5000));
        samples.push(ms);
        row.latency.record(ms);
        if rng.up_to(9) == 0 {
            row.errors.push((ErrorKind::Timeout, 1));
        }
    }
    row.errors.dedup_by(|a, b| {
        b.1 += a.1;
        true
    });
    row
}

fn report_text(seed: u64, samples: &mut Vec<f64>) -> String {
    let mut rng = Rng::new(seed);
    let rows = vec![
        delta(&mut rng, Route::Cloud, "/api/order/:id", 40, samples),
        delta(&mut rng, Route::Http, "/api/home/init", 25, samples),
    ];
    let platform = ["iOS", "Android"][(seed % 2) as usize];
    let device = crate::core::report::device_id(None, seed as u32);
    encode(seed, &device, &context(platform, "3.4.1"), rows)
}

#[test]
fn a_report_reads_back_as_it_was_written() {
    let mut samples = Vec::new();
    let text = report_text(1, &mut samples);
    let report = parse(&text).unwrap();
    assert_eq!(report.seq, 1);
    assert_eq!(report.platform, "Android");
    assert_eq!(report.sdk_line(), "3.4");
    assert_eq!(report.rows.len(), 2);
    let sampled: u64 = report.rows.iter().map(|r| r.latency.count()).sum();
    assert_eq!(sampled, samples.len() as u64);
}

#[test]
fn malformed_reports_are_refused_with_a_reason() {
    let mut samples = Vec::new();
    let good = report_text(2, &mut samples);
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "not JSON"),
        ("[]".into(), "must be an object"),
        (good.replace("\"v\":1", "\"v\":2"), "`v`"),
        (
            good.replace("\"route\":\"cloud\"", "\"route\":\"mock\""),
            "route",
        ),
        (
            good.replace("\"platform\":\"iOS\"", "\"platform\":\"Symbian\""),
            "platform",
        ),
        (
            good.replace("\"requests\":40", "\"requests\":-1"),
            "requests",
        ),
        (
            good.replace("\"requests\":40", "\"requests\":1.5"),
            "requests",
        ),
        (good.replace("\"requests\":40", "\"requests\":0"), "among"),
        (
            good.replace("\"buckets\":[", "\"buckets\":[[999,1],"),
            "bucket",
        ),
        (
            good.replace("\"errors\":{", "\"errors\":{\"gremlins\":1,"),
            "unknown kind",
        ),
        (
            good.replace("\"ctx\":{", "\"ctx\":{\"user\":\"x\","),
            "unknown key",
        ),
        (good.replace("\"device\":\"", "\"device\":\"X"), "device"),
        (good.replace("}]}", "},{}]}"), "rows[2]"),
        (format!("{}{}", good, " ".repeat(MAX_REPORT_BYTES)), "bytes"),
    ];
    for (text, why) in cases {
        let error = parse(&text).unwrap_err();
        assert!(error.contains(why), "{why}: {error}");
    }
    // A row twice.
    let report = parse(&good).unwrap();
    let first = good.find("{\"route\"").unwrap();
    let end = good[first..].find("}}").unwrap() + first + 2;
    let twice = format!("{},{}", &good[..end], &good[first..]);
    assert!(report.rows.len() == 2 && parse(&twice).unwrap_err().contains("twice"));
}

#[test]
fn merging_reports_gives_the_histogram_of_all_their_samples() {
    let mut samples = Vec::new();
    let reports: Vec<Report> = (0..12)
        .map(|seed| parse(&report_text(seed, &mut samples)).unwrap())
        .collect();
    let mut window = Window::default();
    for report in &reports {
        window.add(report);
    }
    let mut merged = Row::new(Route::Cloud, "*".into());
    for row in window.rows.values() {
        merged.merge(row);
    }
    let mut exact = crate::core::stats::Histogram::default();
    for &ms in &samples {
        exact.record(ms);
    }
    assert_eq!(merged.latency, exact, "bucket for bucket, sum and maximum");
    for q in [0.5, 0.95, 0.99] {
        assert_eq!(merged.latency.quantile_ms(q), exact.quantile_ms(q));
    }
    assert_eq!(window.devices.len(), 12);
    assert_eq!(window.reports, 12);
    // Split by platform and base library line.
    assert_eq!(
        slices(&window)
            .iter()
            .map(|s| s.0.as_str())
            .collect::<Vec<_>>(),
        ["Android", "Android", "iOS", "iOS"]
    );
}

#[test]
fn merging_is_associative_and_commutative() {
    let mut samples = Vec::new();
    let reports: Vec<Report> = (0..9)
        .map(|seed| parse(&report_text(seed * 7 + 1, &mut samples)).unwrap())
        .collect();
    let window_of = |reports: &[Report]| {
        let mut w = Window::default();
        for r in reports {
            w.add(r);
        }
        w
    };
    let all = window_of(&reports);
    // ((a + b) + c) in a different grouping and order.
    let (a, b, c) = (
        window_of(&reports[..2]),
        window_of(&reports[2..5]),
        window_of(&reports[5..]),
    );
    let mut grouped = c.clone();
    let mut ab = b.clone();
    ab.merge(&a);
    grouped.merge(&ab);
    assert_eq!(summary(&[all], 60_000.0), summary(&[grouped], 60_000.0));
}

#[test]
fn the_fleet_keeps_the_last_windows_by_the_servers_clock() {
    let mut samples = Vec::new();
    let report = parse(&report_text(5, &mut samples)).unwrap();
    let mut fleet = Fleet::new(60_000, 3);
    for minute in [0.0, 1.0, 1.5, 2.0, 3.0, 0.5] {
        fleet.add(&report, 1_800_000_000_000.0 + minute * 60_000.0);
    }
    let starts: Vec<f64> = fleet.windows().iter().map(|w| w.start_ms).collect();
    assert_eq!(starts.len(), 3);
    assert!(starts.windows(2).all(|w| w[1] - w[0] == 60_000.0));
    assert_eq!(fleet.windows()[0].reports, 2, "minutes 1 and 1.5");
    let text = summary(fleet.windows(), fleet.window_ms());
    assert!(crate::core::cache::json::is_json(&text), "{text}");
    assert!(text.contains("\"series\":[{\"start\":"));
}

#[test]
fn the_summary_puts_the_slowest_path_first() {
    let slow = |pattern: &str, ms: f64| {
        let mut row = Row::new(Route::Cloud, pattern.into());
        for _ in 0..10 {
            row.requests += 1;
            row.latency.record(ms);
        }
        row
    };
    let text = encode(
        1,
        "0123456789abcdef",
        &context("iOS", "3.4.1"),
        vec![slow("/fast", 10.0), slow("/slow", 900.0)],
    );
    let mut window = Window::default();
    window.add(&parse(&text).unwrap());
    let summary = summary(&[window], 60_000.0);
    let (fast, slowest) = (
        summary.find("\"/fast\"").unwrap(),
        summary.find("\"/slow\"").unwrap(),
    );
    assert!(slowest < fast, "{summary}");
    assert!(summary.contains("\"byPlatform\":[{\"name\":\"iOS\""));
    assert!(summary.contains("\"bySdk\":[{\"name\":\"3.4\""));
}
