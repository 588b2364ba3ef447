//! Which transport carries a request.

use super::config::{ClientConfig, Platform};
use super::error::RequestError;

/// A transport the shim can execute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// `wx.cloud.callContainer`.
    Cloud,
    /// `wx.request` (or `fetch` outside the mini-program) against `baseUrl`.
    Http,
}

impl Route {
    /// The stable name JS sees.
    pub const fn as_str(self) -> &'static str {
        match self {
            Route::Cloud => "cloud",
            Route::Http => "http",
        }
    }
}

/// A route and the reason it was chosen, for responses and debug logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteChoice {
    /// The route.
    pub route: Route,
    /// Why, in a few words.
    pub reason: &'static str,
}

/// Picks the route: cloud when `wx.cloud` exists and an env is configured,
/// otherwise HTTP against `baseUrl`.
pub fn choose(config: &ClientConfig, platform: &Platform) -> Result<RouteChoice, RequestError> {
    if config.env.is_some() && platform.has_cloud {
        return Ok(RouteChoice {
            route: Route::Cloud,
            reason: "env configured and wx.cloud available",
        });
    }
    if config.base_url.is_some() {
        let reason = if config.env.is_some() {
            "wx.cloud unavailable, falling back to baseUrl"
        } else {
            "no env configured, using baseUrl"
        };
        return Ok(RouteChoice {
            route: Route::Http,
            reason,
        });
    }
    Err(RequestError::invalid(
        "baseUrl",
        "is needed here: wx.cloud.callContainer is not available in this runtime",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::RawConfig;

    fn config(env: bool, base_url: bool) -> ClientConfig {
        RawConfig {
            env: env.then(|| "prod".into()),
            service: env.then(|| "golang-lfwy".into()),
            base_url: base_url.then(|| "http://127.0.0.1:1".into()),
            ..RawConfig::default()
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn cloud_when_available() {
        let p = Platform { has_cloud: true };
        assert_eq!(choose(&config(true, true), &p).unwrap().route, Route::Cloud);
        assert_eq!(choose(&config(false, true), &p).unwrap().route, Route::Http);
    }

    #[test]
    fn falls_back_to_http_without_wx_cloud() {
        let p = Platform { has_cloud: false };
        let choice = choose(&config(true, true), &p).unwrap();
        assert_eq!(choice.route, Route::Http);
        assert!(choice.reason.contains("fall"));
        assert!(choose(&config(true, false), &p).is_err());
    }
}
