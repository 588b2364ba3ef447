//! All the client's managed sockets: the pool, each socket's machine and
//! where it connects, and the network and app state they share.

use super::config::{RawSocketConfig, SocketConfig};
use super::machine::{Socket, SocketCommand};
use super::pool::{Acquired, Pool, SocketId};
use crate::core::cache::key::canonical_headers;
use crate::core::config::{ClientConfig, MockEnabled, Mode, Platform};
use crate::core::error::RequestError;
use crate::core::hash::FxHashMap;
use crate::core::limits::check_headers;
use crate::core::request::{quoted, validate_path};
use crate::core::route::{old_base_library, Route};
use crate::core::sort::sort;
use crate::prelude::*;

/// Where a socket connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// cloud (connectContainer), http (wx.connectSocket) or mock (in memory).
    pub route: Route,
    /// Why that route.
    pub reason: &'static str,
    /// Cloud Run service (cloud route).
    pub service: String,
    /// Path on the service.
    pub path: String,
    /// ws(s):// URL (http route).
    pub url: Option<String>,
    /// Headers of the opening handshake (connectContainer's and
    /// wx.connectSocket's `header`), as given.
    pub headers: Vec<(String, String)>,
}

/// What `client.socket(options)` asked for, as given.
#[derive(Clone, Debug, Default)]
pub struct RawSocketOptions {
    /// `service`; default 'ws' (the seed's).
    pub service: Option<String>,
    /// `path`; default '/'.
    pub path: Option<String>,
    /// `route`.
    pub route: Option<String>,
    /// `header`: sent with the opening handshake of every connection.
    pub headers: Vec<(String, String)>,
    /// Reconnect, heartbeat and outbox settings.
    pub config: RawSocketConfig,
}

/// Which sockets a client has and where each connects: the half of the
/// sockets that `client.socket()` needs at once (it validates, shares and
/// counts synchronously), kept by the request engine.
#[derive(Debug, Default)]
pub struct Registry {
    pool: Pool,
    targets: FxHashMap<SocketId, Target>,
}

/// What `Registry::open` decided.
#[derive(Clone, Debug)]
pub struct Opened {
    /// The socket's id.
    pub id: SocketId,
    /// It was already open (another caller holds it): nothing to start.
    pub shared: bool,
    /// Its settings, validated: what `Machines::start` needs.
    pub config: SocketConfig,
}

impl Registry {
    /// Validates the options and opens (or shares) the socket for them.
    pub fn open(
        &mut self,
        client: &ClientConfig,
        platform: &Platform,
        raw: RawSocketOptions,
    ) -> Result<Opened, RequestError> {
        let path = raw.path.unwrap_or_else(|| "/".into());
        validate_path(&path)?;
        let service = raw.service.unwrap_or_else(|| "ws".into());
        if service.is_empty()
            || !service
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(RequestError::invalid(
                "service",
                format!(
                    "must be a Cloud Run service name, got {}",
                    quoted(&service, 32)
                ),
            ));
        }
        let requested = raw.route.as_deref().map(Route::parse).transpose()?;
        let config: SocketConfig = raw.config.validate()?;
        check_headers(&raw.headers)?;
        let mut target = choose(client, platform, requested, service, path)?;
        if !raw.headers.is_empty()
            && target.route == Route::Http
            && platform.device.as_deref() == Some("browser")
        {
            return Err(RequestError::invalid(
                "header",
                "cannot be sent by a browser's WebSocket; send credentials in the path's query or the first message",
            ));
        }
        // Sockets with other headers (another token) are other connections.
        // Names are case-insensitive and their order does not matter; the
        // header is on a line of its own, which the pool never shows.
        let mut key = format!(
            "{} {} {}",
            target.route.as_str(),
            target.service,
            target.path
        );
        for (name, value) in canonical_headers(&raw.headers) {
            key.push('\n');
            key.push_str(&name);
            key.push(':');
            key.push_str(value);
        }
        target.headers = raw.headers;
        let (id, shared) = match self.pool.acquire(&key)? {
            Acquired::Shared(id) => (id, true),
            Acquired::New(id) => {
                self.targets.insert(id, target);
                (id, false)
            }
        };
        Ok(Opened { id, shared, config })
    }

    /// Where socket `id` connects.
    pub fn target(&self, id: SocketId) -> Option<&Target> {
        self.targets.get(&id)
    }

    /// A caller lets go of socket `id`. True when it was the last: close it.
    pub fn release(&mut self, id: SocketId) -> bool {
        let last = self.pool.release(id);
        if last {
            self.targets.remove(&id);
        }
        last
    }
}

/// The connections' machines (reconnect, heartbeat, outbox) and the network
/// and app state they share: the half that runs once sockets exist, which
/// the shim may load later (the socket engine).
#[derive(Debug, Default)]
pub struct Machines {
    sockets: FxHashMap<SocketId, Socket>,
    online: bool,
    hidden: bool,
    seed: u32,
}

impl Machines {
    /// No sockets yet; online and visible.
    pub fn new(seed: u32) -> Self {
        Machines {
            online: true,
            seed,
            ..Machines::default()
        }
    }

    /// Starts socket `id` (just opened by the registry): its first commands.
    /// Nothing when it runs already.
    pub fn start(&mut self, id: SocketId, config: SocketConfig, now: f64) -> Vec<SocketCommand> {
        if self.sockets.contains_key(&id) {
            return Vec::new();
        }
        self.seed = self
            .seed
            .wrapping_mul(747_796_405)
            .wrapping_add(2_891_336_453);
        let mut socket = Socket::new(config, self.seed);
        socket.set_online(self.online, now);
        socket.set_hidden(self.hidden, now);
        let commands = socket.start(now);
        self.sockets.insert(id, socket);
        commands
    }

    /// The machine of socket `id`.
    pub fn socket(&mut self, id: SocketId) -> Option<&mut Socket> {
        self.sockets.get_mut(&id)
    }

    /// Socket `id`'s last holder let go: it closes, never to reconnect.
    pub fn close(&mut self, id: SocketId) -> Vec<SocketCommand> {
        match self.sockets.remove(&id) {
            Some(mut socket) => socket.close(),
            None => Vec::new(),
        }
    }

    /// The network changed: every socket hears it.
    pub fn set_online(&mut self, online: bool, now: f64) -> Vec<(SocketId, SocketCommand)> {
        self.online = online;
        self.each(|s| s.set_online(online, now))
    }

    /// The app went to the background or came back: every socket hears it.
    pub fn set_hidden(&mut self, hidden: bool, now: f64) -> Vec<(SocketId, SocketCommand)> {
        self.hidden = hidden;
        self.each(|s| s.set_hidden(hidden, now))
    }

    fn each(
        &mut self,
        mut f: impl FnMut(&mut Socket) -> Vec<SocketCommand>,
    ) -> Vec<(SocketId, SocketCommand)> {
        let mut ids: Vec<SocketId> = self.sockets.keys().copied().collect();
        sort(&mut ids);
        let mut out = Vec::new();
        for id in ids {
            if let Some(socket) = self.sockets.get_mut(&id) {
                out.extend(f(socket).into_iter().map(|c| (id, c)));
            }
        }
        out
    }
}

/// Both halves together, wired as the shim wires the two engines: what the
/// native tests and the model drive.
#[derive(Debug, Default)]
pub struct SocketHub {
    /// Which sockets exist (the request engine's half).
    pub registry: Registry,
    /// Their machines (the socket engine's half).
    pub machines: Machines,
}

impl SocketHub {
    /// No sockets yet.
    pub fn new(seed: u32) -> Self {
        SocketHub {
            registry: Registry::default(),
            machines: Machines::new(seed),
        }
    }

    /// Opens (or shares) the socket for these options: its id, whether it
    /// was already open, and the first commands.
    pub fn open(
        &mut self,
        client: &ClientConfig,
        platform: &Platform,
        raw: RawSocketOptions,
        now: f64,
    ) -> Result<(SocketId, bool, Vec<SocketCommand>), RequestError> {
        let opened = self.registry.open(client, platform, raw)?;
        let commands = if opened.shared {
            Vec::new()
        } else {
            self.machines.start(opened.id, opened.config, now)
        };
        Ok((opened.id, opened.shared, commands))
    }

    /// Where socket `id` connects.
    pub fn target(&self, id: SocketId) -> Option<&Target> {
        self.registry.target(id)
    }

    /// The machine of socket `id`.
    pub fn socket(&mut self, id: SocketId) -> Option<&mut Socket> {
        self.machines.socket(id)
    }

    /// A caller lets go of socket `id`; the last one closes it.
    pub fn release(&mut self, id: SocketId) -> Vec<SocketCommand> {
        if self.registry.release(id) {
            self.machines.close(id)
        } else {
            Vec::new()
        }
    }

    /// The network changed: every socket hears it.
    pub fn set_online(&mut self, online: bool, now: f64) -> Vec<(SocketId, SocketCommand)> {
        self.machines.set_online(online, now)
    }

    /// The app went to the background or came back: every socket hears it.
    pub fn set_hidden(&mut self, hidden: bool, now: f64) -> Vec<(SocketId, SocketCommand)> {
        self.machines.set_hidden(hidden, now)
    }
}

/// The route of a socket: as asked, or mock in the devtools with mock routes
/// (never in a release build), else cloud when available, else `baseUrl` as ws(s).
fn choose(
    client: &ClientConfig,
    platform: &Platform,
    requested: Option<Route>,
    service: String,
    path: String,
) -> Result<Target, RequestError> {
    let cloud_there = client.cloud_given || (client.cloud_env().is_some() && platform.has_cloud);
    let cloud_ok = cloud_there && !platform.sdk_too_old();
    // Only the user's base library rules the cloud out: an init error naming it, as for requests.
    let too_old = |tail| Err(old_base_library(platform, "connectContainer", tail));
    let mock_auto = client.mode == Mode::Auto
        && !client.mock.routes.is_empty()
        && match client.mock.enabled {
            MockEnabled::Auto => platform.is_devtools(),
            MockEnabled::On => true,
            MockEnabled::Off => false,
        };
    let wants_mock = match requested {
        Some(route) => route == Route::Mock,
        None => client.mode == Mode::Mock || mock_auto,
    };
    let http = |reason| match client.base_url {
        Some(_) => Ok((Route::Http, reason)),
        None => Err(RequestError::invalid(
            "baseUrl",
            "is needed for a socket on the HTTP route",
        )),
    };
    let (route, reason) = if wants_mock {
        if platform.is_release() {
            return Err(RequestError::invalid(
                "route",
                "asks for a mock socket, which is never served in a release build",
            ));
        }
        (Route::Mock, "mock socket (echo)")
    } else if requested == Some(Route::Cloud) {
        if cloud_there && !cloud_ok {
            return too_old("");
        }
        if !cloud_ok {
            return Err(RequestError::invalid(
                "route",
                "'cloud' is unavailable: wx.cloud.connectContainer or an env is missing",
            ));
        }
        (Route::Cloud, "connectContainer")
    } else if requested == Some(Route::Http) || client.mode == Mode::Http {
        http("wx.connectSocket to baseUrl")?
    } else if cloud_ok {
        (Route::Cloud, "connectContainer")
    } else if cloud_there && client.base_url.is_none() {
        return too_old(", and there is no baseUrl to fall back to");
    } else {
        http("wx.cloud unavailable: wx.connectSocket to baseUrl")?
    };
    let url = (route == Route::Http).then(|| {
        let base = client.base_url.as_deref().unwrap_or_default();
        let ws = base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        format!("{ws}{path}")
    });
    Ok(Target {
        route,
        reason,
        service,
        path,
        url,
        headers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{parse_sdk_version, RawConfig};
    use crate::core::socket::machine::State;

    fn client(env: bool, base: bool) -> ClientConfig {
        RawConfig {
            env: env.then(|| "prod".into()),
            service: env.then(|| "golang-lfwy".into()),
            base_url: base.then(|| "https://api.example.com".into()),
            ..RawConfig::default()
        }
        .validate()
        .unwrap()
    }

    fn platform() -> Platform {
        Platform {
            has_cloud: true,
            sdk_version: parse_sdk_version("3.6.0"),
            device: Some("android".into()),
            env_version: Some("develop".into()),
        }
    }

    #[test]
    fn sockets_are_shared_by_key_and_close_with_the_last_holder() {
        let mut hub = SocketHub::new(1);
        let (a, shared, cmds) = hub
            .open(
                &client(true, false),
                &platform(),
                RawSocketOptions::default(),
                0.0,
            )
            .unwrap();
        assert!(!shared && matches!(cmds[0], SocketCommand::Connect { .. }));
        assert_eq!(hub.target(a).unwrap().route, Route::Cloud);
        let (b, shared, cmds) = hub
            .open(
                &client(true, false),
                &platform(),
                RawSocketOptions::default(),
                0.0,
            )
            .unwrap();
        assert!(shared && cmds.is_empty() && a == b);
        assert!(hub.release(a).is_empty(), "one holder left");
        assert!(!hub.release(a).is_empty(), "the last one closes");
        assert!(hub.socket(a).is_none());
    }

    #[test]
    fn http_sockets_use_base_url_as_ws() {
        let mut hub = SocketHub::new(1);
        let mut p = platform();
        p.has_cloud = false;
        let (id, _, _) = hub
            .open(
                &client(true, true),
                &p,
                RawSocketOptions {
                    path: Some("/chat".into()),
                    ..Default::default()
                },
                0.0,
            )
            .unwrap();
        assert_eq!(
            hub.target(id).unwrap().url.as_deref(),
            Some("wss://api.example.com/chat")
        );
        assert!(hub
            .open(&client(true, false), &p, RawSocketOptions::default(), 0.0)
            .is_err());
    }

    #[test]
    fn offline_and_hidden_reach_every_socket_and_new_ones() {
        let mut hub = SocketHub::new(1);
        hub.open(
            &client(true, false),
            &platform(),
            RawSocketOptions::default(),
            0.0,
        )
        .unwrap();
        hub.set_online(false, 1.0);
        let (id, _, cmds) = hub
            .open(
                &client(true, false),
                &platform(),
                RawSocketOptions {
                    path: Some("/b".into()),
                    ..Default::default()
                },
                2.0,
            )
            .unwrap();
        assert!(
            cmds.iter()
                .all(|c| !matches!(c, SocketCommand::Connect { .. })),
            "offline: paused, not connecting"
        );
        assert_eq!(hub.socket(id).unwrap().state(), State::Paused);
        let back = hub.set_online(true, 3.0);
        assert!(back
            .iter()
            .any(|(i, c)| *i == id && matches!(c, SocketCommand::Connect { .. })));
    }

    fn with_header(pairs: &[(&str, &str)]) -> RawSocketOptions {
        RawSocketOptions {
            headers: pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_header_goes_with_the_target_and_other_headers_are_other_sockets() {
        let mut hub = SocketHub::new(1);
        let c = client(true, false);
        let (a, _, _) = hub
            .open(
                &c,
                &platform(),
                with_header(&[("X-Token", "t1"), ("X-Room", "r")]),
                0.0,
            )
            .unwrap();
        assert_eq!(
            hub.target(a).unwrap().headers,
            [
                ("X-Token".to_owned(), "t1".to_owned()),
                ("X-Room".into(), "r".into())
            ]
        );
        // The same header in another order and case: the same socket.
        let (b, shared, _) = hub
            .open(
                &c,
                &platform(),
                with_header(&[("x-room", "r"), ("x-token", "t1")]),
                0.0,
            )
            .unwrap();
        assert!(shared && a == b);
        // Another token: another connection.
        let (other, shared, _) = hub
            .open(
                &c,
                &platform(),
                with_header(&[("X-Token", "t2"), ("X-Room", "r")]),
                0.0,
            )
            .unwrap();
        assert!(!shared && other != a);
        let (none, shared, _) = hub
            .open(&c, &platform(), RawSocketOptions::default(), 0.0)
            .unwrap();
        assert!(!shared && none != a && none != other);
        assert!(hub.target(none).unwrap().headers.is_empty());
        for i in 0..2 {
            hub.open(
                &c,
                &platform(),
                RawSocketOptions {
                    path: Some(format!("/{i}")),
                    ..Default::default()
                },
                0.0,
            )
            .unwrap();
        }
        let full = hub
            .open(&c, &platform(), with_header(&[("X-Token", "secret")]), 0.0)
            .unwrap_err()
            .to_string();
        assert!(full.contains("cannot open a sixth socket"), "{full}");
        assert!(
            !full.contains("t1") && !full.contains("t2"),
            "headers are never shown: {full}"
        );
    }

    #[test]
    fn headers_are_checked_like_request_headers() {
        let mut hub = SocketHub::new(1);
        let c = client(true, false);
        let err = hub
            .open(&c, &platform(), with_header(&[("bad name", "v")]), 0.0)
            .unwrap_err();
        assert!(err.to_string().starts_with("`header`"), "{err}");
        let err = hub
            .open(
                &c,
                &platform(),
                with_header(&[("X-A", "a\r\nInjected: 1")]),
                0.0,
            )
            .unwrap_err();
        assert!(err.to_string().contains("CR, LF"), "{err}");
        let many: Vec<(String, String)> = (0..=crate::core::limits::MAX_HEADERS)
            .map(|i| (format!("X-{i}"), "v".into()))
            .collect();
        let err = hub
            .open(
                &c,
                &platform(),
                RawSocketOptions {
                    headers: many,
                    ..Default::default()
                },
                0.0,
            )
            .unwrap_err();
        assert!(err.to_string().contains("at most 64"), "{err}");
        assert!(hub.target(1).is_none(), "nothing opened");
    }

    #[test]
    fn a_browser_cannot_send_a_header_and_says_so() {
        let mut hub = SocketHub::new(1);
        let browser = Platform {
            has_cloud: false,
            sdk_version: None,
            device: Some("browser".into()),
            env_version: None,
        };
        let err = hub
            .open(
                &client(false, true),
                &browser,
                with_header(&[("X-Token", "t")]),
                0.0,
            )
            .unwrap_err();
        assert!(err.to_string().contains("browser"), "{err}");
        assert!(hub
            .open(
                &client(false, true),
                &browser,
                RawSocketOptions::default(),
                0.0
            )
            .is_ok());
        // Node's WebSocket sends them.
        let node = Platform {
            device: Some("node".into()),
            ..browser
        };
        assert!(hub
            .open(
                &client(false, true),
                &node,
                with_header(&[("X-Token", "t")]),
                0.0
            )
            .is_ok());
    }

    #[test]
    fn bad_options_are_named() {
        let mut hub = SocketHub::new(1);
        let bad = RawSocketOptions {
            path: Some("nope".into()),
            ..Default::default()
        };
        assert!(hub
            .open(&client(true, false), &platform(), bad, 0.0)
            .unwrap_err()
            .to_string()
            .starts_with("`path`"));
        let bad = RawSocketOptions {
            service: Some("a b".into()),
            ..Default::default()
        };
        assert!(hub
            .open(&client(true, false), &platform(), bad, 0.0)
            .unwrap_err()
            .to_string()
            .starts_with("`service`"));
    }
}
