//! How a managed socket reconnects, beats and queues. Every default is written
//! here; they are at least as careful as partysocket's and socket.io's.

use crate::core::error::RequestError;
use crate::core::float;
use crate::core::request::whole_or;
use crate::core::rng::Rng;

/// Whether the socket pings, and whether silence means the connection is dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heartbeat {
    /// No pings and no silence check (`heartbeat: false`): for a service that
    /// must not see pings. An idle socket may then be closed by the gateway
    /// (and is reconnected like any other loss).
    Off,
    /// The default: pings keep the connection busy (Cloud Run gateways reclaim
    /// idle sockets), and silence means death only once the service has
    /// answered a ping (a pong, or the ping echoed back). A service that
    /// ignores pings is never reconnected for being quiet.
    Auto,
    /// `heartbeat: true`: silence means death from the first ping on, for a
    /// service known to answer pings.
    On,
}

/// A managed socket's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SocketConfig {
    /// Smallest delay before reconnecting (partysocket: 1–5 s; socket.io: 1 s).
    pub min_delay_ms: u32,
    /// Largest delay (partysocket: 10 s; socket.io: 5 s).
    pub max_delay_ms: u32,
    /// Growth of the delay window per attempt, in tenths (15 = ×1.5; partysocket ×1.3, socket.io ×2).
    pub factor_tenths: u32,
    /// Give up after this many reconnect attempts in a row (None: never).
    pub max_attempts: Option<u32>,
    /// An attempt not open by then is abandoned (partysocket: 4 s; slow links and cold starts need more).
    pub connect_timeout_ms: u32,
    /// A connection must stay open this long before the backoff starts over (partysocket: 5 s).
    pub min_uptime_ms: u32,
    /// Pings, and the silence check.
    pub heartbeat: Heartbeat,
    /// A ping is sent this often while open (Cloud Run gateways reclaim idle sockets: about 10 s).
    pub heartbeat_interval_ms: u32,
    /// Nothing received for this long (pongs included) means the connection is dead.
    pub heartbeat_timeout_ms: u32,
    /// At most this many messages wait to be sent (or to be acked).
    pub outbox_max_messages: u32,
    /// At most this many bytes wait.
    pub outbox_max_bytes: u32,
    /// Messages carry ids and are resent after a reconnect until acked.
    pub acked: bool,
}

impl SocketConfig {
    /// The defaults.
    pub const DEFAULT: SocketConfig = SocketConfig {
        min_delay_ms: 1000,
        max_delay_ms: 10_000,
        factor_tenths: 15,
        max_attempts: None,
        connect_timeout_ms: 10_000,
        min_uptime_ms: 5000,
        heartbeat: Heartbeat::Auto,
        heartbeat_interval_ms: 10_000,
        heartbeat_timeout_ms: 25_000,
        outbox_max_messages: 1000,
        outbox_max_bytes: 1 << 20,
        acked: false,
    };

    /// The delay before reconnect attempt `n` (1 for the first): uniform
    /// between the minimum and `min(max, min × factor^(n-1))`.
    pub fn delay(&self, n: u32, rng: &mut Rng) -> u32 {
        let mut ceiling = f64::from(self.min_delay_ms);
        let factor = f64::from(self.factor_tenths) / 10.0;
        for _ in 1..n.min(64) {
            ceiling *= factor;
            if ceiling >= f64::from(self.max_delay_ms) {
                break;
            }
        }
        let ceiling = (ceiling as u32)
            .min(self.max_delay_ms)
            .max(self.min_delay_ms);
        self.min_delay_ms + rng.up_to(ceiling - self.min_delay_ms)
    }
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig::DEFAULT
    }
}

/// How many numbers `SocketConfig::to_numbers` writes.
pub const CONFIG_NUMBERS: usize = 12;

impl SocketConfig {
    /// The settings as plain numbers, the form in which they cross from the
    /// request engine (which validates them when `client.socket()` is
    /// called) to the socket engine (`RawSocketConfig::from_numbers`).
    pub fn to_numbers(&self) -> [f64; CONFIG_NUMBERS] {
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        [
            f64::from(self.min_delay_ms),
            f64::from(self.max_delay_ms),
            f64::from(self.factor_tenths) / 10.0,
            self.max_attempts.map_or(f64::NAN, f64::from),
            f64::from(self.connect_timeout_ms),
            f64::from(self.min_uptime_ms),
            match self.heartbeat {
                Heartbeat::Auto => f64::NAN,
                Heartbeat::On => 1.0,
                Heartbeat::Off => 0.0,
            },
            f64::from(self.heartbeat_interval_ms),
            f64::from(self.heartbeat_timeout_ms),
            f64::from(self.outbox_max_messages),
            f64::from(self.outbox_max_bytes),
            flag(self.acked),
        ]
    }
}

/// `socket` options as given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawSocketConfig {
    /// `minDelayMs`
    pub min_delay_ms: Option<f64>,
    /// `maxDelayMs`
    pub max_delay_ms: Option<f64>,
    /// `factor` (1 to 10)
    pub factor: Option<f64>,
    /// `maxAttempts`
    pub max_attempts: Option<f64>,
    /// `connectTimeoutMs`
    pub connect_timeout_ms: Option<f64>,
    /// `minUptimeMs`
    pub min_uptime_ms: Option<f64>,
    /// `heartbeat` (unset: auto)
    pub heartbeat: Option<bool>,
    /// `heartbeatIntervalMs`
    pub heartbeat_interval_ms: Option<f64>,
    /// `heartbeatTimeoutMs`
    pub heartbeat_timeout_ms: Option<f64>,
    /// `outboxMaxMessages`
    pub outbox_max_messages: Option<f64>,
    /// `outboxMaxBytes`
    pub outbox_max_bytes: Option<f64>,
    /// `acked`
    pub acked: Option<bool>,
}

impl RawSocketConfig {
    /// Settings written by `SocketConfig::to_numbers`, to be validated again:
    /// the socket engine trusts nothing that came through JS. NaN is unset.
    pub fn from_numbers(n: &[f64]) -> Result<RawSocketConfig, RequestError> {
        if n.len() != CONFIG_NUMBERS {
            return Err(RequestError::invalid(
                "socket",
                "settings must be the request engine's 12 numbers",
            ));
        }
        let num = |i: usize| (!n[i].is_nan()).then_some(n[i]);
        let flag = |i: usize| num(i).map(|v| v != 0.0);
        Ok(RawSocketConfig {
            min_delay_ms: num(0),
            max_delay_ms: num(1),
            factor: num(2),
            max_attempts: num(3),
            connect_timeout_ms: num(4),
            min_uptime_ms: num(5),
            heartbeat: flag(6),
            heartbeat_interval_ms: num(7),
            heartbeat_timeout_ms: num(8),
            outbox_max_messages: num(9),
            outbox_max_bytes: num(10),
            acked: flag(11),
        })
    }

    /// Checks every field.
    pub fn validate(self) -> Result<SocketConfig, RequestError> {
        let d = SocketConfig::DEFAULT;
        let ms = |name: &'static str, v, min, default| whole_or(name, v, min, 600_000, default);
        let factor_tenths = match self.factor {
            None => d.factor_tenths,
            Some(f) if f.is_finite() && (1.0..=10.0).contains(&f) => float::round(f * 10.0) as u32,
            Some(_) => {
                return Err(RequestError::invalid(
                    "socket.factor",
                    "must be a number from 1 to 10",
                ))
            }
        };
        let config = SocketConfig {
            min_delay_ms: ms("socket.minDelayMs", self.min_delay_ms, 1, d.min_delay_ms)?,
            max_delay_ms: ms("socket.maxDelayMs", self.max_delay_ms, 1, d.max_delay_ms)?,
            factor_tenths,
            max_attempts: self
                .max_attempts
                .map(|a| whole_or("socket.maxAttempts", Some(a), 1, 1_000_000, 0))
                .transpose()?,
            connect_timeout_ms: ms(
                "socket.connectTimeoutMs",
                self.connect_timeout_ms,
                100,
                d.connect_timeout_ms,
            )?,
            min_uptime_ms: ms("socket.minUptimeMs", self.min_uptime_ms, 0, d.min_uptime_ms)?,
            heartbeat: match self.heartbeat {
                None => Heartbeat::Auto,
                Some(true) => Heartbeat::On,
                Some(false) => Heartbeat::Off,
            },
            heartbeat_interval_ms: ms(
                "socket.heartbeatIntervalMs",
                self.heartbeat_interval_ms,
                100,
                d.heartbeat_interval_ms,
            )?,
            heartbeat_timeout_ms: ms(
                "socket.heartbeatTimeoutMs",
                self.heartbeat_timeout_ms,
                100,
                d.heartbeat_timeout_ms,
            )?,
            outbox_max_messages: whole_or(
                "socket.outboxMaxMessages",
                self.outbox_max_messages,
                0,
                100_000,
                d.outbox_max_messages,
            )?,
            outbox_max_bytes: whole_or(
                "socket.outboxMaxBytes",
                self.outbox_max_bytes,
                0,
                64 << 20,
                d.outbox_max_bytes,
            )?,
            acked: self.acked.unwrap_or(d.acked),
        };
        if config.max_delay_ms < config.min_delay_ms {
            return Err(RequestError::invalid(
                "socket.maxDelayMs",
                "must not be below minDelayMs",
            ));
        }
        if config.heartbeat_timeout_ms <= config.heartbeat_interval_ms {
            return Err(RequestError::invalid(
                "socket.heartbeatTimeoutMs",
                "must be longer than heartbeatIntervalMs (at least one pong must have time to come back)",
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_by_the_factor_within_min_and_max() {
        let c = SocketConfig::DEFAULT;
        let mut rng = Rng::new(3);
        for n in 1..30 {
            let d = c.delay(n, &mut rng);
            assert!(
                (c.min_delay_ms..=c.max_delay_ms).contains(&d),
                "attempt {n}: {d}"
            );
        }
        let first: Vec<u32> = (0..50).map(|_| c.delay(1, &mut rng)).collect();
        assert!(
            first.iter().all(|d| *d == 1000),
            "the first window is [min, min]"
        );
        let third_max = (0..500).map(|_| c.delay(3, &mut rng)).max().unwrap();
        assert!(
            third_max > 1800 && third_max <= 2250,
            "window 1000..2250, got up to {third_max}"
        );
    }

    #[test]
    fn settings_cross_as_numbers_unchanged_and_are_checked_again() {
        let given = RawSocketConfig {
            factor: Some(2.3),
            max_attempts: Some(7.0),
            heartbeat: Some(false),
            outbox_max_bytes: Some(0.0),
            acked: Some(true),
            ..Default::default()
        }
        .validate()
        .unwrap();
        for config in [SocketConfig::DEFAULT, given] {
            let back = RawSocketConfig::from_numbers(&config.to_numbers())
                .unwrap()
                .validate()
                .unwrap();
            assert_eq!(back, config);
        }
        assert!(RawSocketConfig::from_numbers(&[1.0; 3]).is_err());
        let mut hostile = SocketConfig::DEFAULT.to_numbers();
        hostile[8] = 1.0; // a timeout shorter than the interval
        assert!(RawSocketConfig::from_numbers(&hostile)
            .unwrap()
            .validate()
            .is_err());
    }

    #[test]
    fn options_are_checked() {
        assert!(RawSocketConfig::default().validate().is_ok());
        let bad = RawSocketConfig {
            min_delay_ms: Some(5000.0),
            max_delay_ms: Some(1000.0),
            ..Default::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("`socket.maxDelayMs`"));
        let bad = RawSocketConfig {
            heartbeat_interval_ms: Some(30_000.0),
            ..Default::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("longer than heartbeatIntervalMs"));
        let bad = RawSocketConfig {
            factor: Some(0.5),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let ok = RawSocketConfig {
            factor: Some(2.0),
            max_attempts: Some(3.0),
            acked: Some(true),
            ..Default::default()
        };
        let c = ok.validate().unwrap();
        assert_eq!(
            (c.factor_tenths, c.max_attempts, c.acked),
            (20, Some(3), true)
        );
    }
}
