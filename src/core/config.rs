//! Client configuration and the facts about the platform the shim reports.

use super::error::RequestError;
use super::locale::Locale;
use super::request::{truncate, validate_timeout};

/// Per-attempt timeout when neither the client nor the request sets one.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

/// The client's validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    /// Cloud Run environment id (`config.env` of callContainer).
    pub env: Option<String>,
    /// Cloud Run service name (the `X-WX-SERVICE` header).
    pub service: Option<String>,
    /// Resource-reuse: the account that owns the environment.
    pub resource_appid: Option<String>,
    /// Resource-reuse: the environment id in that account (defaults to `env`).
    pub resource_env: Option<String>,
    /// Base URL of the plain HTTP route, without a trailing '/'.
    pub base_url: Option<String>,
    /// Per-attempt timeout.
    pub timeout_ms: u32,
    /// Language of user messages.
    pub locale: Locale,
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
    /// `baseUrl`
    pub base_url: Option<String>,
    /// `timeoutMs`
    pub timeout_ms: Option<f64>,
    /// `locale`
    pub locale: Option<String>,
}

impl RawConfig {
    /// Checks every option and returns the configuration, or the first problem.
    pub fn validate(self) -> Result<ClientConfig, RequestError> {
        let env = non_empty("env", self.env)?;
        let service = non_empty("service", self.service)?;
        let resource_appid = non_empty("resourceAppid", self.resource_appid)?;
        let resource_env = non_empty("resourceEnv", self.resource_env)?;
        let base_url = self.base_url.map(validate_base_url).transpose()?;
        if env.is_some() && service.is_none() {
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
        if env.is_none() && base_url.is_none() {
            return Err(RequestError::invalid(
                "env",
                "or `baseUrl` is required: without either there is no backend to call",
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
                    format!("must be 'zh-CN' or 'en', got {:?}", truncate(&tag, 32)),
                )
            })?,
            None => Locale::default(),
        };
        Ok(ClientConfig {
            env,
            service,
            resource_appid,
            resource_env,
            base_url,
            timeout_ms,
            locale,
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
                "must be an http(s) URL without query or fragment, got {:?}",
                truncate(&url, 64)
            ),
        )),
    }
}

/// What the shim found out about the runtime it runs in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Platform {
    /// `wx.cloud.callContainer` exists.
    pub has_cloud: bool,
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
    }

    #[test]
    fn a_backend_is_required() {
        let err = RawConfig::default().validate().unwrap_err();
        assert!(err.to_string().contains("baseUrl"), "{err}");
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
    fn empty_strings_and_unknown_locales_are_rejected() {
        let mut raw = cloud();
        raw.env = Some(" ".into());
        assert!(raw.validate().is_err());
        let mut raw = cloud();
        raw.locale = Some("fr".into());
        assert!(raw.validate().unwrap_err().to_string().contains("'zh-CN'"));
    }
}
