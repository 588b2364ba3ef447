//! Client configuration and the facts about the platform the shim reports.

use super::backoff::Backoff;
use super::cache::rules::{CacheConfig, RawCacheConfig};
use super::error::RequestError;
use super::locale::Locale;
use super::mock::MockRoute;
use super::request::{quoted, validate_timeout, whole_or};
use super::resilience::breaker::RawBreaker;
use super::resilience::budget::RawBudget;
use super::resilience::{BreakerConfig, BudgetConfig};
use super::retry::RetryPolicy;
use super::stats::StatsConfig;
use crate::prelude::*;

/// Per-attempt timeout when neither the client nor the request sets one.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

/// Which routes the client uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Mock in the devtools when mock routes exist, else cloud, else HTTP.
    #[default]
    Auto,
    /// callContainer (HTTP fallback when it is unavailable and `baseUrl` is set).
    Cloud,
    /// `wx.request` against `baseUrl`.
    Http,
    /// The mock routes (never in a release build).
    Mock,
}

impl Mode {
    fn parse(name: &str) -> Result<Mode, RequestError> {
        match name {
            "auto" => Ok(Mode::Auto),
            "cloud" => Ok(Mode::Cloud),
            "http" => Ok(Mode::Http),
            "mock" => Ok(Mode::Mock),
            other => Err(RequestError::invalid(
                "mode",
                format!(
                    "must be 'auto', 'cloud', 'http' or 'mock', got {}",
                    quoted(other, 32)
                ),
            )),
        }
    }
}

/// When mock routes answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MockEnabled {
    /// In the devtools only.
    #[default]
    Auto,
    /// Wherever the build is not a release.
    On,
    /// Never (unless a request asks for `route: 'mock'`).
    Off,
}

/// The client's mock routes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MockConfig {
    /// Patterns, in configured order.
    pub routes: Vec<MockRoute>,
    /// When they answer.
    pub enabled: MockEnabled,
    /// Serve them even in a release build (the shim warns loudly).
    pub allow_in_release: bool,
    /// An unmatched request goes to the real route instead of failing.
    pub passthrough: bool,
}

/// The client's validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    /// Cloud Run environment id (`config.env` of callContainer).
    pub env: Option<String>,
    /// Cloud Run service name (the `X-WX-SERVICE` header).
    pub service: Option<String>,
    /// Resource reuse: the account that owns the environment.
    pub resource_appid: Option<String>,
    /// Resource reuse: the environment id in that account (defaults to `env`).
    pub resource_env: Option<String>,
    /// `cloud`: the app gave its own initialised `wx.cloud.Cloud` instance
    /// (or `wx.cloud` itself). The library never initialises it.
    pub cloud_given: bool,
    /// Base URL of the plain HTTP route, without a trailing '/'.
    pub base_url: Option<String>,
    /// Per-attempt timeout.
    pub timeout_ms: u32,
    /// Language of user messages.
    pub locale: Locale,
    /// Which routes to use.
    pub mode: Mode,
    /// Retries unless a request says otherwise.
    pub retry: RetryPolicy,
    /// The retry budget of each service; None: retries are not budgeted.
    pub retry_budget: Option<BudgetConfig>,
    /// The circuit breaker of each service; None: no breaker.
    pub breaker: Option<BreakerConfig>,
    /// Attempts in flight at once per transport; the rest queue.
    pub max_concurrent: u32,
    /// Bounds of the offline mutation queue.
    pub offline_queue: super::offline::QueueLimits,
    /// `debug: true`: every answer and error carries `explain`.
    pub explain: bool,
    /// Mock routes.
    pub mock: MockConfig,
    /// Seed of the jitter; None: the shim's random seed.
    pub seed: Option<u32>,
    /// The result cache.
    pub cache: CacheConfig,
    /// How statistics group requests.
    pub stats: StatsConfig,
    /// `header` given as an object: sent with every attempt, under the request's own.
    pub client_headers: Vec<(String, String)>,
    /// `header` given as a function: the shim calls it for every attempt
    /// (`Command::Headers`), so a refreshed token reaches retries and replays.
    pub header_function: bool,
    /// Fleet reports (`report`); None: off.
    pub report: Option<super::report::ReportConfig>,
    /// Failures go to WeChat's realtime log too (`realtimeLog`, default true).
    pub realtime_log: bool,
}

impl ClientConfig {
    /// The environment the cloud route calls.
    pub fn cloud_env(&self) -> Option<&str> {
        self.resource_env.as_deref().or(self.env.as_deref())
    }

    /// A Cloud Run backend is configured: an environment, or the app's own instance.
    pub fn has_cloud_backend(&self) -> bool {
        self.cloud_given || self.cloud_env().is_some()
    }
}

/// `retry` as given: `false`, or an object whose fields override defaults.
#[derive(Clone, Debug, PartialEq)]
pub enum RawRetry {
    /// `retry: false`
    Disabled,
    /// `retry: { limit, baseMs, capMs, deadlineMs }`
    Custom {
        /// `limit`
        limit: Option<f64>,
        /// `baseMs`
        base_ms: Option<f64>,
        /// `capMs`
        cap_ms: Option<f64>,
        /// `deadlineMs`
        deadline_ms: Option<f64>,
    },
}

impl RawRetry {
    /// The policy this gives on top of `parent`; `field` names the option in errors.
    pub fn validate(self, field: &str, parent: RetryPolicy) -> Result<RetryPolicy, RequestError> {
        let (limit, base_ms, cap_ms, deadline_ms) = match self {
            RawRetry::Disabled => return Ok(parent.disabled()),
            RawRetry::Custom {
                limit,
                base_ms,
                cap_ms,
                deadline_ms,
            } => (limit, base_ms, cap_ms, deadline_ms),
        };
        let int = |name: &str, value: Option<f64>, min: u32, max: u32, default: u32| {
            whole_or(format!("{field}.{name}"), value, min, max, default)
        };
        let policy = RetryPolicy {
            limit: int("limit", limit, 0, 10, parent.limit)?,
            backoff: Backoff {
                base_ms: int("baseMs", base_ms, 1, 60_000, parent.backoff.base_ms)?,
                cap_ms: int("capMs", cap_ms, 1, 60_000, parent.backoff.cap_ms)?,
            },
            deadline_ms: int("deadlineMs", deadline_ms, 1, 600_000, parent.deadline_ms)?,
        };
        if policy.backoff.cap_ms < policy.backoff.base_ms {
            return Err(RequestError::invalid(
                format!("{field}.capMs"),
                format!(
                    "must not be below baseMs ({} < {})",
                    policy.backoff.cap_ms, policy.backoff.base_ms
                ),
            ));
        }
        Ok(policy)
    }
}

/// A mock route as given: `{ method, path }` (its response stays in JS).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawMockRoute {
    /// `method`; None matches any.
    pub method: Option<String>,
    /// `path` pattern.
    pub path: String,
}

/// What the boundary extracted from `createClient(options)`.
#[derive(Clone, Debug, Default)]
pub struct RawConfig {
    /// `env`
    pub env: Option<String>,
    /// `service`
    pub service: Option<String>,
    /// `resourceAppid`
    pub resource_appid: Option<String>,
    /// `resourceEnv`
    pub resource_env: Option<String>,
    /// `cloud`: an instance was given (the boundary checked its shape).
    pub cloud_given: bool,
    /// `baseUrl`
    pub base_url: Option<String>,
    /// `timeoutMs`
    pub timeout_ms: Option<f64>,
    /// `locale`
    pub locale: Option<String>,
    /// `mode`
    pub mode: Option<String>,
    /// `retry`
    pub retry: Option<RawRetry>,
    /// `retryBudget`
    pub retry_budget: RawBudget,
    /// `breaker`
    pub breaker: RawBreaker,
    /// `maxConcurrent`
    pub max_concurrent: Option<f64>,
    /// `offlineQueue.maxItems`
    pub offline_queue_max_items: Option<f64>,
    /// `offlineQueue.maxBytes`
    pub offline_queue_max_bytes: Option<f64>,
    /// `debug`
    pub debug: bool,
    /// `mock.routes`
    pub mock_routes: Vec<RawMockRoute>,
    /// `mock.enabled`: true, false or 'auto'
    pub mock_enabled: Option<MockEnabled>,
    /// `mock.allowInRelease`
    pub mock_allow_in_release: bool,
    /// `mock.passthrough`
    pub mock_passthrough: bool,
    /// `seed`
    pub seed: Option<f64>,
    /// `cache`
    pub cache: Option<RawCacheConfig>,
    /// `stats.patterns`
    pub stats_patterns: Vec<String>,
    /// `stats.maxPatterns`
    pub stats_max_patterns: Option<f64>,
    /// `header` as an object.
    pub headers: Vec<(String, String)>,
    /// `header` as a function.
    pub header_function: bool,
    /// `report`
    pub report: Option<super::report::RawReport>,
    /// `realtimeLog`
    pub realtime_log: Option<bool>,
}

impl RawConfig {
    /// Checks every option and returns the configuration, or the first problem.
    pub fn validate(self) -> Result<ClientConfig, RequestError> {
        let env = non_empty("env", self.env)?;
        let service = non_empty("service", self.service)?;
        let resource_appid = non_empty("resourceAppid", self.resource_appid)?;
        let resource_env = non_empty("resourceEnv", self.resource_env)?;
        let base_url = self.base_url.map(validate_base_url).transpose()?;
        if self.cloud_given {
            // The instance carries its own environment and owner.
            for (field, value) in [
                ("resourceAppid", &resource_appid),
                ("resourceEnv", &resource_env),
            ] {
                if value.is_some() {
                    return Err(RequestError::invalid(
                        field,
                        "does not apply with `cloud`: give it to `new wx.cloud.Cloud` when you make the instance",
                    ));
                }
            }
            if service.is_none() {
                return Err(RequestError::invalid(
                    "service",
                    "is required with `cloud`: callContainer routes by the X-WX-SERVICE header",
                ));
            }
        }
        if (env.is_some() || resource_env.is_some()) && service.is_none() {
            return Err(RequestError::invalid(
                "service",
                "is required with `env`: callContainer routes by the X-WX-SERVICE header",
            ));
        }
        if resource_appid.is_some() && env.is_none() && resource_env.is_none() {
            return Err(RequestError::invalid(
                "resourceEnv",
                "or `env` is required with `resourceAppid`",
            ));
        }
        let mode = self
            .mode
            .as_deref()
            .map(Mode::parse)
            .transpose()?
            .unwrap_or_default();
        let mut routes = Vec::with_capacity(self.mock_routes.len());
        for (i, route) in self.mock_routes.iter().enumerate() {
            routes.push(MockRoute::parse(
                &format!("mock.routes[{i}]"),
                route.method.as_deref(),
                &route.path,
            )?);
        }
        let has_backend =
            self.cloud_given || env.is_some() || resource_env.is_some() || base_url.is_some();
        if !has_backend && routes.is_empty() {
            return Err(RequestError::invalid(
                "env",
                "or `baseUrl` is required (or `cloud`, the app's instance): without one there is no backend to call",
            ));
        }
        let timeout_ms = match self.timeout_ms {
            Some(t) => validate_timeout("timeoutMs", t)?,
            None => DEFAULT_TIMEOUT_MS,
        };
        let locale = match self.locale {
            Some(tag) => Locale::parse(&tag).ok_or_else(|| {
                RequestError::invalid(
                    "locale",
                    format!("must be 'zh-CN' or 'en', got {}", quoted(&tag, 32)),
                )
            })?,
            None => Locale::default(),
        };
        let retry = match self.retry {
            Some(raw) => raw.validate("retry", RetryPolicy::DEFAULT)?,
            None => RetryPolicy::DEFAULT,
        };
        let seed = self
            .seed
            .map(|s| whole_or("seed", Some(s), 0, u32::MAX, 0))
            .transpose()?;
        let cache = self.cache.unwrap_or_default().validate()?;
        let stats = StatsConfig::parse(&self.stats_patterns, self.stats_max_patterns)?;
        super::limits::check_headers(&self.headers)?;
        let report = self.report.map(|r| r.validate()).transpose()?;
        Ok(ClientConfig {
            cache,
            stats,
            report,
            realtime_log: self.realtime_log.unwrap_or(true),
            client_headers: self.headers,
            header_function: self.header_function,
            env,
            service,
            resource_appid,
            resource_env,
            cloud_given: self.cloud_given,
            base_url,
            timeout_ms,
            locale,
            mode,
            retry,
            retry_budget: self.retry_budget.validate()?,
            breaker: self.breaker.validate()?,
            max_concurrent: whole_or(
                "maxConcurrent",
                self.max_concurrent,
                1,
                100,
                super::scheduler::DEFAULT_MAX_CONCURRENT,
            )?,
            offline_queue: super::offline::QueueLimits::parse(
                self.offline_queue_max_items,
                self.offline_queue_max_bytes,
            )?,
            explain: self.debug,
            mock: MockConfig {
                routes,
                enabled: self.mock_enabled.unwrap_or_default(),
                allow_in_release: self.mock_allow_in_release,
                passthrough: self.mock_passthrough,
            },
            seed,
        })
    }
}

fn non_empty(field: &'static str, value: Option<String>) -> Result<Option<String>, RequestError> {
    match value {
        Some(v) if v.trim().is_empty() => Err(RequestError::invalid(field, "must not be empty")),
        other => Ok(other),
    }
}

fn validate_base_url(url: String) -> Result<String, RequestError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !url.contains(['?', '#']) => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        _ => Err(RequestError::invalid(
            "baseUrl",
            format!(
                "must be an http(s) URL without query or fragment, got {}",
                quoted(&url, 64)
            ),
        )),
    }
}

/// The oldest base library Cloud Run's callContainer works on: the Cloud Run
/// FAQ asks for 2.23.0 (the seed said 2.21.1, when callContainer appeared).
pub const CLOUD_MIN_SDK: (u32, u32, u32) = (2, 23, 0);

/// [`CLOUD_MIN_SDK`] as the docs write it.
pub const CLOUD_MIN_SDK_TEXT: &str = "2.23.0";

/// What the shim found out about the runtime it runs in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Platform {
    /// `wx.cloud.callContainer` exists.
    pub has_cloud: bool,
    /// Base library version, when known.
    pub sdk_version: Option<(u32, u32, u32)>,
    /// `wx.getDeviceInfo().platform`: 'devtools', 'ios', 'android', ...
    pub device: Option<String>,
    /// `miniProgram.envVersion`: 'develop', 'trial' or 'release'.
    pub env_version: Option<String>,
}

impl Platform {
    /// A release build: never mock data.
    pub fn is_release(&self) -> bool {
        self.env_version.as_deref() == Some("release")
    }

    /// Running in the WeChat devtools.
    pub fn is_devtools(&self) -> bool {
        self.device.as_deref() == Some("devtools")
    }

    /// The base library is known to be older than [`CLOUD_MIN_SDK`].
    pub fn sdk_too_old(&self) -> bool {
        self.sdk_version.is_some_and(|v| v < CLOUD_MIN_SDK)
    }

    /// The base library's version as written ('2.20.3'), or 'unknown'.
    pub fn sdk_text(&self) -> String {
        self.sdk_version
            .map_or_else(|| "unknown".into(), |(a, b, c)| format!("{a}.{b}.{c}"))
    }
}

/// Parses a base library version like "2.21.1" (missing parts count as 0).
pub fn parse_sdk_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud() -> RawConfig {
        RawConfig {
            env: Some("prod-5g94mx7a3d07e78c".into()),
            service: Some("golang-lfwy".into()),
            ..RawConfig::default()
        }
    }

    #[test]
    fn cloud_config_gets_defaults() {
        let c = cloud().validate().unwrap();
        assert_eq!(c.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(c.locale, Locale::ZhCn);
        assert_eq!(c.mode, Mode::Auto);
        assert_eq!(c.retry, RetryPolicy::DEFAULT);
        assert_eq!(c.mock.enabled, MockEnabled::Auto);
    }

    #[test]
    fn a_backend_is_required() {
        let err = RawConfig::default().validate().unwrap_err();
        assert!(err.to_string().contains("baseUrl"), "{err}");
        let mock_only = RawConfig {
            mock_routes: vec![RawMockRoute {
                method: None,
                path: "/api/*".into(),
            }],
            ..RawConfig::default()
        };
        assert!(mock_only.validate().is_ok(), "mock routes alone can answer");
    }

    #[test]
    fn env_needs_a_service() {
        let mut raw = cloud();
        raw.service = None;
        assert!(raw
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("`service`"));
    }

    #[test]
    fn base_url_is_normalised_and_checked() {
        let raw = RawConfig {
            base_url: Some("http://127.0.0.1:8080/".into()),
            ..RawConfig::default()
        };
        assert_eq!(
            raw.validate().unwrap().base_url.as_deref(),
            Some("http://127.0.0.1:8080")
        );
        for bad in ["ftp://x", "127.0.0.1", "https://", "https://x/?a=1"] {
            let raw = RawConfig {
                base_url: Some(bad.into()),
                ..RawConfig::default()
            };
            assert!(raw.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_strings_unknown_locales_and_modes_are_rejected() {
        let mut raw = cloud();
        raw.env = Some(" ".into());
        assert!(raw.validate().is_err());
        let mut raw = cloud();
        raw.locale = Some("fr".into());
        assert!(raw.validate().unwrap_err().to_string().contains("'zh-CN'"));
        let mut raw = cloud();
        raw.mode = Some("grpc".into());
        assert!(raw
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("`mode`"));
    }

    #[test]
    fn retry_options_override_defaults_and_are_checked() {
        let custom = |limit, base, cap| RawRetry::Custom {
            limit,
            base_ms: base,
            cap_ms: cap,
            deadline_ms: None,
        };
        let p = custom(Some(1.0), None, None)
            .validate("retry", RetryPolicy::DEFAULT)
            .unwrap();
        assert_eq!((p.limit, p.backoff.base_ms), (1, 300));
        assert_eq!(
            RawRetry::Disabled
                .validate("retry", RetryPolicy::DEFAULT)
                .unwrap()
                .limit,
            0
        );
        let err = custom(Some(1.5), None, None)
            .validate("retry", RetryPolicy::DEFAULT)
            .unwrap_err();
        assert!(err.to_string().starts_with("`retry.limit`"), "{err}");
        let err = custom(None, Some(500.0), Some(100.0))
            .validate("retry", RetryPolicy::DEFAULT)
            .unwrap_err();
        assert!(err.to_string().starts_with("`retry.capMs`"), "{err}");
    }

    #[test]
    fn sdk_versions_compare() {
        assert_eq!(parse_sdk_version("2.21.1"), Some((2, 21, 1)));
        assert_eq!(parse_sdk_version("3.6"), Some((3, 6, 0)));
        assert_eq!(parse_sdk_version("x"), None);
        let old = Platform {
            sdk_version: parse_sdk_version("2.20.9"),
            ..Platform::default()
        };
        assert!(old.sdk_too_old());
        assert!(!Platform::default().sdk_too_old(), "unknown is not too old");
    }
}
