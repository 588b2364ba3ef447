//! Fleet reports: what a client's statistics gained since its last report,
//! sent to the team's own endpoint (`report: { path, everyMs, sample }`), so
//! the backend can merge every device's figures (`core::fleet`). The engine
//! decides when a report goes and what it holds; the shim only sends it.
//!
//! The format is a versioned contract (`docs/fleet.md`): [`encode`] writes it,
//! `core::fleet` reads it back.

pub mod encode;

use crate::core::config::Platform;
use crate::core::error::RequestError;
use crate::core::request::{number, validate_path, whole_or};
use crate::core::rng::Rng;
use crate::prelude::*;

pub use encode::{encode, Context, MAX_REPORT_BYTES};

/// How often a report goes when `report.everyMs` is not given: a minute.
pub const DEFAULT_EVERY_MS: u32 = 60_000;
/// The shortest `report.everyMs`: a second (a load test's; a minute is the norm)...
pub const MIN_EVERY_MS: u32 = 1_000;
/// ...and the longest: a day.
pub const MAX_EVERY_MS: u32 = 86_400_000;
/// A report's one attempt and its one retry together take at most this long.
pub const REPORT_DEADLINE_MS: u32 = 20_000;

/// `report` as the caller gave it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawReport {
    /// `report.path`
    pub path: Option<String>,
    /// `report.everyMs`
    pub every_ms: Option<f64>,
    /// `report.sample`
    pub sample: Option<f64>,
}

/// `report` as validated.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportConfig {
    /// Where reports are POSTed, on the client's route (callContainer or `baseUrl`).
    pub path: String,
    /// How often.
    pub every_ms: u32,
    /// The share of devices that report, 0 to 1.
    pub sample: f64,
}

impl RawReport {
    /// Checks every field; names the first one that is wrong.
    pub fn validate(self) -> Result<ReportConfig, RequestError> {
        let path = self.path.ok_or_else(|| {
            RequestError::invalid(
                "report.path",
                "is required: where your service receives reports, e.g. '/api/fleet/report'",
            )
        })?;
        validate_path(&path).map_err(|e| rename(e, "report.path"))?;
        if path.contains('?') {
            return Err(RequestError::invalid(
                "report.path",
                "must be a path without a query",
            ));
        }
        let every_ms = whole_or(
            "report.everyMs",
            self.every_ms,
            MIN_EVERY_MS,
            MAX_EVERY_MS,
            DEFAULT_EVERY_MS,
        )?;
        let sample = self.sample.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&sample) {
            return Err(RequestError::invalid(
                "report.sample",
                format!(
                    "must be a share of devices from 0 to 1, got {}",
                    number(sample)
                ),
            ));
        }
        Ok(ReportConfig {
            path,
            every_ms,
            sample,
        })
    }
}

/// `error` about `path`, named as the option it came from.
fn rename(error: RequestError, field: &'static str) -> RequestError {
    match error {
        RequestError::Invalid { problem, .. } => RequestError::invalid(field, problem),
        other => other,
    }
}

/// A device's id for reports: 16 hex digits, random once per install (the
/// shim keeps it in storage) and tied to no user. A stored id that is not
/// one is replaced.
pub fn device_id(stored: Option<&str>, seed: u32) -> String {
    if let Some(id) = stored.filter(|id| is_device_id(id)) {
        return id.to_owned();
    }
    let mut rng = Rng::new(u64::from(seed) ^ 0x6465_7669_6365_0000);
    let bits = rng.next_u64();
    let mut id = String::with_capacity(16);
    for shift in (0..16).rev() {
        let digit = ((bits >> (shift * 4)) & 0xf) as u8;
        id.push(char::from(if digit < 10 {
            b'0' + digit
        } else {
            b'a' + digit - 10
        }));
    }
    id
}

/// 16 lower-case hex digits.
pub fn is_device_id(id: &str) -> bool {
    id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether device `id` is among the `sample` share that reports: a fixed
/// function of the id, so a device reports always or never.
pub fn sampled(id: &str, sample: f64) -> bool {
    // Hex digits by hand: `from_str_radix` would cost the engine its own parser.
    let bits = id.bytes().fold(0u64, |n, b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => 0,
        };
        (n << 4) | u64::from(digit)
    });
    // The top 53 bits as a fraction in [0, 1).
    let draw = (bits >> 11) as f64 / (1u64 << 53) as f64;
    draw < sample
}

/// The platform name a team slices by: iOS, Android, devtools, Windows,
/// Mac, or the build's own name outside WeChat (web, node).
pub fn platform_name(platform: &Platform, build: &str) -> &'static str {
    const NAMES: [(&str, &str); 6] = [
        ("ios", "iOS"),
        ("android", "Android"),
        ("devtools", "devtools"),
        ("windows", "Windows"),
        ("mac", "Mac"),
        ("ohos", "HarmonyOS"),
    ];
    let device = platform.device.as_deref().unwrap_or("");
    if let Some((_, name)) = NAMES.iter().find(|(d, _)| device.eq_ignore_ascii_case(d)) {
        return name;
    }
    match build {
        "web" => "web",
        "node" => "node",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(path: &str) -> RawReport {
        RawReport {
            path: Some(path.into()),
            ..RawReport::default()
        }
    }

    #[test]
    fn defaults_and_bounds_are_checked_and_named() {
        let config = raw("/api/fleet/report").validate().unwrap();
        assert_eq!((config.every_ms, config.sample), (DEFAULT_EVERY_MS, 1.0));
        for (bad, field) in [
            (RawReport::default(), "report.path"),
            (raw("api/report"), "report.path"),
            (raw("/api/report?x=1"), "report.path"),
            (
                RawReport {
                    every_ms: Some(999.0),
                    ..raw("/r")
                },
                "report.everyMs",
            ),
            (
                RawReport {
                    sample: Some(1.5),
                    ..raw("/r")
                },
                "report.sample",
            ),
            (
                RawReport {
                    sample: Some(f64::NAN),
                    ..raw("/r")
                },
                "report.sample",
            ),
        ] {
            let error = bad.validate().unwrap_err();
            assert!(error.to_string().contains(field), "{error}");
        }
    }

    #[test]
    fn a_device_keeps_its_id_and_a_seed_gives_the_same_new_one() {
        let id = device_id(None, 7);
        assert!(is_device_id(&id), "{id}");
        assert_eq!(device_id(None, 7), id, "deterministic for a seed");
        assert_ne!(device_id(None, 8), id);
        assert_eq!(device_id(Some(&id), 9), id, "a stored id is kept");
        for bad in ["", "xyz", "0123456789ABCDEF", "0123456789abcdef0"] {
            assert!(is_device_id(&device_id(Some(bad), 1)));
            assert_ne!(device_id(Some(bad), 1), bad);
        }
    }

    #[test]
    fn sampling_is_a_fixed_share_of_devices() {
        let ids: Vec<String> = (0..10_000).map(|seed| device_id(None, seed)).collect();
        for sample in [0.0, 0.1, 0.5, 1.0] {
            let chosen = ids.iter().filter(|id| sampled(id, sample)).count();
            let expected = sample * ids.len() as f64;
            assert!(
                (chosen as f64 - expected).abs() <= 0.02 * ids.len() as f64,
                "{sample}: {chosen}"
            );
            // The same devices every time.
            let again = ids.iter().filter(|id| sampled(id, sample)).count();
            assert_eq!(chosen, again);
        }
        assert!(ids.iter().all(|id| sampled(id, 1.0)));
        assert!(!ids.iter().any(|id| sampled(id, 0.0)));
    }

    #[test]
    fn platforms_are_named_as_teams_slice_them() {
        let on = |device: &str| Platform {
            device: Some(device.into()),
            ..Platform::default()
        };
        assert_eq!(platform_name(&on("ios"), "miniprogram"), "iOS");
        assert_eq!(platform_name(&on("android"), "miniprogram"), "Android");
        assert_eq!(platform_name(&on("devtools"), "miniprogram"), "devtools");
        assert_eq!(platform_name(&on("windows"), "miniprogram"), "Windows");
        assert_eq!(platform_name(&on("mac"), "miniprogram"), "Mac");
        assert_eq!(platform_name(&on("toaster"), "miniprogram"), "other");
        assert_eq!(platform_name(&Platform::default(), "web"), "web");
    }
}
