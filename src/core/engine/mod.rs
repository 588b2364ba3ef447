//! The sans-IO request engine: the shim reports events, the engine answers
//! with commands. It never performs I/O and never reads a clock; `now_ms` is
//! passed in with every event.
//!
//! A request goes: route → cache (serve a fresh or stale value, or join an
//! identical fetch in flight) → (cloud: shared init) → attempt → on failure
//! the retry policy decides → wait → attempt ... → store → resolve or reject.
//!
//! A *fetch* is one network request and its retries; *callers* are the
//! requests waiting for it. A fetch's id is that of the caller that started
//! it. Sharing adds callers to a fetch; a stale hit leaves a fetch with no
//! caller (the background refresh). `V` is the cached value: the wasm side
//! keeps JS objects, tests keep anything.

use crate::prelude::*;
mod admission;
mod attempt;
mod handles;
mod idempotency;
mod live;
mod replay;
mod reporting;
mod revalidation;
mod trace;
mod watching;

pub use handles::ByHandle;
use handles::Handle;
pub use reporting::DEVICE_KEY;
pub use watching::{WatchId, WATCH_COALESCE_MS};

use super::cache::key::{cache_key, path_of, KeyParts};
use super::cache::rules::StorePolicy;
use super::cache::store::{CacheStats, Entry, Lookup, Store, Weigh};
use super::cache::validator::Validator;
use super::classify::{classify, Failure};
use super::config::{ClientConfig, Platform};
use super::error::{ErrorKind, RequestError};
use super::explain::{AttemptNote, CacheUse, Explain};
use super::hash::FxHashMap as HashMap;
use super::init::{CloudInit, InitStep};
use super::offline::{Mutation, Queue};
use super::request::{Body, IdempotencyKey, Method, RawRequest, RequestSpec};
use super::resilience::{counts_against_service, Admit, BreakerView, Guards};
use super::retry::RetryPolicy;
use super::rng::Rng;
use super::route::{self, Route, RouteChoice};
use super::scheduler::{Priority, Scheduler};
use super::stats::{Outcome, Slot, Stats};

/// Largest request body callContainer accepts (errCode -606001 above it).
pub const CLOUD_MAX_BODY_BYTES: usize = 100 * 1024;

/// Longest timeout callContainer honours on the cloud link.
pub const CLOUD_MAX_TIMEOUT_MS: u32 = 15_000;

/// After the cache changes, it is saved this much later (changes in between
/// are saved together).
pub const PERSIST_DELAY_MS: u32 = 1000;

/// Identifies one request (its caller, and the fetch it started) until it ends.
pub type RequestId = u32;

/// What the shim must do next.
#[derive(Clone, Debug, PartialEq)]
pub enum Command<V = ()> {
    /// Make one attempt for fetch `id`, then report `on_response` or
    /// `on_failure`; arm its timer for `guard_ms` and report `on_timer` if
    /// the platform has not answered by then.
    Send(Send),
    /// Call the client's `header` function for attempt `attempt` of fetch
    /// `id` and report `on_headers`; arm its timer for `delay_ms` (the
    /// function's deadline) and report `on_timer` if it has not answered.
    Headers {
        /// The fetch.
        id: RequestId,
        /// The attempt the headers are for.
        attempt: u32,
        /// How long the function may take.
        delay_ms: u32,
    },
    /// Arm fetch `id`'s timer (replacing any it had), then report `on_timer`.
    Wait {
        /// The fetch.
        id: RequestId,
        /// How long.
        delay_ms: u32,
    },
    /// Abort fetch `id`'s attempt in flight: no caller waits for it any more.
    Abort {
        /// The fetch.
        id: RequestId,
    },
    /// Fetch `id` is over: no command will name it again.
    End {
        /// The fetch.
        id: RequestId,
    },
    /// Caller `id` gets this value.
    Resolve(Settled, V),
    /// Caller `id` fails.
    Reject(Settled, RequestError),
    /// Initialise `wx.cloud` (shared by all cloud requests), then report `on_init`.
    InitCloud {
        /// 1 for the first try.
        attempt: u32,
    },
    /// Wait, then report `on_init_timer`.
    WaitInit {
        /// How long.
        delay_ms: u32,
    },
    /// The shared cloud init is done: the sockets waiting for it connect now.
    CloudReady,
    /// The shared cloud init failed for good: the sockets waiting for it
    /// fail this connect (and reconnect as their own backoff says).
    CloudFailed(RequestError),
    /// Save `snapshot()` to storage after this delay.
    Persist {
        /// How long.
        delay_ms: u32,
    },
    /// Fetch `id` replays a queued mutation (its `Send`s follow).
    Replay(Replay),
    /// A queued mutation's replay ended for good: tell `onSync` listeners.
    Synced(Mutation, Result<V, RequestError>),
    /// The offline queue changed: write `pending()` to storage now, then
    /// report `on_queue_saved` (callers told "saved" wait for it).
    SaveQueue,
    /// Wait, then report `on_replay_timer`: the next queued mutation may replay.
    WaitReplay {
        /// How long.
        delay_ms: u32,
    },
    /// Fetch `id` sends a fleet report (its `Send`s follow; it has no caller).
    Report {
        /// The fetch.
        id: RequestId,
    },
    /// Wait, then report `on_report_timer`: the next fleet report is due.
    WaitReport {
        /// How long.
        delay_ms: u32,
    },
    /// These watchers' query has this value (now, or its entry changed).
    Watched {
        /// The watchers.
        watches: Vec<WatchId>,
        /// The value.
        value: V,
    },
    /// A fetch of these watchers' query failed (their last value stands).
    WatchFailed {
        /// The watchers.
        watches: Vec<WatchId>,
        /// Why.
        error: RequestError,
    },
    /// Fetch `id` refetches watcher `watch`'s query (its `Send`s follow; it has no caller).
    WatchFetch {
        /// The fetch.
        id: RequestId,
        /// The watcher it was started for (every watcher of the key hears it).
        watch: WatchId,
    },
    /// Wait, then report `on_watch_timer`: watched entries that are gone are refetched.
    WaitWatch {
        /// How long.
        delay_ms: u32,
    },
}

/// What a replay sends.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The fetch that replays it.
    pub id: RequestId,
    /// The mutation.
    pub mutation: Mutation,
}

/// One attempt to make.
#[derive(Clone, Debug, PartialEq)]
pub struct Send {
    /// The fetch.
    pub id: RequestId,
    /// Where to send it and why.
    pub route: RouteChoice,
    /// The canonical method to send.
    pub method: Method,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Timeout of this attempt (within what is left of the deadline).
    pub timeout_ms: u32,
    /// The timeout asked for, when the cloud link's maximum lowered it.
    pub clamped_from: Option<u32>,
    /// Full URL on the HTTP route.
    pub url: Option<String>,
    /// The path with its query, as validated (a GET's data is in it).
    pub target: String,
    /// Every header to send, as validated: the client's, the request's and
    /// the `Idempotency-Key` (the same on every attempt). The cloud route
    /// adds `X-WX-SERVICE` from the configuration.
    pub headers: Vec<(String, String)>,
    /// The body, as validated (None for GET and HEAD).
    pub body: Option<Body>,
    /// The attempt's own deadline: its timeout and a grace for the platform
    /// to report its own timeout first.
    pub guard_ms: u32,
}

impl Send {
    /// The value of header `name` (case-insensitively) this attempt sends.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How a caller's request went.
#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    /// The caller.
    pub id: RequestId,
    /// The route of the last attempt (or of the cached value).
    pub route: Route,
    /// Why that route.
    pub reason: &'static str,
    /// Attempts made (0 for a value from the cache).
    pub attempts: u32,
    /// From the caller's `start` to now.
    pub elapsed_ms: f64,
    /// Why a failure was not retried, for the error's detail (may be empty).
    pub note: String,
    /// Served from the cache.
    pub from_cache: bool,
    /// Served from the cache after its TTL (a refresh is running).
    pub stale: bool,
    /// A failure whose mutation went to the offline queue: its id there.
    pub queued: Option<u32>,
    /// Why it went as it did (`debug: true` only).
    pub explain: Option<Box<Explain>>,
    /// The fetch it was answered by, when the caller joined one in flight
    /// (another id): where the shim finds the platform's last answer.
    pub fetch: Option<RequestId>,
    /// A failure WeChat's realtime log hears (`realtimeLog`, every failure
    /// but a cancel): its statistics pattern, so that no id or query value
    /// of the path reaches the log.
    pub log_pattern: Option<String>,
}

/// An HTTP answer to an attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer<V> {
    /// Status code.
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The response as callers receive it (and the cache keeps it, weighed then).
    pub value: V,
    /// The user the backend says it served (`X-WX-OPENID` on the response).
    pub user: Option<String>,
    /// Its content type says JSON, and its body did not parse as JSON.
    pub body_not_json: bool,
    /// What a cached copy of it can be revalidated with (its ETag or Last-Modified).
    pub validator: Option<Validator>,
}

impl<V: Default> Answer<V> {
    /// An answer with just a status (tests).
    pub fn status(status: u16, retry_after: Option<&str>) -> Self {
        Answer {
            status,
            retry_after: retry_after.map(str::to_owned),
            value: V::default(),
            user: None,
            body_not_json: false,
            validator: None,
        }
    }
}

/// What `start_with_handle` made of a request: its id, its handle (if it
/// may have one) and its first commands.
pub type Started<V> = (RequestId, Option<f64>, Vec<Command<V>>);

/// What `invalidate` drops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalidate {
    /// Entries whose path starts with this.
    Prefix(String),
    /// Entries with this tag.
    Tag(String),
}

/// A request checked and planned, before it starts.
struct Prepared {
    spec: RequestSpec,
    choice: RouteChoice,
    plan: super::cache::rules::CachePlan,
    key: Option<String>,
}

impl Prepared {
    /// The key a handle may stand for (not copied when there is none): a
    /// request, not aborted, that looks up the cache, or that shares and
    /// `joins` a fetch in flight. So a one-off miss makes no handle, and the
    /// repeats of a shared one join by handle. Its headers and options were
    /// checked and planned here: the shim's text for a handle stands for all
    /// of them, so the same text is the same verdict.
    fn handle_key(&self, joins: impl FnOnce(&str) -> bool) -> Option<String> {
        let key = self.key.as_deref().filter(|_| !self.spec.aborted)?;
        (self.plan.lookup || (self.plan.share && joins(key))).then(|| key.to_owned())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitingInit,
    /// Waiting for the client's `header` function (a `Headers` command).
    AwaitingHeaders,
    /// Waiting for a free slot of its transport (see `Scheduler`).
    Queued,
    /// Interrupted by the app going to the background: sent again when it is back.
    Parked,
    InFlight,
    Waiting,
    /// It went to the offline queue: its callers are told so once the queue
    /// is saved (`on_queue_saved`).
    Saving,
}

/// The cache side of a fetch.
#[derive(Debug)]
struct Caching {
    /// The full key (its scope part first).
    key: String,
    /// Bytes of the scope part at the key's start.
    scope_part: usize,
    /// The scope it was keyed with.
    scope: String,
    /// Store a success with this policy.
    store: Option<StorePolicy>,
    /// Registered in `sharing` under its full key.
    shared: bool,
    /// A mutation invalidated it while in flight: do not store.
    outdated: bool,
}

#[derive(Debug)]
struct Fetch {
    choice: RouteChoice,
    method: Method,
    /// The path with its query, as requested (the cache and stats see this).
    path: String,
    /// What each attempt sends: the path with its query (a GET's data folded in)...
    target: String,
    /// ...the request's own headers...
    headers: Vec<(String, String)>,
    /// ...and the body.
    body: Option<Body>,
    /// The caller keeps the body's JSON text (`RequestSpec::body_kept`).
    body_kept: bool,
    /// The client's `header` function's answer for the next attempt.
    client_headers: Option<Vec<(String, String)>>,
    /// The user epoch it was made in: attempts go out under that user only.
    user_epoch: u32,
    /// Sent with every attempt as `Idempotency-Key`.
    idempotency_key: Option<String>,
    idempotent: bool,
    retry: RetryPolicy,
    timeout_ms: u32,
    clamped_from: Option<u32>,
    url: Option<String>,
    attempts: u32,
    started_ms: f64,
    phase: Phase,
    /// Callers waiting for it, with their start time.
    callers: Vec<(RequestId, f64)>,
    caching: Option<Caching>,
    /// Its statistics row.
    slot: Slot,
    /// The attempt in flight is its breaker's probe.
    probe: bool,
    /// Tokens its last retry took from the budget (returned on success).
    last_cost: u32,
    /// Its place in the scheduler's queue.
    priority: Priority,
    /// The transport whose slot its attempt in flight holds.
    lane: Option<Route>,
    /// `offline: 'queue'`: it goes to the offline queue if it cannot reach
    /// the server (its body, JSON or none, is what the queue keeps).
    queueable: bool,
    /// It replays this queued mutation (it has no callers).
    replay: Option<u32>,
    /// It sends a fleet report (no callers, no statistics row).
    report: bool,
    /// It refreshes a stale entry that can be revalidated: its attempts ask
    /// with this, and a `304` keeps the stored body.
    revalidate: Option<Validator>,
    /// Its record for `explain` (`debug: true` only).
    trace: Option<Box<Explain>>,
}

impl Fetch {
    /// The path without its query.
    fn path(&self) -> &str {
        path_of(&self.path)
    }
}

/// A queued request whose callers wait for the queue to be saved.
#[derive(Debug)]
struct Unsaved {
    fetch: RequestId,
    mutation: u32,
    error: RequestError,
    note: String,
}

/// Replays of the offline queue: one at a time, not before `not_before`.
#[derive(Debug, Default)]
struct Replaying {
    running: Option<RequestId>,
    not_before: f64,
    /// `dropPending` dropped the mutation whose attempt is in flight: it is
    /// dropped when that attempt ends, unless it succeeded.
    doomed: Option<u32>,
}

/// The request engine of one client.
#[derive(Debug)]
pub struct Engine<V = ()> {
    config: ClientConfig,
    platform: Platform,
    /// Boxed: a fetch is a few hundred bytes, and every insert and removal
    /// would otherwise copy it (a loop where wasm is interpreted).
    fetches: HashMap<RequestId, Box<Fetch>>,
    /// Caller → the fetch it joined.
    followers: HashMap<RequestId, RequestId>,
    /// Full cache key → the fetch in flight for it.
    sharing: HashMap<String, RequestId>,
    store: Store<V>,
    scope: String,
    scope_explicit: bool,
    next_id: RequestId,
    init: CloudInit,
    online: bool,
    /// The app is in the background.
    hidden: bool,
    rng: Rng,
    /// The cache changed since the last snapshot and a save is scheduled.
    persist_due: bool,
    /// What the numbers the shim holds stand for (see `by_handle`).
    handles: Vec<Handle>,
    /// Changes with the user partition: older handles are void.
    handle_epoch: u32,
    stats: Stats,
    /// Retry budgets and circuit breakers, per service.
    guards: Guards,
    /// Slots per transport and the queue for them.
    scheduler: Scheduler,
    /// Mutations waiting for the network, and the fetch replaying one.
    queue: Queue,
    replaying: Replaying,
    /// Requests that went to the queue, waiting for it to be saved.
    unsaved: Vec<Unsaved>,
    /// Changes with the user `setUser` sets.
    user_epoch: u32,
    /// The seed, and the source of idempotency keys once one was needed.
    seed: u32,
    keys: Option<Rng>,
    /// Fleet reports, with `report` on.
    reporting: Option<reporting::Reporting>,
    /// Watched queries.
    watching: watching::Watching,
    /// Counts of what services pushed over sockets.
    live: live::Live,
}

/// Handles are kept for at least this many keys (see `handle_capacity`)...
const MIN_HANDLES: usize = 4096;
/// ...and for this many more than the cache holds, for keys in flight.
const HANDLE_SLACK: usize = 1024;

/// A handle: `epoch × 2^20 + index`, a JS number (below 2^52).
const HANDLE_INDEX_BITS: u32 = 20;

impl<V: Clone + Weigh> Engine<V> {
    /// An engine for a validated configuration on a platform. `seed` feeds the
    /// jitter unless the configuration fixes one.
    pub fn new(config: ClientConfig, platform: Platform, seed: u32) -> Self {
        let seed = config.seed.unwrap_or(seed);
        let store = Store::new(config.cache.limits);
        let stats = Stats::new(config.stats.clone());
        let guards = Guards::new(config.retry_budget, config.breaker);
        let scheduler = Scheduler::new(config.max_concurrent);
        let queue_limits = config.offline_queue;
        let init = CloudInit::new(config.cloud_given);
        Engine {
            config,
            platform,
            fetches: HashMap::default(),
            followers: HashMap::default(),
            sharing: HashMap::default(),
            store,
            scope: String::new(),
            scope_explicit: false,
            next_id: 1,
            init,
            online: true,
            hidden: false,
            rng: Rng::new(u64::from(seed)),
            persist_due: false,
            handles: Vec::new(),
            handle_epoch: 0,
            stats,
            guards,
            scheduler,
            queue: Queue::new(queue_limits),
            replaying: Replaying::default(),
            unsaved: Vec::new(),
            user_epoch: 0,
            seed,
            keys: None,
            reporting: None,
            watching: watching::Watching::default(),
            live: live::Live::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// What the shim reported about the runtime.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Callers waiting for an answer.
    pub fn in_flight(&self) -> usize {
        self.fetches.values().map(|f| f.callers.len()).sum()
    }

    /// Network fetches running (background refreshes included).
    pub fn fetching(&self) -> usize {
        self.fetches.len()
    }

    /// What the client did, per route and path class.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The network routes this client can call: cloud with an environment,
    /// HTTP with a `baseUrl`.
    pub fn services(&self) -> impl Iterator<Item = Route> {
        let cloud = self.config.has_cloud_backend().then_some(Route::Cloud);
        let http = self.config.base_url.is_some().then_some(Route::Http);
        cloud.into_iter().chain(http)
    }

    /// The circuit breaker of `route` at `now_ms`, if it has one.
    pub fn breaker(&self, route: Route, now_ms: f64) -> Option<BreakerView> {
        self.guards.view(route).1.map(|b| b.view(now_ms))
    }

    /// The retry budget of `route`: tokens left and capacity, if it has one.
    pub fn budget(&self, route: Route) -> Option<(u32, u32)> {
        self.guards
            .view(route)
            .0
            .map(|b| (b.tokens(), b.capacity()))
    }

    /// The pattern a failure of the request counted in `slot` is logged
    /// under in WeChat's realtime log, if it is logged: as it may leave the
    /// device (`public_pattern`).
    fn log_pattern(&self, slot: Slot, error: &RequestError) -> Option<String> {
        if !self.config.realtime_log || error.kind() == ErrorKind::Cancelled {
            return None;
        }
        self.stats.pattern(slot).map(super::stats::public_pattern)
    }

    /// Clears the statistics (requests in flight stay counted).
    pub fn reset_stats(&mut self) {
        self.stats.reset();
    }

    /// The app went to the background or came back. Back, every request
    /// that an interruption parked is sent again, its deadline counted anew.
    pub fn set_hidden(&mut self, hidden: bool, now_ms: f64) -> Vec<Command<V>> {
        self.hidden = hidden;
        if hidden {
            // The last moment JS runs for a while: the fleet hears what happened.
            return self.send_report(now_ms);
        }
        // Coming back is also a chance for queued mutations.
        let mut replays = self.replay_next(now_ms);
        let mut parked: Vec<RequestId> = self
            .fetches
            .iter()
            .filter(|(_, f)| f.phase == Phase::Parked)
            .map(|(&id, _)| id)
            .collect();
        super::sort::sort(&mut parked);
        let mut commands = Vec::new();
        for id in parked {
            if let Some(fetch) = self.fetches.get_mut(&id) {
                fetch.started_ms = now_ms;
                fetch.phase = Phase::Waiting;
            }
            commands.extend(self.attempt(id, now_ms));
        }
        commands.append(&mut replays);
        // Watched entries that went while it was hidden are refetched now.
        commands.extend(self.refetch_dirty(now_ms));
        commands
    }

    /// The device's connectivity changed (`wx.onNetworkStatusChange`).
    /// Back online, queued mutations are replayed.
    pub fn set_online(&mut self, online: bool, now_ms: f64) -> Vec<Command<V>> {
        if online && !self.online {
            // What waited for lack of a network may pass now.
            self.replaying.not_before = now_ms;
        }
        self.online = online;
        self.replay_next(now_ms)
    }

    /// Scopes the cache to a user (None: anonymous). Entries of other users
    /// stay in their partitions and are never served to this one. Requests
    /// made under another user send no further attempt; queued mutations of
    /// this user replay, one timer tick later: an app stores the new user's
    /// token right after `setUser`, and the replay must ask for it then.
    pub fn set_user(&mut self, user: Option<String>, now_ms: f64) -> Vec<Command<V>> {
        if user.as_deref() == self.current_user() {
            return Vec::new();
        }
        self.user_epoch = self.user_epoch.wrapping_add(1);
        self.scope_explicit = user.is_some();
        self.set_scope(user.unwrap_or_default());
        let waiting = self
            .queue
            .iter()
            .any(|m| m.user.as_deref() == self.current_user());
        // Watchers now watch the new user's entries.
        let mut commands = self.watched_partition_changed(now_ms);
        if waiting {
            commands.push(Command::WaitReplay { delay_ms: 0 });
        }
        commands
    }

    /// The user `setUser` set, if any.
    pub fn current_user(&self) -> Option<&str> {
        self.scope_explicit.then_some(self.scope.as_str())
    }

    fn set_scope(&mut self, scope: String) {
        if scope != self.scope {
            // Handles name keys of the old partition.
            self.void_handles();
        }
        self.scope = scope;
    }

    /// The current user partition ("" when anonymous).
    pub fn user(&self) -> &str {
        &self.scope
    }

    /// Drops cached entries (in every partition); returns how many.
    pub fn invalidate(&mut self, what: &Invalidate) -> usize {
        let dropped = match what {
            Invalidate::Prefix(prefix) => self
                .store
                .invalidate(&|_, e| e.path.starts_with(prefix.as_str())),
            Invalidate::Tag(tag) => self
                .store
                .invalidate(&|_, e| e.tags.iter().any(|t| t == tag)),
        };
        self.outdate_in_flight(&|f| match what {
            Invalidate::Prefix(prefix) => f.path().starts_with(prefix.as_str()),
            Invalidate::Tag(tag) => f
                .caching
                .as_ref()
                .and_then(|c| c.store.as_ref())
                .is_some_and(|s| s.tags.iter().any(|t| t == tag)),
        });
        dropped
    }

    /// Counters and sizes of the cache.
    pub fn cache_stats(&self) -> CacheStats {
        let (pushed_invalidations, ignored_frames) = self.live_counts();
        CacheStats {
            pushed_invalidations,
            ignored_frames,
            ..self.store.stats()
        }
    }

    /// Whether the cache is saved to storage.
    pub fn persists(&self) -> bool {
        self.config.cache.persist
    }

    /// Whether changes wait to be saved.
    pub fn persist_due(&self) -> bool {
        self.persist_due
    }

    /// What to save: the user partition when it was learnt from the backend
    /// (an explicit `setUser` is the app's to repeat), and the live entries,
    /// most recently used first, within `persistMaxBytes`.
    pub fn snapshot(&mut self, now_ms: f64) -> (Option<&str>, Vec<(&String, &Entry<V>)>) {
        self.persist_due = false;
        let mut budget = self.config.cache.persist_max_bytes;
        let mut entries = Vec::new();
        for (key, entry) in self.store.iter() {
            if now_ms >= entry.stale_until {
                continue;
            }
            if entry.size > budget {
                break;
            }
            budget -= entry.size;
            entries.push((key, entry));
        }
        let user = (!self.scope_explicit && !self.scope.is_empty()).then_some(self.scope.as_str());
        (user, entries)
    }

    /// Loads saved entries (most recently used first, as `snapshot` gives
    /// them); expired ones are skipped. Returns how many were restored.
    pub fn restore(
        &mut self,
        user: Option<String>,
        entries: Vec<(String, Entry<V>)>,
        now_ms: f64,
    ) -> usize {
        if let Some(user) = user.filter(|u| !u.is_empty()) {
            if !self.scope_explicit {
                self.set_scope(user);
            }
        }
        let mut restored = 0;
        for (key, entry) in entries.into_iter().rev() {
            if now_ms < entry.stale_until && entry.fresh_until <= entry.stale_until {
                self.store.insert(key, entry);
                restored += 1;
            }
        }
        restored
    }

    /// A `Persist` after the cache changed, unless one is already due.
    pub(super) fn changed(&mut self, commands: &mut Vec<Command<V>>) {
        if self.config.cache.persist && !self.persist_due {
            self.persist_due = true;
            commands.push(Command::Persist {
                delay_ms: PERSIST_DELAY_MS,
            });
        }
    }

    /// Plans a new request: its id and the first commands. Errors are input
    /// problems: nothing was started.
    pub fn start(
        &mut self,
        raw: RawRequest,
        now_ms: f64,
    ) -> Result<(RequestId, Vec<Command<V>>), RequestError> {
        self.start_keeping(raw, now_ms, false)
            .map(|(id, _, commands)| (id, commands))
    }

    /// `start`, and a handle standing for the request's cache key (see
    /// `by_handle`) when it may be looked up by one: not
    /// aborted, a path the cache covers. So a request the shim has not seen
    /// yet is prepared once, and repeats cross the boundary as two numbers.
    pub fn start_with_handle(
        &mut self,
        raw: RawRequest,
        now_ms: f64,
    ) -> Result<Started<V>, RequestError> {
        self.start_keeping(raw, now_ms, true)
    }

    /// Starts a request; with `keep_handle`, registers a handle for its key
    /// once it has started (a request refused at `begin` leaves none behind).
    fn start_keeping(
        &mut self,
        raw: RawRequest,
        now_ms: f64,
        keep_handle: bool,
    ) -> Result<Started<V>, RequestError> {
        let prepared = self.prepare(raw)?;
        let id = self.new_id();
        let folds = self.stats.folded();
        let slot = self.stats.slot(prepared.choice.route, &prepared.spec.path);
        let folded = self.stats.folded() != folds;
        let handle_key = keep_handle
            .then(|| prepared.handle_key(|key| self.sharing.contains_key(key)))
            .flatten();
        let handle = handle_key.map(|key| Handle {
            key,
            slot,
            lookup: prepared.plan.lookup,
            share: prepared.plan.share,
            folded,
            reason: prepared.choice.reason,
        });
        let commands = self.begin(id, slot, prepared, now_ms, true)?;
        let handle = handle.map(|handle| self.register_handle(handle));
        Ok((id, handle, commands))
    }

    /// The next request id (never 0).
    fn new_id(&mut self) -> RequestId {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// Makes `id` a caller of the fetch in flight for `key`, if there is one.
    fn join(&mut self, id: RequestId, key: &str, now_ms: f64) -> bool {
        let Some(&fetch_id) = self.sharing.get(key) else {
            return false;
        };
        self.join_fetch(id, fetch_id, now_ms)
    }

    /// Makes `id` a caller of fetch `fetch_id`, if it is in flight.
    fn join_fetch(&mut self, id: RequestId, fetch_id: RequestId, now_ms: f64) -> bool {
        let Some(fetch) = self.fetches.get_mut(&fetch_id) else {
            return false;
        };
        fetch.callers.push((id, now_ms));
        self.followers.insert(id, fetch_id);
        self.stats.begin(fetch.slot);
        true
    }

    /// The first commands of request `id`; without `caller`, a fetch that
    /// answers no one (a watched query's), which stores what it gets.
    fn begin(
        &mut self,
        id: RequestId,
        slot: Slot,
        prepared: Prepared,
        now_ms: f64,
        with_caller: bool,
    ) -> Result<Vec<Command<V>>, RequestError> {
        let Prepared {
            spec,
            choice,
            plan,
            key,
        } = prepared;
        if spec.aborted {
            self.stats.cancelled_before_start(slot);
            let cancelled = Settled {
                id,
                route: choice.route,
                reason: choice.reason,
                attempts: 0,
                elapsed_ms: 0.0,
                note: String::new(),
                from_cache: false,
                stale: false,
                queued: None,
                explain: None,
                fetch: None,
                log_pattern: None,
            };
            return Ok(vec![
                Command::Reject(cancelled, RequestError::Cancelled),
                Command::End { id },
            ]);
        }
        let mut commands = Vec::new();
        let mut caller = with_caller.then_some((id, now_ms));
        let mut revalidate = None;
        let key_looked_up = key.is_some() && plan.lookup;
        if let Some(full) = &key {
            if !with_caller && self.store.contains(full, now_ms) {
                // A watched query's refetch of a stale entry (its watchers have
                // its value) asks whether it changed; an expired one is fetched whole.
                revalidate = self.store.validator(full);
            }
            if plan.lookup && with_caller {
                let found = self.store.lookup(full, now_ms);
                if let Lookup::Fresh(value) | Lookup::Stale(value) = &found {
                    let stale = matches!(found, Lookup::Stale(_));
                    self.stats.hit(slot);
                    commands.push(Command::Resolve(
                        Settled {
                            id,
                            route: choice.route,
                            reason: choice.reason,
                            attempts: 0,
                            elapsed_ms: 0.0,
                            note: String::new(),
                            from_cache: true,
                            stale,
                            queued: None,
                            explain: self.config.explain.then(|| {
                                let (cache, why) = if stale {
                                    (
                                        CacheUse::Stale,
                                        "past its TTL, within its stale window: a refresh runs",
                                    )
                                } else if self.store.was_revalidated(full) {
                                    (CacheUse::Hit, "a fresh entry, revalidated (304)")
                                } else {
                                    (CacheUse::Hit, "a fresh entry")
                                };
                                Box::new(Explain::new(choice.route, choice.reason, cache, why))
                            }),
                            fetch: None,
                            log_pattern: None,
                        },
                        value.clone(),
                    ));
                    if !stale || self.sharing.contains_key(full) {
                        commands.push(Command::End { id });
                        return Ok(commands);
                    }
                    // Stale: this id carries on as the one background refresh,
                    // a conditional one when the entry can be revalidated.
                    caller = None;
                    revalidate = self.store.validator(full);
                }
            }
            if caller.is_some() && plan.share && self.join(id, full, now_ms) {
                return Ok(vec![Command::End { id }]);
            }
        }
        let asked = spec.timeout_ms.unwrap_or(self.config.timeout_ms);
        if choice.route == Route::Cloud {
            check_cloud_limits(&spec)?;
        }
        let (timeout_ms, clamped_from, url) = self.transport(choice.route, asked, &spec.target);
        let idempotency_key = match spec.idempotency_key {
            Some(IdempotencyKey::Given(key)) => Some(key),
            Some(IdempotencyKey::Generate) => Some(self.new_idempotency_key(now_ms)),
            None => None,
        };
        let caching = key.map(|key| {
            let shared = plan.share || caller.is_none();
            if shared {
                self.sharing.insert(key.clone(), id);
            }
            Caching {
                key,
                scope_part: full_key(&self.scope, "").len(),
                scope: self.scope.clone(),
                store: plan.store.clone(),
                shared,
                outdated: false,
            }
        });
        if caller.is_some() {
            self.stats.begin(slot);
        }
        let trace = self.config.explain.then(|| {
            let cache = if key_looked_up {
                CacheUse::Miss
            } else {
                CacheUse::Bypass
            };
            Box::new(Explain::new(choice.route, choice.reason, cache, plan.why))
        });
        self.fetches.insert(
            id,
            Box::new(Fetch {
                choice,
                method: spec.method,
                path: spec.path,
                target: spec.target,
                headers: spec.headers,
                body: spec.body,
                body_kept: spec.body_kept,
                client_headers: None,
                user_epoch: self.user_epoch,
                idempotency_key,
                idempotent: spec.idempotent,
                retry: spec.retry,
                timeout_ms,
                clamped_from,
                url,
                attempts: 0,
                started_ms: now_ms,
                phase: Phase::InFlight,
                callers: caller.into_iter().collect(),
                caching,
                slot,
                probe: false,
                last_cost: 0,
                priority: spec.priority,
                lane: None,
                queueable: spec.offline_queue,
                replay: None,
                report: false,
                revalidate,
                trace,
            }),
        );
        commands.extend(self.attempt(id, now_ms));
        Ok(commands)
    }

    /// What every request needs before anything starts: validation, the
    /// route, the cache plan and, when the cache takes part, the key.
    fn prepare(&self, mut raw: RawRequest) -> Result<Prepared, RequestError> {
        // Taken, not copied: validation does not need it.
        let request_cache = core::mem::take(&mut raw.cache);
        let spec = raw.validate(self.config.retry)?;
        let choice = route::choose(
            &self.config,
            &self.platform,
            spec.route,
            spec.method,
            &spec.path,
        )?;
        let plan = self.config.cache.plan(
            spec.method,
            &spec.path,
            &spec.headers,
            request_cache,
            !self.scope.is_empty(),
        )?;
        // String and binary data have no canonical form: such a request is
        // neither cached nor shared.
        let keyable = !matches!(spec.body, Some(Body::Text(_) | Body::Binary(_)));
        let key = (keyable && (plan.lookup || plan.store.is_some() || plan.share))
            .then(|| {
                // A GET's or HEAD's data is in its target's query, which the key sorts:
                // keying the target spares parsing the data's JSON once more.
                let (path, data_json) = match &spec.body {
                    None => (spec.target.as_str(), None),
                    Some(_) => (spec.path.as_str(), spec.data_json()),
                };
                cache_key(KeyParts {
                    scope: &self.scope,
                    route: choice.route,
                    method: spec.method,
                    path,
                    data_json,
                    headers: &spec.headers,
                })
            })
            .flatten();
        Ok(Prepared {
            spec,
            choice,
            plan,
            key,
        })
    }

    /// A 2xx: store it, invalidate what a mutation invalidates, resolve every caller.
    fn succeed(&mut self, id: RequestId, answer: Answer<V>, now_ms: f64) -> Vec<Command<V>> {
        let mut fetch = self.end(id).expect("fetch");
        if fetch.report {
            // A report changes nothing of the app's: no cache, no user, no budget.
            self.report_ended(id, true);
            return vec![Command::End { id }];
        }
        if let Some(budget) = self.guards.budget(fetch.choice.route) {
            budget.deposit(fetch.last_cost);
        }
        self.finish_trace(&mut fetch, now_ms);
        let synced = fetch
            .replay
            .map(|mutation| self.replay_succeeded(mutation, answer.value.clone()));
        // The backend named the user it served: the partition follows, and so do watchers.
        let mut scope_changed = false;
        if let Some(user) = &answer.user {
            if !self.scope_explicit && !user.is_empty() && *user != self.scope {
                self.set_scope(user.clone());
                scope_changed = true;
            }
        }
        let mut watched = None;
        if let Some(caching) = &fetch.caching {
            // Outdated while it ran: stored nowhere, yet newer than what its watchers
            // heard while their entry is gone (so a stream of invalidations starves no one).
            if caching.outdated
                && caching.store.is_some()
                && !self.store.contains(&caching.key, now_ms)
            {
                let watches = self.heard_from(&caching.key, id, false);
                if !watches.is_empty() {
                    watched = Some(Command::Watched {
                        watches,
                        value: answer.value.clone(),
                    });
                }
            }
            if let (Some(policy), false) = (&caching.store, caching.outdated) {
                // Keyed with the user who was served when the backend says so.
                let scope = match (&answer.user, self.scope_explicit) {
                    (Some(user), false) if !user.is_empty() => user.as_str(),
                    _ => caching.scope.as_str(),
                };
                let fresh_until = now_ms + f64::from(policy.ttl_ms);
                let key = if scope == caching.scope {
                    caching.key.clone()
                } else {
                    full_key(scope, &caching.key[caching.scope_part..])
                };
                let watches = self.heard_from(&key, id, true);
                if !watches.is_empty() {
                    watched = Some(Command::Watched {
                        watches,
                        value: answer.value.clone(),
                    });
                }
                self.store.insert(
                    key,
                    Entry {
                        value: answer.value.clone(),
                        size: answer.value.weigh(),
                        path: fetch.path().to_owned(),
                        scope: scope.to_owned(),
                        tags: policy.tags.clone(),
                        fresh_until,
                        stale_until: fresh_until + f64::from(policy.stale_ms),
                        reason: fetch.choice.reason,
                        validator: answer.validator.clone(),
                        revalidated: false,
                        fetch: id,
                    },
                );
            }
        }
        if fetch.method != Method::Get {
            // A mutation makes its own path's cached answers outdated.
            let path = fetch.path().to_owned();
            self.store.invalidate(&|_, e| e.path == path);
            self.outdate_in_flight(&|f| f.path() == path);
            let (prefixes, tags) = self.config.cache.invalidated_by(fetch.method, &path);
            for prefix in prefixes {
                self.invalidate(&Invalidate::Prefix(prefix));
            }
            for tag in tags {
                self.invalidate(&Invalidate::Tag(tag));
            }
        }
        // A mutation's invalidations, or an answer that could not be stored
        // (outdated by an invalidation or a new user): watched entries that
        // are gone are refetched.
        let outdated = fetch.caching.as_ref().is_some_and(|c| c.outdated);
        let refetch = if fetch.method == Method::Get && !outdated {
            None
        } else {
            self.watched_entries_gone(now_ms)
        };
        // Once stored: every watcher is told the new partition's value (or refetched).
        let partition = if scope_changed {
            watched = None;
            self.watched_partition_changed(now_ms)
        } else {
            Vec::new()
        };
        let mut commands = self.resolve_all(id, &fetch, &answer.value, now_ms);
        commands.extend(watched);
        commands.extend(refetch);
        commands.extend(partition);
        self.mark_served(&commands);
        commands.extend(self.serve_the_unserved());
        let stored = fetch
            .caching
            .as_ref()
            .is_some_and(|c| c.store.is_some() && !c.outdated);
        if stored || fetch.method != Method::Get {
            self.changed(&mut commands);
        }
        commands.extend(synced.into_iter().flatten());
        commands
    }

    /// Every caller of ended fetch `id` gets `value`, counted; then its `End`.
    fn resolve_all(
        &mut self,
        id: RequestId,
        fetch: &Fetch,
        value: &V,
        now_ms: f64,
    ) -> Vec<Command<V>> {
        let mut commands: Vec<Command<V>> = fetch
            .callers
            .iter()
            .map(|&(caller, started)| {
                let settled = settled(fetch, caller, started, now_ms, String::new());
                self.stats.end(fetch.slot, settled.elapsed_ms, Outcome::Ok);
                Command::Resolve(settled, value.clone())
            })
            .collect();
        commands.push(Command::End { id });
        commands
    }

    /// Rejects every caller of fetch `id` with `error` and ends it.
    fn fail(
        &mut self,
        id: RequestId,
        error: &RequestError,
        note: &str,
        now_ms: f64,
    ) -> Vec<Command<V>> {
        self.note_decision(id, || {
            if note.is_empty() {
                format!("returned: {} is not retried", error.kind().as_str())
            } else {
                note.to_owned()
            }
        });
        self.reject_all(id, error, note, None, now_ms)
    }

    /// Rejects every caller of fetch `id` with `error` (saying it went to the
    /// offline queue as `queued`, if so) and ends it.
    fn reject_all(
        &mut self,
        id: RequestId,
        error: &RequestError,
        note: &str,
        queued: Option<u32>,
        now_ms: f64,
    ) -> Vec<Command<V>> {
        let Some(mut fetch) = self.end(id) else {
            return Vec::new();
        };
        if fetch.report {
            self.report_ended(id, false);
        }
        self.finish_trace(&mut fetch, now_ms);
        let mut commands: Vec<Command<V>> = fetch
            .callers
            .iter()
            .enumerate()
            .map(|(i, &(caller, started))| {
                let mut settled = settled(&fetch, caller, started, now_ms, note.to_owned());
                settled.queued = queued;
                settled.fetch = (caller != id).then_some(id);
                // One line per failed fetch, with its first caller, however many
                // shared it; one told "queued" has not failed for good: its
                // replay is what counts.
                if queued.is_none() && i == 0 {
                    settled.log_pattern = self.log_pattern(fetch.slot, error);
                }
                self.stats.end(
                    fetch.slot,
                    settled.elapsed_ms,
                    Outcome::Failed(error.kind()),
                );
                Command::Reject(settled, error.clone())
            })
            .collect();
        commands.push(Command::End { id });
        // Its watchers hear it; the entry they have, if any, stays. An
        // outdated fetch's failure only reaches those that heard no newer
        // fetch (they are asked again anyway), and none when it went out
        // under another user.
        if let Some(caching) = &fetch.caching {
            let watches = match (caching.outdated, &caching.store) {
                (false, _) => self.watchers_of(&caching.key),
                (true, Some(_)) => self.heard_from(&caching.key, id, false),
                (true, None) => Vec::new(),
            };
            if !watches.is_empty() {
                commands.push(Command::WatchFailed {
                    watches,
                    error: error.clone(),
                });
            }
        }
        self.mark_served(&commands);
        commands.extend(self.serve_the_unserved());
        commands
    }

    /// The timeout, the timeout it was clamped from and the URL of an attempt on `route`.
    fn transport(
        &self,
        route: Route,
        asked: u32,
        target: &str,
    ) -> (u32, Option<u32>, Option<String>) {
        match route {
            Route::Cloud => {
                let clamped = asked.min(CLOUD_MAX_TIMEOUT_MS);
                (clamped, (clamped < asked).then_some(asked), None)
            }
            Route::Http => {
                let base = self.config.base_url.as_deref().unwrap_or_default();
                (asked, None, Some(format!("{base}{target}")))
            }
            Route::Mock => (asked, None, None),
        }
    }

    /// Removes fetch `id` and everything that points at it.
    fn end(&mut self, id: RequestId) -> Option<Box<Fetch>> {
        let fetch = self.fetches.remove(&id)?;
        for (caller, _) in &fetch.callers {
            self.followers.remove(caller);
        }
        if let Some(caching) = &fetch.caching {
            if caching.shared && self.sharing.get(&caching.key) == Some(&id) {
                self.sharing.remove(&caching.key);
            }
        }
        Some(fetch)
    }

    /// In-flight fetches that `outdated` selects will not store their answer,
    /// and new requests will not join them.
    fn outdate_in_flight(&mut self, outdated: &dyn Fn(&Fetch) -> bool) {
        for fetch in self.fetches.values_mut() {
            if !outdated(fetch) {
                continue;
            }
            if let Some(caching) = &mut fetch.caching {
                caching.outdated = true;
                self.sharing.remove(&caching.key);
                caching.shared = false;
            }
        }
    }
}

fn settled(fetch: &Fetch, caller: RequestId, started: f64, now_ms: f64, note: String) -> Settled {
    let explain = fetch.trace.clone().map(|mut trace| {
        // Callers after the first joined the fetch in flight.
        if fetch.callers.first().map(|c| c.0) != Some(caller) {
            trace.cache = CacheUse::Shared;
            trace.cache_reason = "joined an identical request in flight";
        }
        trace
    });
    Settled {
        id: caller,
        route: fetch.choice.route,
        reason: fetch.choice.reason,
        attempts: fetch.attempts,
        elapsed_ms: (now_ms - started).max(0.0),
        note,
        from_cache: false,
        stale: false,
        queued: None,
        explain,
        fetch: None,
        log_pattern: None,
    }
}

/// The full key: the scope part, then the rest.
fn full_key(scope: &str, rest: &str) -> String {
    let mut key = String::with_capacity(scope.len() + rest.len() + 8);
    super::cache::key::push_part(&mut key, scope);
    key.push_str(rest);
    key
}

/// callContainer's limits, checked before sending so the caller gets a clear
/// error instead of the platform's code.
fn check_cloud_limits(spec: &RequestSpec) -> Result<(), RequestError> {
    if !matches!(
        spec.method,
        Method::Get | Method::Post | Method::Put | Method::Delete
    ) {
        return Err(RequestError::invalid(
            "method",
            format!(
                "{} is not supported by callContainer (GET, POST, PUT, DELETE only; errCode 102005)",
                spec.method.as_str()
            ),
        ));
    }
    if spec.body_bytes > CLOUD_MAX_BODY_BYTES {
        return Err(RequestError::invalid(
            "data",
            format!(
                "is {} bytes as JSON; callContainer accepts at most 100 KB (errCode -606001)",
                spec.body_bytes
            ),
        ));
    }
    Ok(())
}
