//! The fleet view a dashboard draws, as JSON text: per path pattern across
//! every window kept (slowest first, split by platform and by base library
//! line), and a time series of the windows.
//!
//! ```json
//! {"v":1,"windowMs":60000,
//!  "total":{"reports":3,"devices":2,"requests":40,"failed":2,"errorRate":0.05,"p50Ms":40,"p95Ms":120,"p99Ms":120},
//!  "series":[{"start":1764720000000,"reports":3,"devices":2,"requests":40,...}],
//!  "paths":[{"route":"cloud","pattern":"/api/order/:id","requests":12,"failed":1,"errorRate":0.083,
//!            "retries":2,"cacheHits":3,"meanMs":40,"p50Ms":40,"p95Ms":120,"p99Ms":120,"maxMs":118,
//!            "errors":{"timeout":1},"byPlatform":[{"name":"iOS",...}],"bySdk":[{"name":"3.4",...}]}]}
//! ```

use super::Window;
use crate::core::hash::FxHashMap as HashMap;
use crate::core::report::encode::push_string;
use crate::core::route::Route;
use crate::core::sort::sort_by;
use crate::core::stats::Row;
use crate::prelude::*;

/// The summary of `windows` (oldest first) of `window_ms` each.
pub fn summary(windows: &[Window], window_ms: f64) -> String {
    let mut all = Window::default();
    for window in windows {
        all.merge(window);
    }
    let mut out = String::from("{\"v\":1,\"windowMs\":");
    out.push_str(&num(window_ms));
    out.push_str(",\"total\":");
    push_figures(&mut out, &total(&all), all.reports, all.devices.len());
    out.push_str(",\"series\":[");
    for (i, window) in windows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"start\":");
        out.push_str(&num(window.start_ms));
        out.push(',');
        let mut figures = String::new();
        push_figures(
            &mut figures,
            &total(window),
            window.reports,
            window.devices.len(),
        );
        // The figures' members, inside this object.
        out.push_str(&figures[1..]);
    }
    out.push_str("],\"paths\":[");
    for (i, path) in paths(&all).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_path(&mut out, path);
    }
    out.push_str("]}");
    out
}

/// One path pattern across the fleet, and its splits.
struct Path {
    row: Row,
    by_platform: Vec<(String, Row)>,
    by_sdk: Vec<(String, Row)>,
}

/// Every (route, pattern), slowest first (p95, then the busiest).
fn paths(all: &Window) -> Vec<Path> {
    let mut by_path: HashMap<(Route, String), Path> = HashMap::default();
    for ((platform, line, route, pattern), row) in &all.rows {
        let path = by_path
            .entry((*route, pattern.clone()))
            .or_insert_with(|| Path {
                row: Row::new(*route, pattern.clone()),
                by_platform: Vec::new(),
                by_sdk: Vec::new(),
            });
        path.row.merge(row);
        add_to(&mut path.by_platform, platform, row);
        add_to(&mut path.by_sdk, line, row);
    }
    let mut paths: Vec<Path> = by_path.into_values().collect();
    for path in &mut paths {
        sort_by(&mut path.by_platform, |a, b| busier(&a.1, &b.1, &a.0, &b.0));
        sort_by(&mut path.by_sdk, |a, b| busier(&a.1, &b.1, &a.0, &b.0));
    }
    sort_by(&mut paths, |a, b| {
        let (pa, pb) = (
            a.row.latency.quantile_ms(0.95),
            b.row.latency.quantile_ms(0.95),
        );
        if pa != pb {
            return pa > pb;
        }
        if a.row.requests != b.row.requests {
            return a.row.requests > b.row.requests;
        }
        (a.row.pattern.as_str(), a.row.route.as_str())
            < (b.row.pattern.as_str(), b.row.route.as_str())
    });
    paths
}

/// More requests first, then by name.
fn busier(a: &Row, b: &Row, a_name: &str, b_name: &str) -> bool {
    (b.requests, a_name) < (a.requests, b_name)
}

fn add_to(split: &mut Vec<(String, Row)>, name: &str, row: &Row) {
    match split.iter_mut().find(|(n, _)| n == name) {
        Some((_, mine)) => mine.merge(row),
        None => {
            let mut mine = Row::new(row.route, row.pattern.clone());
            mine.merge(row);
            split.push((name.to_owned(), mine));
        }
    }
}

/// Every row of a window merged.
fn total(window: &Window) -> Row {
    let mut total = Row::new(Route::Cloud, "*".into());
    for row in window.rows.values() {
        total.merge(row);
    }
    total
}

/// `{reports, devices, requests, failed, errorRate, p50Ms, p95Ms, p99Ms}`.
fn push_figures(out: &mut String, row: &Row, reports: u64, devices: usize) {
    out.push_str("{\"reports\":");
    out.push_str(&reports.to_string());
    out.push_str(",\"devices\":");
    out.push_str(&devices.to_string());
    out.push(',');
    push_core(out, row);
    out.push('}');
}

/// `requests, failed, errorRate, p50Ms, p95Ms, p99Ms` (no braces).
fn push_core(out: &mut String, row: &Row) {
    out.push_str("\"requests\":");
    out.push_str(&row.requests.to_string());
    out.push_str(",\"failed\":");
    out.push_str(&row.failed().to_string());
    out.push_str(",\"errorRate\":");
    out.push_str(&num(error_rate(row)));
    for (name, q) in [("p50Ms", 0.5), ("p95Ms", 0.95), ("p99Ms", 0.99)] {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
        out.push_str(&num(row.latency.quantile_ms(q)));
    }
}

fn push_path(out: &mut String, path: &Path) {
    let row = &path.row;
    out.push_str("{\"route\":");
    push_string(out, row.route.as_str());
    out.push_str(",\"pattern\":");
    push_string(out, &row.pattern);
    out.push(',');
    push_core(out, row);
    out.push_str(",\"retries\":");
    out.push_str(&row.retries.to_string());
    out.push_str(",\"cacheHits\":");
    out.push_str(&row.cache_hits.to_string());
    out.push_str(",\"meanMs\":");
    out.push_str(&num(row.latency.mean_ms()));
    out.push_str(",\"maxMs\":");
    out.push_str(&num(row.latency.max_ms()));
    out.push_str(",\"errors\":{");
    let mut errors = row.errors.clone();
    sort_by(&mut errors, |a, b| a.0.as_str() < b.0.as_str());
    for (i, (kind, n)) in errors.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(out, kind.as_str());
        out.push(':');
        out.push_str(&n.to_string());
    }
    out.push('}');
    for (name, split) in [("byPlatform", &path.by_platform), ("bySdk", &path.by_sdk)] {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":[");
        for (i, (part, row)) in split.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            push_string(out, part);
            out.push(',');
            push_core(out, row);
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
}

/// Failed requests over requests (0 without requests).
fn error_rate(row: &Row) -> f64 {
    if row.requests == 0 {
        0.0
    } else {
        row.failed() as f64 / row.requests as f64
    }
}

/// A finite number as JSON writes it (the fleet module is Node's: float
/// formatting costs it nothing that matters).
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "0".into();
    }
    if crate::core::float::is_whole(x) && x.abs() < 9.0e15 {
        return (x as i64).to_string();
    }
    format!("{x}")
}

/// The slices of a window as (platform, line) pairs, for tests.
#[cfg(test)]
pub(super) fn slices(window: &Window) -> Vec<super::Slice> {
    let mut s: Vec<super::Slice> = window.rows.keys().cloned().collect();
    sort_by(&mut s, |a, b| {
        (&a.0, &a.1, a.2.as_str(), &a.3) < (&b.0, &b.1, b.2.as_str(), &b.3)
    });
    s
}
