//! The backend side of fleet reports: a report read back and checked
//! ([`parse`]), reports merged per time window ([`Fleet`]), and the merged
//! figures summarised for a dashboard ([`summary`]). The histograms have fixed
//! buckets, so merging is exact: the merge of many reports is the histogram of
//! all their samples, in any order and grouping.
//!
//! Built into the Node module (`--features fleet`), never into the
//! mini-program's engine.

pub mod json;
pub mod summary;

use crate::core::error::ErrorKind;
use crate::core::hash::FxHashMap as HashMap;
use crate::core::report::encode::{MAX_CONTEXT_BYTES, MAX_PATTERN_BYTES, VERSION};
use crate::core::report::{is_device_id, MAX_REPORT_BYTES};
use crate::core::route::Route;
use crate::core::stats::histogram::BUCKETS;
use crate::core::stats::{Histogram, Row, OTHER};
use crate::prelude::*;
use json::Json;

pub use summary::summary;

/// Platforms a report may name.
pub const PLATFORMS: &[&str] = &[
    "iOS",
    "Android",
    "devtools",
    "Windows",
    "Mac",
    "HarmonyOS",
    "web",
    "node",
    "other",
];

/// The largest count a report may carry: far beyond a device's delta, and
/// small enough that sums over billions of reports stay exact (and merges
/// saturate beyond that rather than wrap).
const MAX_COUNT: f64 = 4_294_967_295.0;

/// A report as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The client's report counter.
    pub seq: u64,
    /// The device's random id.
    pub device: String,
    /// What the fleet is sliced by.
    pub platform: String,
    /// The base library's version, as sent.
    pub sdk: String,
    /// The app's version.
    pub app: String,
    /// develop, trial or release.
    pub env: String,
    /// The mp-request build.
    pub build: String,
    /// The mp-request version.
    pub lib: String,
    /// The rows (no two with the same route and pattern).
    pub rows: Vec<Row>,
}

impl Report {
    /// The base library as `major.minor` ('3.4'), what the fleet is split by.
    pub fn sdk_line(&self) -> String {
        let mut parts = self.sdk.split('.');
        match (parts.next(), parts.next()) {
            (Some(major), Some(minor)) if !major.is_empty() => format!("{major}.{minor}"),
            _ => "unknown".into(),
        }
    }
}

/// `text` as a report of the contract's version 1, or why it is refused.
pub fn parse(text: &str) -> Result<Report, String> {
    if text.len() > MAX_REPORT_BYTES {
        return Err(format!(
            "the report is {} bytes; at most {MAX_REPORT_BYTES}",
            text.len()
        ));
    }
    let value = json::parse(text)?;
    let top = object("the report", &value, &["v", "seq", "device", "ctx", "rows"])?;
    if top.get("v") != Some(&Json::Num(f64::from(VERSION))) {
        return Err(format!("`v` must be {VERSION}"));
    }
    let seq = count("seq", top.get("seq"))?;
    let device = string("device", top.get("device"), 16)?;
    if !is_device_id(&device) {
        return Err("`device` must be 16 lower-case hex digits".into());
    }
    let ctx = top.get("ctx").unwrap_or(&Json::Null);
    let ctx = object(
        "ctx",
        ctx,
        &["platform", "sdk", "app", "env", "build", "lib"],
    )?;
    let field = |name: &str| string(&format!("ctx.{name}"), ctx.get(name), MAX_CONTEXT_BYTES);
    let platform = field("platform")?;
    if !PLATFORMS.contains(&platform.as_str()) {
        return Err(format!(
            "`ctx.platform` must be one of {}",
            crate::core::text::join(PLATFORMS.iter().copied(), ", ")
        ));
    }
    let mut report = Report {
        seq,
        device,
        platform,
        sdk: field("sdk")?,
        app: field("app")?,
        env: field("env")?,
        build: field("build")?,
        lib: field("lib")?,
        rows: Vec::new(),
    };
    let Some(Json::Arr(rows)) = top.get("rows") else {
        return Err("`rows` must be an array".into());
    };
    for (i, row) in rows.iter().enumerate() {
        let row = read_row(row).map_err(|e| format!("rows[{i}]: {e}"))?;
        if report
            .rows
            .iter()
            .any(|r| r.route == row.route && r.pattern == row.pattern)
        {
            return Err(format!(
                "rows[{i}]: ({}, {}) appears twice",
                row.route.as_str(),
                row.pattern
            ));
        }
        report.rows.push(row);
    }
    Ok(report)
}

fn read_row(value: &Json) -> Result<Row, String> {
    let row = object(
        "a row",
        value,
        &[
            "route",
            "pattern",
            "requests",
            "retries",
            "cacheHits",
            "errors",
            "latency",
        ],
    )?;
    let route = match row.get("route") {
        Some(Json::Str(r)) if r == "cloud" => Route::Cloud,
        Some(Json::Str(r)) if r == "http" => Route::Http,
        _ => return Err("`route` must be 'cloud' or 'http'".into()),
    };
    let pattern = string("pattern", row.get("pattern"), MAX_PATTERN_BYTES)?;
    if !pattern.starts_with('/') && pattern != OTHER {
        return Err("`pattern` must start with '/' or be '(other)'".into());
    }
    let mut out = Row::new(route, pattern);
    out.requests = count("requests", row.get("requests"))?;
    out.retries = count("retries", row.get("retries"))?;
    out.cache_hits = count("cacheHits", row.get("cacheHits"))?;
    let errors = row.get("errors").unwrap_or(&Json::Null);
    let Json::Obj(errors) = errors else {
        return Err("`errors` must be an object".into());
    };
    for (name, n) in errors {
        let kind = ErrorKind::ALL
            .iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| format!("`errors` names an unknown kind '{name}'"))?;
        if out.errors.iter().any(|(k, _)| k == kind) {
            return Err(format!("`errors.{name}` appears twice"));
        }
        out.errors
            .push((*kind, count(&format!("errors.{name}"), Some(n))?));
    }
    let latency = row.get("latency").unwrap_or(&Json::Null);
    let latency = object("latency", latency, &["sumMs", "maxMs", "buckets"])?;
    let sum_ms = count("latency.sumMs", latency.get("sumMs"))?;
    let max_ms = count("latency.maxMs", latency.get("maxMs"))?;
    let Some(Json::Arr(buckets)) = latency.get("buckets") else {
        return Err("`latency.buckets` must be an array".into());
    };
    let mut counts = [0u32; BUCKETS];
    let mut last = None;
    for bucket in buckets {
        let pair = match bucket {
            Json::Arr(pair) if pair.len() == 2 => pair,
            _ => return Err("a bucket must be [index, samples]".into()),
        };
        let index = count("a bucket's index", Some(&pair[0]))?;
        let samples = count("a bucket's samples", Some(&pair[1]))?;
        if index >= BUCKETS as u64 || last.is_some_and(|l| index <= l) {
            return Err(format!(
                "bucket indexes must rise from 0 to {}",
                BUCKETS - 1
            ));
        }
        if samples == 0 || samples > u64::from(u32::MAX) {
            return Err("a bucket holds 1 to 4294967295 samples".into());
        }
        last = Some(index);
        counts[index as usize] = samples as u32;
    }
    out.latency = Histogram::from_parts(counts, sum_ms as f64, max_ms as f64);
    let failed = out.failed();
    if out.cache_hits > out.requests || failed > out.requests {
        return Err("`cacheHits` and the errors are counted among `requests`".into());
    }
    if out.latency.count() > out.requests {
        return Err("the latency has more samples than `requests`".into());
    }
    if out.latency.count() == 0 && (max_ms > 0 || sum_ms > 0) {
        return Err("`latency` has a sum or maximum without samples".into());
    }
    Ok(out)
}

/// `value` as an object with only `known` keys.
fn object<'a>(what: &str, value: &'a Json, known: &[&str]) -> Result<&'a Json, String> {
    let Json::Obj(members) = value else {
        return Err(format!("{what} must be an object, got {}", value.kind()));
    };
    if let Some((key, _)) = members.iter().find(|(k, _)| !known.contains(&k.as_str())) {
        return Err(format!(
            "{what} has an unknown key '{}'",
            key.chars().take(32).collect::<String>()
        ));
    }
    // JSON.parse keeps the last of two same keys, this reader the first: such
    // a report is refused rather than read differently by the two.
    for (i, (key, _)) in members.iter().enumerate() {
        if members[..i].iter().any(|(k, _)| k == key) {
            return Err(format!("{what} has the key '{key}' twice"));
        }
    }
    Ok(value)
}

fn count(name: &str, value: Option<&Json>) -> Result<u64, String> {
    match value {
        Some(Json::Num(n)) if *n >= 0.0 && *n <= MAX_COUNT && crate::core::float::is_whole(*n) => {
            Ok(*n as u64)
        }
        _ => Err(format!("`{name}` must be a whole number from 0")),
    }
}

fn string(name: &str, value: Option<&Json>, max: usize) -> Result<String, String> {
    match value {
        Some(Json::Str(s)) if s.len() <= max => Ok(s.clone()),
        Some(Json::Str(_)) => Err(format!("`{name}` is longer than {max} bytes")),
        _ => Err(format!("`{name}` must be a string")),
    }
}

/// What the fleet view is split by: platform, base library line, route, pattern.
pub type Slice = (String, String, Route, String);

/// The merged figures of one time window.
#[derive(Clone, Debug, Default)]
pub struct Window {
    /// Where the window starts (ms since the epoch, a multiple of its length).
    pub start_ms: f64,
    /// Per slice.
    pub rows: HashMap<Slice, Row>,
    /// Devices that reported in it (at most [`MAX_DEVICES`] are told apart).
    pub devices: Vec<String>,
    /// Reports merged.
    pub reports: u64,
}

/// Devices told apart per window.
pub const MAX_DEVICES: usize = 100_000;

impl Window {
    /// Adds every row of `report`.
    pub fn add(&mut self, report: &Report) {
        let (platform, line) = (report.platform.clone(), report.sdk_line());
        for row in &report.rows {
            let slice = (
                platform.clone(),
                line.clone(),
                row.route,
                row.pattern.clone(),
            );
            self.rows
                .entry(slice)
                .or_insert_with(|| Row::new(row.route, row.pattern.clone()))
                .merge(row);
        }
        if self.devices.len() < MAX_DEVICES && !self.devices.contains(&report.device) {
            self.devices.push(report.device.clone());
        }
        self.reports = self.reports.saturating_add(1);
    }

    /// Adds every row of `other` (merging is associative and commutative).
    pub fn merge(&mut self, other: &Window) {
        for (slice, row) in &other.rows {
            self.rows
                .entry(slice.clone())
                .or_insert_with(|| Row::new(row.route, row.pattern.clone()))
                .merge(row);
        }
        for device in &other.devices {
            if self.devices.len() < MAX_DEVICES && !self.devices.contains(device) {
                self.devices.push(device.clone());
            }
        }
        self.reports = self.reports.saturating_add(other.reports);
    }
}

/// Reports merged per time window, the last `keep` windows kept.
#[derive(Clone, Debug)]
pub struct Fleet {
    window_ms: f64,
    keep: usize,
    windows: Vec<Window>,
}

impl Fleet {
    /// Windows of `window_ms`, the last `keep` of them kept.
    pub fn new(window_ms: u32, keep: u32) -> Fleet {
        Fleet {
            window_ms: f64::from(window_ms.max(1)),
            keep: keep.max(1) as usize,
            windows: Vec::new(),
        }
    }

    /// The windows' length.
    pub fn window_ms(&self) -> f64 {
        self.window_ms
    }

    /// Adds a report received at `now_ms` (the server's clock decides its window).
    pub fn add(&mut self, report: &Report, now_ms: f64) {
        if !now_ms.is_finite() {
            // No window: the boundary refuses such a clock before this.
            return;
        }
        let start_ms = crate::core::float::trunc(now_ms / self.window_ms) * self.window_ms;
        let at = match self.windows.iter().position(|w| w.start_ms == start_ms) {
            Some(at) => at,
            None => {
                self.windows.push(Window {
                    start_ms,
                    ..Window::default()
                });
                crate::core::sort::sort_by(&mut self.windows, |a, b| a.start_ms < b.start_ms);
                let excess = self.windows.len().saturating_sub(self.keep);
                self.windows.drain(..excess);
                match self.windows.iter().position(|w| w.start_ms == start_ms) {
                    Some(at) => at,
                    // Older than every window kept.
                    None => return,
                }
            }
        };
        self.windows[at].add(report);
    }

    /// The windows kept, oldest first.
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }
}

#[cfg(test)]
mod tests;
