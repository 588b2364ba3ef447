//! Which transport carries a request, and why.
//!
//! `auto`: a release build always uses the real backend; in the devtools with
//! mock routes (or with `mock.enabled: true` outside a release) the mock
//! routes answer; otherwise callContainer when `wx.cloud` exists, an env is
//! configured and the base library is new enough; otherwise HTTP against
//! `baseUrl`. When the cloud route is unavailable and `baseUrl` is set, the
//! client falls back to HTTP. A request's own `route` is obeyed strictly.

use super::config::{ClientConfig, MockEnabled, Mode, Platform, CLOUD_MIN_SDK_TEXT};
use super::error::{ErrorKind, RequestError};
use super::mock::{self, MockMatch};
use super::request::Method;
use crate::prelude::*;

/// A transport the shim can execute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// `wx.cloud.callContainer`.
    Cloud,
    /// `wx.request` (or `fetch` outside the mini-program) against `baseUrl`.
    Http,
    /// The configured mock routes.
    Mock,
}

impl Route {
    /// The stable name JS sees.
    pub const fn as_str(self) -> &'static str {
        match self {
            Route::Cloud => "cloud",
            Route::Http => "http",
            Route::Mock => "mock",
        }
    }

    /// Parses a request's `route` option.
    pub fn parse(name: &str) -> Result<Route, RequestError> {
        match name {
            "cloud" => Ok(Route::Cloud),
            "http" => Ok(Route::Http),
            "mock" => Ok(Route::Mock),
            other => Err(RequestError::invalid(
                "route",
                format!(
                    "must be 'cloud', 'http' or 'mock', got {}",
                    super::request::quoted(other, 32)
                ),
            )),
        }
    }
}

/// A route, the reason it was chosen, and the mock route that answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteChoice {
    /// The route.
    pub route: Route,
    /// Why, in a few words (shown in responses and debug logs).
    pub reason: &'static str,
    /// On the mock route: which configured route answers.
    pub mock: Option<MockMatch>,
}

/// Picks the route for one request.
pub fn choose(
    config: &ClientConfig,
    platform: &Platform,
    requested: Option<Route>,
    method: Method,
    path: &str,
) -> Result<RouteChoice, RequestError> {
    match requested {
        Some(Route::Mock) => {
            let reason = "route: 'mock' requested";
            return mock_route(config, platform, "route", reason, method, path)?
                .ok_or_else(|| unmatched(method, path));
        }
        Some(Route::Cloud) => {
            return match cloud_unavailable(config, platform) {
                None => Ok(pick(Route::Cloud, "route: 'cloud' requested")),
                Some(OLD_SDK) => Err(old_base_library(platform, "callContainer", "")),
                Some(why) => Err(RequestError::invalid(
                    "route",
                    format!("'cloud' is unavailable: {why}"),
                )),
            }
        }
        Some(Route::Http) => return http_route(config, "route: 'http' requested"),
        None => {}
    }
    let mock_reason = match config.mode {
        Mode::Mock => Some("mode: 'mock'"),
        Mode::Http => return http_route(config, "mode: 'http'"),
        Mode::Cloud => None,
        Mode::Auto if config.mock.routes.is_empty() => None,
        Mode::Auto => match config.mock.enabled {
            MockEnabled::Off => None,
            _ if platform.is_release() && !config.mock.allow_in_release => None,
            MockEnabled::Auto if platform.is_devtools() => Some("devtools with mock routes"),
            MockEnabled::Auto => None,
            MockEnabled::On if platform.is_release() => {
                Some("mock enabled in a release build (allowInRelease)")
            }
            MockEnabled::On => Some("mock enabled"),
        },
    };
    if let Some(reason) = mock_reason {
        let field = if config.mode == Mode::Mock {
            "mode"
        } else {
            "mock"
        };
        return match mock_route(config, platform, field, reason, method, path)? {
            Some(choice) => Ok(choice),
            None if config.mock.passthrough => real_route(config, platform, Some(PASSTHROUGH)),
            None => Err(unmatched(method, path)),
        };
    }
    real_route(config, platform, None)
}

/// Why the cloud route is unavailable on an old base library.
const OLD_SDK: &str = "the base library is older than 2.23.0";

/// Why an unmatched request went to the real route.
const PASSTHROUGH: &str = "no mock route matches: passed through";

fn pick(route: Route, reason: &'static str) -> RouteChoice {
    RouteChoice {
        route,
        reason,
        mock: None,
    }
}

/// Cloud when available, else HTTP against `baseUrl`; `why` replaces the reason.
fn real_route(
    config: &ClientConfig,
    platform: &Platform,
    why: Option<&'static str>,
) -> Result<RouteChoice, RequestError> {
    let chosen = match cloud_unavailable(config, platform) {
        None if config.cloud_given => pick(Route::Cloud, "the app's cloud instance"),
        None => pick(Route::Cloud, "env configured and wx.cloud available"),
        Some(why) if config.base_url.is_some() => pick(Route::Http, fallback_reason(why)),
        // The user's WeChat is too old: not the app's mistake, and no retry helps.
        Some(OLD_SDK) => {
            return Err(old_base_library(
                platform,
                "callContainer",
                ", and there is no baseUrl to fall back to",
            ))
        }
        Some(why) if config.mode == Mode::Cloud || config.has_cloud_backend() => {
            return Err(RequestError::invalid(
                "baseUrl",
                format!("is needed: the cloud route is unavailable ({why}) and there is no HTTP fallback"),
            ))
        }
        Some(_) => {
            return Err(RequestError::invalid(
                "env",
                "or `baseUrl` is required: outside mock mode there is no backend to call",
            ))
        }
    };
    Ok(RouteChoice {
        reason: why.unwrap_or(chosen.reason),
        ..chosen
    })
}

/// The failure of a cloud call or socket on a base library below
/// [`CLOUD_MIN_SDK_TEXT`]: kind `init`, never retried, naming the version (the
/// user's WeChat is too old: not the app's mistake, and no retry helps).
pub fn old_base_library(platform: &Platform, api: &str, tail: &str) -> RequestError {
    RequestError::Transport {
        kind: ErrorKind::Init,
        detail: format!(
            "the base library is {}: {api} needs {CLOUD_MIN_SDK_TEXT} or later \
             (the user must update WeChat){tail}",
            platform.sdk_text()
        ),
        code: None,
        retryable: false,
    }
}

/// Why the cloud route cannot be used here, if it cannot.
fn cloud_unavailable(config: &ClientConfig, platform: &Platform) -> Option<&'static str> {
    if config.cloud_given {
        // The app's instance is there; only the base library can rule it out.
        platform.sdk_too_old().then_some(OLD_SDK)
    } else if config.cloud_env().is_none() {
        Some("no env configured")
    } else if !platform.has_cloud {
        Some("wx.cloud.Cloud or callContainer is missing")
    } else if platform.sdk_too_old() {
        Some(OLD_SDK)
    } else {
        None
    }
}

fn fallback_reason(why: &'static str) -> &'static str {
    match why {
        "no env configured" => "no env configured, using baseUrl",
        OLD_SDK => "base library older than 2.23.0, falling back to baseUrl",
        _ => "wx.cloud unavailable, falling back to baseUrl",
    }
}

fn http_route(config: &ClientConfig, reason: &'static str) -> Result<RouteChoice, RequestError> {
    if config.base_url.is_none() {
        return Err(RequestError::invalid(
            "baseUrl",
            "is required for the HTTP route",
        ));
    }
    Ok(pick(Route::Http, reason))
}

/// The matching mock route, None when none matches; refused in a release
/// build unless `mock.allowInRelease`.
fn mock_route(
    config: &ClientConfig,
    platform: &Platform,
    field: &'static str,
    reason: &'static str,
    method: Method,
    path: &str,
) -> Result<Option<RouteChoice>, RequestError> {
    if platform.is_release() && !config.mock.allow_in_release {
        return Err(RequestError::invalid(
            field,
            "asks for mock data, which is never served in a release build (envVersion 'release'; see mock.allowInRelease)",
        ));
    }
    Ok(
        mock::find(&config.mock.routes, method, path).map(|found| RouteChoice {
            route: Route::Mock,
            reason,
            mock: Some(found),
        }),
    )
}

fn unmatched(method: Method, path: &str) -> RequestError {
    RequestError::invalid(
        "path",
        format!(
            "has no mock route: nothing in mock.routes matches {} {} (set mock.passthrough to send it to the real backend)",
            method.as_str(),
            super::request::truncate(path, 120)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{parse_sdk_version, RawConfig, RawMockRoute};

    fn config(env: bool, base_url: bool, mock: bool) -> ClientConfig {
        RawConfig {
            env: env.then(|| "prod".into()),
            service: env.then(|| "golang-lfwy".into()),
            base_url: base_url.then(|| "http://127.0.0.1:1".into()),
            mock_routes: if mock {
                vec![RawMockRoute {
                    method: None,
                    path: "/api/*".into(),
                }]
            } else {
                vec![]
            },
            ..RawConfig::default()
        }
        .validate()
        .unwrap()
    }

    fn platform(device: &str, env_version: &str) -> Platform {
        Platform {
            has_cloud: true,
            sdk_version: parse_sdk_version("3.6.0"),
            device: Some(device.into()),
            env_version: Some(env_version.into()),
        }
    }

    fn route(c: &ClientConfig, p: &Platform) -> Result<Route, RequestError> {
        choose(c, p, None, Method::Get, "/api/test").map(|r| r.route)
    }

    #[test]
    fn auto_picks_by_environment() {
        let c = config(true, true, true);
        assert_eq!(
            route(&c, &platform("devtools", "develop")).unwrap(),
            Route::Mock
        );
        assert_eq!(
            route(&c, &platform("ios", "develop")).unwrap(),
            Route::Cloud
        );
        assert_eq!(
            route(&c, &platform("devtools", "release")).unwrap(),
            Route::Cloud,
            "release never mocks"
        );
        let no_mock = config(true, true, false);
        assert_eq!(
            route(&no_mock, &platform("devtools", "develop")).unwrap(),
            Route::Cloud
        );
    }

    #[test]
    fn falls_back_to_http_when_cloud_is_unavailable() {
        let c = config(true, true, false);
        let mut p = platform("android", "release");
        p.has_cloud = false;
        let choice = choose(&c, &p, None, Method::Get, "/x").unwrap();
        assert_eq!(
            (choice.route, choice.reason),
            (Route::Http, "wx.cloud unavailable, falling back to baseUrl")
        );
        let mut old = platform("android", "release");
        old.sdk_version = parse_sdk_version("2.20.0");
        assert_eq!(
            choose(&c, &old, None, Method::Get, "/x").unwrap().reason,
            "base library older than 2.23.0, falling back to baseUrl"
        );
        let err = route(&config(true, false, false), &p).unwrap_err();
        assert!(err.to_string().contains("no HTTP fallback"), "{err}");
    }

    #[test]
    fn a_requested_route_is_obeyed_or_refused() {
        let c = config(true, true, true);
        let p = platform("android", "develop");
        let req = |r| choose(&c, &p, Some(r), Method::Get, "/api/x");
        assert_eq!(req(Route::Http).unwrap().route, Route::Http);
        assert_eq!(req(Route::Mock).unwrap().route, Route::Mock);
        let mut no_cloud = p.clone();
        no_cloud.has_cloud = false;
        let err = choose(&c, &no_cloud, Some(Route::Cloud), Method::Get, "/x").unwrap_err();
        assert!(err.to_string().contains("'cloud' is unavailable"), "{err}");
        let release = platform("devtools", "release");
        let err = choose(&c, &release, Some(Route::Mock), Method::Get, "/api/x").unwrap_err();
        assert!(err.to_string().contains("release build"), "{err}");
    }

    #[test]
    fn unmatched_mock_requests_name_the_path() {
        let c = config(false, false, true);
        let err = choose(
            &c,
            &platform("devtools", "develop"),
            None,
            Method::Post,
            "/other/thing",
        )
        .unwrap_err();
        assert!(err.to_string().contains("POST /other/thing"), "{err}");
    }

    #[test]
    fn mode_overrides_auto() {
        let mut c = config(true, true, true);
        c.mode = Mode::Http;
        assert_eq!(
            route(&c, &platform("devtools", "develop")).unwrap(),
            Route::Http
        );
        c.mode = Mode::Mock;
        assert_eq!(route(&c, &platform("ios", "trial")).unwrap(), Route::Mock);
        assert!(route(&c, &platform("ios", "release")).is_err());
    }

    #[test]
    fn passthrough_sends_unmatched_requests_to_the_real_route() {
        let mut c = config(true, true, true);
        c.mock.passthrough = true;
        let p = platform("devtools", "develop");
        let choice = choose(&c, &p, None, Method::Get, "/other").unwrap();
        assert_eq!(
            (choice.route, choice.reason),
            (Route::Cloud, "no mock route matches: passed through")
        );
        assert_eq!(
            choose(&c, &p, None, Method::Get, "/api/x").unwrap().route,
            Route::Mock
        );
    }

    #[test]
    fn allow_in_release_is_the_only_way_to_mock_in_a_release_build() {
        let mut c = config(true, true, true);
        c.mock.enabled = MockEnabled::On;
        let release = platform("ios", "release");
        assert_eq!(route(&c, &release).unwrap(), Route::Cloud);
        c.mock.allow_in_release = true;
        let choice = choose(&c, &release, None, Method::Get, "/api/x").unwrap();
        assert_eq!(
            (choice.route, choice.reason),
            (
                Route::Mock,
                "mock enabled in a release build (allowInRelease)"
            )
        );
    }
}
