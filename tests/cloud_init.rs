//! The one cloud init a client has: requests and cloud sockets wait for the
//! same init, retried 3 times 300 ms apart; an instance the app gives
//! (`cloud`) is the app's to initialise and is never initialised here.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::config::RawConfig;
use mp_request::core::engine::{Command, Engine};
use mp_request::core::error::{ErrorKind, RequestError};
use mp_request::core::init::INIT_RETRY_DELAY_MS;
use mp_request::core::request::Method;
use mp_request::core::route::{choose, Route};
use mp_request::core::socket::config::SocketConfig;
use mp_request::core::socket::machine::{Socket, SocketCommand, State};
use support::{cloud_config, failure, get, platform, reset};

type E = Engine<String>;

fn engine(raw: RawConfig) -> E {
    Engine::new(raw.validate().unwrap(), platform(), 1)
}

fn not_enabled() -> mp_request::core::classify::Failure {
    failure("cloud.init:fail Cloud API isn't enabled", Some(-601034))
}

fn given() -> RawConfig {
    RawConfig {
        cloud_given: true,
        service: Some("golang-lfwy".into()),
        ..RawConfig::default()
    }
}

fn inits(commands: &[Command<String>]) -> usize {
    commands
        .iter()
        .filter(|c| matches!(c, Command::InitCloud { .. }))
        .count()
}

fn sends(commands: &[Command<String>]) -> usize {
    commands
        .iter()
        .filter(|c| matches!(c, Command::Send(_)))
        .count()
}

#[test]
fn a_request_and_a_socket_together_cause_one_init() {
    let mut e = engine(cloud_config());
    let (_, first) = e.start(get("/api/test"), 0.0).unwrap();
    assert_eq!(inits(&first), 1);
    assert!(
        e.socket_wants_cloud().is_empty(),
        "the socket joins the init under way"
    );
    let done = e.on_init(Ok(()), 10.0);
    assert_eq!(sends(&done), 1, "the request goes");
    assert_eq!(done.last(), Some(&Command::CloudReady), "the socket goes");
    assert_eq!(
        e.socket_wants_cloud(),
        vec![Command::CloudReady],
        "ready now: at once"
    );
}

#[test]
fn a_socket_alone_starts_the_init_and_a_request_then_joins_it() {
    let mut e = engine(cloud_config());
    assert_eq!(
        e.socket_wants_cloud(),
        vec![Command::InitCloud { attempt: 1 }]
    );
    let (_, c) = e.start(get("/api/test"), 0.0).unwrap();
    assert_eq!(inits(&c), 0, "one init for both");
    let done = e.on_init(Ok(()), 10.0);
    assert_eq!(sends(&done), 1);
    assert!(done.contains(&Command::CloudReady));
}

#[test]
fn an_init_that_fails_twice_is_retried_300_ms_apart_for_both() {
    let mut e = engine(cloud_config());
    e.start(get("/api/test"), 0.0).unwrap();
    assert!(e.socket_wants_cloud().is_empty());
    for attempt in 2..=3 {
        assert_eq!(
            e.on_init(Err(not_enabled()), 0.0),
            vec![Command::WaitInit {
                delay_ms: INIT_RETRY_DELAY_MS
            }],
            "no socket and no request hears a failure that is retried"
        );
        assert_eq!(e.on_init_timer(), vec![Command::InitCloud { attempt }]);
    }
    let done = e.on_init(Ok(()), 700.0);
    assert_eq!(sends(&done), 1);
    assert!(done.contains(&Command::CloudReady));
}

#[test]
fn an_init_that_fails_for_good_fails_the_socket_connect_and_the_next_one_starts_over() {
    let mut e = engine(cloud_config());
    assert_eq!(inits(&e.socket_wants_cloud()), 1);
    for _ in 0..3 {
        e.on_init(Err(not_enabled()), 0.0);
        e.on_init_timer();
    }
    let failed = e.on_init(Err(not_enabled()), 0.0);
    match failed.as_slice() {
        [Command::CloudFailed(error)] => {
            assert_eq!(error.kind(), ErrorKind::Init);
            assert!(
                error.to_string().contains("Cloud API isn't enabled"),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.socket_wants_cloud(),
        vec![Command::InitCloud { attempt: 1 }],
        "the socket's reconnect tries again"
    );
}

#[test]
fn the_apps_own_instance_is_never_initialised_here() {
    let mut e = engine(given());
    let (_, c) = e.start(get("/api/test"), 0.0).unwrap();
    assert_eq!(inits(&c), 0);
    assert_eq!(sends(&c), 1, "sent at once");
    assert_eq!(e.socket_wants_cloud(), vec![Command::CloudReady]);
    // "not initialised" from the platform: retried as usual, never initialised by the library.
    let id = match &c[..] {
        [Command::Send(s), ..] => s.id,
        other => panic!("{other:?}"),
    };
    let next = e
        .on_failure(
            id,
            failure(
                "cloud.callContainer:fail Cloud API isn't enabled",
                Some(-601034),
            ),
            1.0,
        )
        .unwrap();
    assert_eq!(inits(&next), 0, "{next:?}");
}

#[test]
fn cloud_options_are_checked() {
    let c = given().validate().unwrap();
    assert!(
        c.cloud_given && c.env.is_none(),
        "env may be omitted with `cloud`"
    );
    let with_env = RawConfig {
        env: Some("prod-1".into()),
        ..given()
    };
    assert!(
        with_env.validate().is_ok(),
        "and may be given: each call names it"
    );
    let no_service = RawConfig {
        service: None,
        ..given()
    };
    let err = no_service.validate().unwrap_err();
    assert!(
        matches!(&err, RequestError::Invalid { field, .. } if field == "service"),
        "{err}"
    );
    for (raw, field) in [
        (
            RawConfig {
                resource_appid: Some("wx-owner".into()),
                ..given()
            },
            "resourceAppid",
        ),
        (
            RawConfig {
                resource_env: Some("prod-2".into()),
                ..given()
            },
            "resourceEnv",
        ),
    ] {
        let err = raw.validate().unwrap_err();
        assert!(
            matches!(&err, RequestError::Invalid { field: f, .. } if f == field),
            "{err}"
        );
        assert!(err.to_string().contains("new wx.cloud.Cloud"), "{err}");
    }
}

#[test]
fn the_apps_instance_is_the_cloud_route_even_where_wx_cloud_is_missing() {
    let config = given().validate().unwrap();
    let mut p = platform();
    p.has_cloud = false;
    let choice = choose(&config, &p, None, Method::Get, "/api/test").unwrap();
    assert_eq!(choice.route, Route::Cloud);
    assert_eq!(choice.reason, "the app's cloud instance");
    let mut old = platform();
    old.sdk_version = Some((2, 10, 0));
    let err = choose(&config, &old, Some(Route::Cloud), Method::Get, "/x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Init, "{err}");
    assert!(err.to_string().contains("2.10.0"), "{err}");
    // Below 2.23.0 without a baseUrl: the same init error as the library's own instance, naming the version.
    let mut below = platform();
    below.sdk_version = Some((2, 22, 9));
    let err = choose(&config, &below, None, Method::Get, "/x").unwrap_err();
    assert_eq!(err.kind().as_str(), "init", "{err}");
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("2.22.9") && err.to_string().contains("2.23.0"),
        "{err}"
    );
}

#[test]
fn an_old_base_library_rules_out_cloud_sockets_and_route_cloud_as_an_init_error_naming_the_version()
{
    use mp_request::core::socket::hub::{RawSocketOptions, SocketHub};
    let mut old = platform();
    old.sdk_version = Some((2, 20, 0));
    for (name, config) in [
        ("the library's instance", cloud_config().validate().unwrap()),
        ("the app's instance", given().validate().unwrap()),
    ] {
        // A socket on the cloud route, by default or asked for: the user's WeChat is
        // too old, which is neither the app's mistake (`invalid`) nor about a baseUrl.
        for route in [None, Some("cloud".to_string())] {
            let raw = RawSocketOptions {
                route: route.clone(),
                ..RawSocketOptions::default()
            };
            let err = SocketHub::new(1).open(&config, &old, raw, 0.0).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Init,
                "{name}, route {route:?}: {err}"
            );
            assert!(!err.is_retryable());
            assert!(
                err.to_string().contains("2.20.0") && err.to_string().contains("2.23.0"),
                "{name}, route {route:?}: {err}"
            );
        }
        // A request asking for `route: 'cloud'`: the same.
        let err = choose(&config, &old, Some(Route::Cloud), Method::Get, "/x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Init, "{name}: {err}");
        assert!(err.to_string().contains("2.20.0"), "{name}: {err}");
    }
    // With a baseUrl the socket falls back to it, as requests do.
    let with_base = RawConfig {
        base_url: Some("https://api.example.com".into()),
        ..cloud_config()
    }
    .validate()
    .unwrap();
    let mut hub = SocketHub::new(1);
    let (id, _, _) = hub
        .open(&with_base, &old, RawSocketOptions::default(), 0.0)
        .unwrap();
    assert_eq!(hub.target(id).unwrap().route, Route::Http);
}

#[test]
fn an_init_that_fails_for_good_while_the_device_is_offline_queues_a_queueable_mutation() {
    let mut e = support::engine(cloud_config(), 1);
    let queued = mp_request::core::request::RawRequest {
        offline: Some("queue".into()),
        data_json: Some("{\"n\":1}".into()),
        ..support::post("/api/order/create")
    };
    let (_, first) = e.start(queued, 0.0).unwrap();
    assert!(
        first.iter().any(|c| matches!(c, Command::InitCloud { .. })),
        "online: it waits for the init"
    );
    // The network goes while the init runs, and the init fails for good.
    e.set_online(false, 10.0);
    let mut ended = Vec::new();
    for attempt in 1..=4 {
        ended = e.on_init(Err(not_enabled()), 10.0 + f64::from(attempt) * 300.0);
        if attempt < 4 {
            assert_eq!(e.on_init_timer().len(), 1);
        }
    }
    // Nothing was sent and the engine knows the device is offline: the
    // mutation goes to the offline queue, as it would have at its start.
    let ended = support::saved(&mut e, ended, 1300.0);
    let rejected = ended
        .iter()
        .find_map(|c| match c {
            Command::Reject(s, err) => Some((s.queued, err.kind())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no rejection in {ended:?}"));
    assert_eq!(rejected, (Some(1), ErrorKind::Offline), "{ended:?}");
    assert_eq!(e.pending().count(), 1);
}

fn refused_connect() -> mp_request::core::classify::Failure {
    failure(
        "cloud.connectContainer:fail Cloud API isn't enabled: this instance is not init, call its init() first",
        Some(-601034),
    )
}

/// The socket's next `Connect` epoch and when its timer is due.
fn connect_and_timer(commands: &[SocketCommand]) -> (Option<u32>, Option<f64>) {
    let mut out = (None, None);
    for c in commands {
        match c {
            SocketCommand::Connect { epoch } => out.0 = Some(*epoch),
            SocketCommand::Timer { at_ms } => out.1 = Some(*at_ms),
            _ => {}
        }
    }
    out
}

#[test]
fn a_cloud_socket_refused_as_not_initialised_starts_the_shared_init_over_before_it_reconnects() {
    // The engine and one socket machine, as the boundary wires them, under a virtual clock.
    let mut e = engine(cloud_config());
    let mut s = Socket::new(SocketConfig::DEFAULT, 7);
    let (epoch, _) = connect_and_timer(&s.start(0.0));
    assert_eq!(inits(&e.socket_wants_cloud()), 1);
    assert_eq!(e.on_init(Ok(()), 10.0), vec![Command::CloudReady]);
    s.on_open(epoch.unwrap(), 20.0);
    let lost = s.on_close(epoch.unwrap(), 1006, "abnormal", 1_000.0);
    let (_, due) = connect_and_timer(&lost);
    // The reconnect's connectContainer is refused: the instance is not initialised.
    let (again, _) = connect_and_timer(&s.on_timer(due.unwrap()));
    e.on_socket_failure(Route::Cloud, refused_connect());
    let failed = s.on_error(
        again.unwrap(),
        &refused_connect().err_msg,
        due.unwrap() + 5.0,
    );
    assert_eq!(s.state(), State::Reconnecting);
    let (_, next) = connect_and_timer(&failed);
    let (third, _) = connect_and_timer(&s.on_timer(next.unwrap()));
    assert!(third.is_some(), "the socket reconnects on its own backoff");
    assert_eq!(
        e.socket_wants_cloud(),
        vec![Command::InitCloud { attempt: 1 }],
        "and that connect waits for a new init, not for one that no longer holds"
    );
    let (_, c) = e.start(get("/api/test"), next.unwrap()).unwrap();
    assert_eq!(inits(&c), 0, "a request joins the same init");
    let done = e.on_init(Ok(()), next.unwrap() + 10.0);
    assert_eq!(sends(&done), 1);
    assert!(done.contains(&Command::CloudReady));
}

#[test]
fn only_a_cloud_socket_saying_not_initialised_resets_the_init_and_never_the_apps_instance() {
    let ready = |raw| {
        let mut e = engine(raw);
        e.socket_wants_cloud();
        e.on_init(Ok(()), 0.0);
        e
    };
    // Another failure of a cloud socket: the init holds.
    let mut e = ready(cloud_config());
    e.on_socket_failure(Route::Cloud, reset());
    assert_eq!(e.socket_wants_cloud(), vec![Command::CloudReady]);
    // By errCode alone, whatever the text says.
    e.on_socket_failure(
        Route::Cloud,
        failure("connectContainer:fail", Some(-601034)),
    );
    assert_eq!(inits(&e.socket_wants_cloud()), 1);
    // Not a cloud socket: no cloud init to doubt.
    let mut e = ready(cloud_config());
    e.on_socket_failure(Route::Http, refused_connect());
    assert_eq!(e.socket_wants_cloud(), vec![Command::CloudReady]);
    // The app's own instance is the app's to initialise.
    let mut e = engine(given());
    e.on_socket_failure(Route::Cloud, refused_connect());
    assert_eq!(e.socket_wants_cloud(), vec![Command::CloudReady]);
}
