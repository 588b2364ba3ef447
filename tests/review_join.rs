//! A request that crosses by handle (a fresh value, or a join of the fetch
//! in flight) is the same request `start` would have made: two engines fed
//! the same operations, one taking the handle path wherever the shim would,
//! the other starting every request, settle every caller alike and count
//! alike. Natively, under a virtual clock, with seeded random operations.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mp_request::core::cache::rules::{RawCacheConfig, RawRequestCache, RawRule};
use mp_request::core::engine::{ByHandle, Command, Engine, Invalidate, RequestId};
use mp_request::core::error::RequestError;
use mp_request::core::request::RawRequest;
use support::{answer, cloud_config, platform, reset, timeout};

type E = Engine<String>;

fn config() -> mp_request::core::config::ClientConfig {
    let mut raw = cloud_config();
    raw.max_concurrent = Some(2.0);
    // One row of its own: further paths fold into (other), counted per lookup.
    raw.stats_max_patterns = Some(1.0);
    raw.cache = Some(RawCacheConfig {
        rules: vec![RawRule {
            path: "/api/home/*".into(),
            ttl_ms: Some(1000.0),
            stale_ms: Some(2000.0),
            tags: vec![],
        }],
        ..RawCacheConfig::default()
    });
    raw.validate().unwrap()
}

/// The requests the operations pick from: cached paths with options the
/// shim's text tells apart, and a few that have no handle.
fn requests() -> Vec<RawRequest> {
    let get = |path: &str| RawRequest {
        path: path.into(),
        ..RawRequest::default()
    };
    vec![
        get("/api/home/a"),
        get("/api/home/a"),
        get("/api/home/b"),
        RawRequest {
            priority: Some("high".into()),
            ..get("/api/home/a")
        },
        RawRequest {
            timeout_ms: Some(3000.0),
            ..get("/api/home/a")
        },
        RawRequest {
            headers: vec![("X-App".into(), "1".into())],
            ..get("/api/home/b")
        },
        RawRequest {
            cache: RawRequestCache::Options {
                ttl_ms: Some(300.0),
                stale_ms: Some(0.0),
                tags: vec![],
                private: false,
                reload: false,
            },
            ..get("/api/home/b")
        },
        RawRequest {
            cache: RawRequestCache::Options {
                ttl_ms: None,
                stale_ms: None,
                tags: vec![],
                private: false,
                reload: true,
            },
            ..get("/api/home/a")
        },
        RawRequest {
            route: Some("cloud".into()),
            ..get("/api/home/a")
        },
        get("/api/other"),
    ]
}

/// How a caller ended, as its app sees it.
#[derive(Clone, Debug, PartialEq)]
enum Settled {
    Ok {
        value: String,
        from_cache: bool,
        stale: bool,
        attempts: u32,
        route: &'static str,
        elapsed: u64,
    },
    Err {
        kind: &'static str,
        attempts: u32,
    },
}

/// One engine and what the shim knows of it, by request number (ids differ:
/// a fresh value by handle takes no id).
struct Side {
    e: E,
    by_handle: bool,
    handles: HashMap<usize, f64>,
    /// Request id → request number.
    number: HashMap<RequestId, usize>,
    /// Fetches with an attempt out (request number of the fetch → id, attempt).
    sent: BTreeMap<usize, RequestId>,
    /// Fetches with a timer armed (request number → id).
    timers: BTreeMap<usize, RequestId>,
    /// Callers still waiting (request numbers).
    waiting: BTreeSet<usize>,
    settled: BTreeMap<usize, Settled>,
    init: bool,
    joins: usize,
    /// Joins by the handle of a request no cache rule covers (made on its first join).
    uncached_joins: usize,
    hits: usize,
}

impl Side {
    fn new(by_handle: bool) -> Side {
        let mut side = Side {
            e: Engine::new(config(), platform(), 7),
            by_handle,
            handles: HashMap::new(),
            number: HashMap::new(),
            sent: BTreeMap::new(),
            timers: BTreeMap::new(),
            waiting: BTreeSet::new(),
            settled: BTreeMap::new(),
            init: false,
            joins: 0,
            uncached_joins: 0,
            hits: 0,
        };
        // The shared cloud init out of the way.
        let (id, commands) = side
            .e
            .start(
                RawRequest {
                    path: "/warm".into(),
                    ..RawRequest::default()
                },
                0.0,
            )
            .unwrap();
        assert!(matches!(commands[0], Command::InitCloud { .. }));
        let mut sends = side.e.on_init(Ok(()), 0.0);
        sends.retain(|c| matches!(c, Command::Send(_)));
        assert_eq!(sends.len(), 1);
        side.e.on_response(id, answer("warm"), 0.0).unwrap();
        side
    }

    fn request(&mut self, n: usize, which: usize, raw: RawRequest, now: f64) {
        self.waiting.insert(n);
        if self.by_handle {
            // As the shim: a text without a handle (-1) crosses as options and asks again.
            if let Some(&h) = self.handles.get(&which).filter(|h| **h >= 0.0) {
                match self.e.by_handle(h, now) {
                    ByHandle::Fresh(value) => {
                        self.hits += 1;
                        self.waiting.remove(&n);
                        self.settled.insert(
                            n,
                            Settled::Ok {
                                value,
                                from_cache: true,
                                stale: false,
                                attempts: 0,
                                route: "cloud",
                                elapsed: 0,
                            },
                        );
                        return;
                    }
                    ByHandle::Joined(id) => {
                        self.joins += 1;
                        self.uncached_joins += usize::from(raw.path == "/api/other");
                        self.number.insert(id, n);
                        return;
                    }
                    ByHandle::Start => {}
                    ByHandle::Void => {
                        self.handles.remove(&which);
                    }
                }
            }
            let want = self.handles.get(&which).is_none_or(|h| *h < 0.0);
            let started = if want {
                self.e.start_with_handle(raw, now)
            } else {
                self.e.start(raw, now).map(|(id, c)| (id, None, c))
            };
            match started {
                Ok((id, handle, commands)) => {
                    if want {
                        self.handles.insert(which, handle.unwrap_or(-1.0));
                    }
                    self.started(n, id, commands);
                }
                Err(e) => self.refused(n, &e),
            }
        } else {
            match self.e.start(raw, now) {
                Ok((id, commands)) => self.started(n, id, commands),
                Err(e) => self.refused(n, &e),
            }
        }
    }

    fn started(&mut self, n: usize, id: RequestId, commands: Vec<Command<String>>) {
        self.number.insert(id, n);
        self.run(commands);
    }

    /// Refused at start: settled at once, with no attempt.
    fn refused(&mut self, n: usize, e: &RequestError) {
        self.waiting.remove(&n);
        self.settled.insert(
            n,
            Settled::Err {
                kind: e.kind().as_str(),
                attempts: 0,
            },
        );
    }

    fn run(&mut self, commands: Vec<Command<String>>) {
        for c in commands {
            match c {
                Command::Send(s) => {
                    let n = self.number[&s.id];
                    self.sent.insert(n, s.id);
                    self.timers.insert(n, s.id);
                }
                Command::Wait { id, .. } | Command::Headers { id, .. } => {
                    let n = self.number[&id];
                    self.timers.insert(n, id);
                }
                Command::Abort { id } => {
                    let n = self.number[&id];
                    self.sent.remove(&n);
                }
                Command::End { id } => {
                    if let Some(&n) = self.number.get(&id) {
                        self.sent.remove(&n);
                        self.timers.remove(&n);
                    }
                }
                Command::Resolve(s, value) => {
                    let n = self.number[&s.id];
                    assert!(self.waiting.remove(&n), "#{n} settled twice");
                    self.settled.insert(
                        n,
                        Settled::Ok {
                            value,
                            from_cache: s.from_cache,
                            stale: s.stale,
                            attempts: s.attempts,
                            route: s.route.as_str(),
                            elapsed: s.elapsed_ms as u64,
                        },
                    );
                }
                Command::Reject(s, error) => {
                    let n = self.number[&s.id];
                    assert!(self.waiting.remove(&n), "#{n} settled twice");
                    self.settled.insert(
                        n,
                        Settled::Err {
                            kind: error.kind().as_str(),
                            attempts: s.attempts,
                        },
                    );
                }
                Command::InitCloud { .. } => self.init = true,
                _ => {}
            }
        }
    }

    /// What the app can see of the engine's counts.
    fn counts(&self) -> String {
        let (rows, total) = self.e.stats().rows();
        let rows: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} req={} hits={} in={} retries={} errors={:?}",
                    r.route.as_str(),
                    r.pattern,
                    r.requests,
                    r.cache_hits,
                    r.in_flight,
                    r.retries,
                    r.errors
                )
            })
            .collect();
        format!(
            "{rows:?} total={} folded={} cache={:?} in_flight={} fetching={}",
            total.requests,
            self.e.stats().folded(),
            self.e.cache_stats(),
            self.e.in_flight(),
            self.e.fetching()
        )
    }
}

/// xorshift: the test's own seeded randomness.
struct Rand(u64);

impl Rand {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn play(seed: u64, steps: usize) -> (usize, usize, usize) {
    let all = requests();
    let mut rand = Rand(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut by_handle = Side::new(true);
    let mut by_start = Side::new(false);
    let mut now = 0.0;
    let mut n = 0;
    let mut log = Vec::new();
    for step in 0..steps {
        let op = rand.below(100);
        let pick = rand.below(1000);
        let what = match op {
            0..=44 => {
                let which = pick % all.len();
                n += 1;
                by_handle.request(n, which, all[which].clone(), now);
                by_start.request(n, which, all[which].clone(), now);
                format!("request #{n}: {which}")
            }
            45..=64 => {
                // An answer for one attempt out (the same fetch on both sides).
                let Some((&fetch, _)) = by_start.sent.iter().nth(pick % by_start.sent.len().max(1))
                else {
                    continue;
                };
                let (a, b) = (by_handle.sent.remove(&fetch), by_start.sent.remove(&fetch));
                assert_eq!(
                    a.is_some(),
                    b.is_some(),
                    "seed {seed} step {step}: fetch #{fetch} out on one side only\n{log:#?}"
                );
                let (a, b) = (a.unwrap(), b.unwrap());
                let kind = rand.below(4);
                let value = format!("v{step}");
                let answer = |side: &mut Side, id| match kind {
                    0 | 1 => side.e.on_response(id, answer(&value), now).unwrap(),
                    2 => side.e.on_failure(id, reset(), now).unwrap(),
                    _ => side.e.on_failure(id, timeout(), now).unwrap(),
                };
                let (ca, cb) = (answer(&mut by_handle, a), answer(&mut by_start, b));
                by_handle.run(ca);
                by_start.run(cb);
                format!("answer #{fetch} with {kind}")
            }
            65..=72 => {
                let Some((&fetch, _)) = by_start
                    .timers
                    .iter()
                    .nth(pick % by_start.timers.len().max(1))
                else {
                    continue;
                };
                let (a, b) = (
                    by_handle.timers.remove(&fetch),
                    by_start.timers.remove(&fetch),
                );
                assert_eq!(
                    a.is_some(),
                    b.is_some(),
                    "seed {seed} step {step}: timer of #{fetch} on one side only\n{log:#?}"
                );
                let ca = by_handle.e.on_timer(a.unwrap(), now).unwrap_or_default();
                let cb = by_start.e.on_timer(b.unwrap(), now).unwrap_or_default();
                by_handle.run(ca);
                by_start.run(cb);
                format!("timer #{fetch}")
            }
            73..=77 => {
                let Some(&caller) = by_start
                    .waiting
                    .iter()
                    .nth(pick % by_start.waiting.len().max(1))
                else {
                    continue;
                };
                let id_of = |side: &Side| {
                    side.number
                        .iter()
                        .find(|(_, &m)| m == caller)
                        .map(|(&id, _)| id)
                };
                let (a, b) = (id_of(&by_handle), id_of(&by_start));
                let ca = by_handle.e.cancel(a.unwrap(), now);
                let cb = by_start.e.cancel(b.unwrap(), now);
                by_handle.run(ca);
                by_start.run(cb);
                format!("cancel #{caller}")
            }
            78..=81 => {
                let user = [None, Some("u1".to_string()), Some("u2".to_string())][pick % 3].clone();
                let ca = by_handle.e.set_user(user.clone(), now);
                let cb = by_start.e.set_user(user.clone(), now);
                by_handle.run(ca);
                by_start.run(cb);
                format!("setUser {user:?}")
            }
            82..=84 => {
                let what = Invalidate::Prefix(["/api/home/a", "/api/home"][pick % 2].into());
                by_handle.e.invalidate(&what);
                by_start.e.invalidate(&what);
                format!("invalidate {what:?}")
            }
            85..=88 => {
                let hidden = pick % 2 == 0;
                let ca = by_handle.e.set_hidden(hidden, now);
                let cb = by_start.e.set_hidden(hidden, now);
                by_handle.run(ca);
                by_start.run(cb);
                format!("hidden {hidden}")
            }
            89..=90 => {
                let online = pick % 3 != 0;
                let ca = by_handle.e.set_online(online, now);
                let cb = by_start.e.set_online(online, now);
                by_handle.run(ca);
                by_start.run(cb);
                format!("online {online}")
            }
            _ => {
                now += (pick * 3) as f64;
                format!("now {now}")
            }
        };
        log.push(what);
        assert_eq!(
            by_handle.settled, by_start.settled,
            "seed {seed} step {step}: callers settled differently\n{log:#?}"
        );
        assert_eq!(
            by_handle.counts(),
            by_start.counts(),
            "seed {seed} step {step}: counts differ\n{log:#?}"
        );
    }
    (by_handle.joins, by_handle.uncached_joins, by_handle.hits)
}

#[test]
fn a_request_by_handle_settles_and_counts_as_the_same_request_started() {
    let (mut joins, mut uncached, mut hits) = (0, 0, 0);
    for seed in 0..400 {
        let (j, u, h) = play(seed, 150);
        joins += j;
        uncached += u;
        hits += h;
    }
    // The handle path was taken, every way.
    assert!(
        joins > 1000 && uncached > 200 && hits > 1000,
        "joins {joins} ({uncached} without a cache rule), hits {hits}"
    );
}

#[test]
fn a_handle_of_an_old_partition_stays_void_however_many_times_the_user_changes() {
    let mut e = Side::new(true).e;
    let get = |path: &str| RawRequest {
        path: path.into(),
        ..RawRequest::default()
    };
    let (_, old, commands) = e.start_with_handle(get("/api/home/a"), 1.0).unwrap();
    let old = old.expect("a handle");
    let fetch = commands
        .iter()
        .find_map(|c| match c {
            Command::Send(s) => Some(s.id),
            _ => None,
        })
        .unwrap();
    e.on_response(fetch, answer("a"), 1.0).unwrap();
    // A user who signs in and out, many times in one session.
    for i in 0..4096 {
        let user = (i % 2 == 0).then(|| "u1".to_string());
        e.set_user(user, 2.0);
    }
    assert_eq!(e.current_user(), None, "back to the first partition");
    // Another request of this partition takes the first index again.
    let (_, _, commands) = e.start_with_handle(get("/api/home/b"), 3.0).unwrap();
    assert!(
        commands.iter().any(|c| matches!(c, Command::Send(_))),
        "b goes to the network"
    );
    // The handle /api/home/a had stands for nothing now: never b's fetch.
    assert_eq!(e.by_handle(old, 4.0), ByHandle::Void);
    // Numbers no handle can be.
    for bad in [2f64.powi(52), 2f64.powi(53) + 2.0, f64::INFINITY, -0.5] {
        assert_eq!(e.by_handle(bad, 4.0), ByHandle::Void, "{bad}");
    }
}
