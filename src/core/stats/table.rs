//! The rows: one per (route, path class), at most `max_patterns` of them
//! plus one `(other)` row per route that every further class is folded into.

use super::histogram::Histogram;
use super::path_class::PathClasses;
use crate::core::cache::key::path_of;
use crate::core::error::{ErrorKind, RequestError};
use crate::core::hash::FxHashMap as HashMap;
use crate::core::route::Route;
use crate::core::sort::sort_by;
use crate::prelude::*;

/// Rows kept when `stats.maxPatterns` is not given.
pub const DEFAULT_MAX_PATTERNS: usize = 64;
/// The largest `stats.maxPatterns` (a row is about 700 bytes).
pub const MAX_MAX_PATTERNS: usize = 1000;
/// Where classes beyond the limit are counted.
pub const OTHER: &str = "(other)";

/// `stats` as validated.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsConfig {
    /// `stats.patterns`
    pub classes: PathClasses,
    /// `stats.maxPatterns`
    pub max_patterns: usize,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            classes: PathClasses::default(),
            max_patterns: DEFAULT_MAX_PATTERNS,
        }
    }
}

impl StatsConfig {
    /// Validates `stats: { patterns, maxPatterns }`.
    pub fn parse(patterns: &[String], max_patterns: Option<f64>) -> Result<Self, RequestError> {
        let max_patterns = crate::core::request::whole_or(
            "stats.maxPatterns",
            max_patterns,
            1,
            MAX_MAX_PATTERNS as u32,
            DEFAULT_MAX_PATTERNS as u32,
        )? as usize;
        Ok(StatsConfig {
            classes: PathClasses::parse(patterns)?,
            max_patterns,
        })
    }
}

/// A row's index; stable until the client is dropped (`reset` keeps rows).
pub type Slot = usize;

/// The slot of what is never counted (a fleet report's own fetch).
pub const NO_SLOT: Slot = usize::MAX;

/// How a caller's request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered by the network (2xx).
    Ok,
    /// Failed with this kind.
    Failed(ErrorKind),
}

/// The figures of one (route, path class).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The route.
    pub route: Route,
    /// The path class (a pattern, a path with `:id`, or `(other)`).
    pub pattern: String,
    /// Requests settled: answered, failed or served from the cache.
    pub requests: u64,
    /// Requests that failed, by kind (kinds seen only).
    pub errors: Vec<(ErrorKind, u64)>,
    /// Retries made (attempts after the first).
    pub retries: u64,
    /// Requests served from the cache (stale ones included).
    pub cache_hits: u64,
    /// Stale entries a `304 Not Modified` made fresh again (refreshes that
    /// moved no body).
    pub revalidated: u64,
    /// Callers waiting now.
    pub in_flight: u32,
    /// Time to settle of requests that went to the network (cache hits excluded).
    pub latency: Histogram,
}

impl Row {
    /// An empty row.
    pub fn new(route: Route, pattern: String) -> Row {
        Row {
            route,
            pattern,
            requests: 0,
            errors: Vec::new(),
            retries: 0,
            cache_hits: 0,
            revalidated: 0,
            in_flight: 0,
            latency: Histogram::default(),
        }
    }

    /// Failed requests.
    pub fn failed(&self) -> u64 {
        self.errors.iter().map(|(_, n)| n).sum()
    }

    /// Cache hits over requests (0 without requests).
    pub fn hit_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.cache_hits as f64 / self.requests as f64
        }
    }

    /// Adds every figure of `other` (requests in flight included).
    /// Sums saturate: the backend merges what devices claim, never wrapped.
    pub fn merge(&mut self, other: &Row) {
        self.requests = self.requests.saturating_add(other.requests);
        for &(kind, n) in &other.errors {
            self.add_error(kind, n);
        }
        self.retries = self.retries.saturating_add(other.retries);
        self.cache_hits = self.cache_hits.saturating_add(other.cache_hits);
        self.revalidated = self.revalidated.saturating_add(other.revalidated);
        self.in_flight = self.in_flight.saturating_add(other.in_flight);
        self.latency.merge(&other.latency);
    }

    fn add_error(&mut self, kind: ErrorKind, n: u64) {
        match self.errors.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, count)) => *count = count.saturating_add(n),
            None => self.errors.push((kind, n)),
        }
    }

    fn is_empty(&self) -> bool {
        self.requests == 0 && self.retries == 0 && self.revalidated == 0 && self.in_flight == 0
    }
}

/// The statistics of one client.
#[derive(Debug)]
pub struct Stats {
    config: StatsConfig,
    rows: Vec<Row>,
    /// Route name + class → row index (a `String → u32` map, like the
    /// engine's others: one more key type would cost the wasm a map's code).
    index: HashMap<String, u32>,
    /// Distinct classes seen while the table was full (each counted once per
    /// lookup that had to fold it, which is an upper bound).
    folded: u64,
    /// Per route, paths that are their own class (no id in them, no pattern
    /// naming them otherwise) → their row: most requests repeat a few such
    /// paths, and classifying one costs two strings. Rows are never removed,
    /// so an entry stays right; bounded by clearing.
    own_class: [HashMap<String, u32>; 3],
    /// What each row gained since the last fleet report was taken, by slot
    /// (only with `report` on): the same events as the rows, and never
    /// cleared by `resetStats`, which is the app's own view.
    deltas: Option<Vec<Row>>,
}

/// Paths remembered per route in `own_class` before it starts over.
const MAX_OWN_CLASS: usize = 256;

impl Stats {
    /// Empty statistics.
    pub fn new(config: StatsConfig) -> Stats {
        Stats {
            config,
            rows: Vec::new(),
            index: HashMap::default(),
            folded: 0,
            own_class: Default::default(),
            deltas: None,
        }
    }

    /// Keeps what each row gains for fleet reports from now on (`take_deltas`).
    pub fn keep_deltas(&mut self) {
        if self.deltas.is_none() {
            let fresh = self
                .rows
                .iter()
                .map(|r| Row::new(r.route, r.pattern.clone()));
            self.deltas = Some(fresh.collect());
        }
    }

    /// The rows that gained something since the last call, by slot, and
    /// starts them over (None without `keep_deltas`).
    pub fn take_deltas(&mut self) -> Vec<(Slot, Row)> {
        let Some(deltas) = &mut self.deltas else {
            return Vec::new();
        };
        let mut taken = Vec::new();
        for (slot, row) in deltas.iter_mut().enumerate() {
            if !row.is_empty() {
                let fresh = Row::new(row.route, row.pattern.clone());
                taken.push((slot, core::mem::replace(row, fresh)));
            }
        }
        taken
    }

    /// Puts back deltas `take_deltas` gave (a report that was not sent):
    /// they are part of the next one.
    pub fn restore_deltas(&mut self, taken: Vec<(Slot, Row)>) {
        let Some(deltas) = &mut self.deltas else {
            return;
        };
        for (slot, row) in taken {
            if let Some(mine) = deltas.get_mut(slot) {
                mine.merge(&row);
            }
        }
    }

    /// Applies `change` to row `slot` and to its delta. A slot no row has
    /// (a fleet report's own fetch, `NO_SLOT`) counts nowhere.
    fn count(&mut self, slot: Slot, change: impl Fn(&mut Row)) {
        if let Some(row) = self.rows.get_mut(slot) {
            change(row);
        }
        if let Some(delta) = self.deltas.as_mut().and_then(|d| d.get_mut(slot)) {
            change(delta);
        }
    }

    /// The row of a request on `route` to `path`.
    pub fn slot(&mut self, route: Route, path: &str) -> Slot {
        let path = path_of(path);
        let known = &mut self.own_class[route as usize];
        if let Some(&slot) = known.get(path) {
            return slot as Slot;
        }
        let mut class = self.config.classes.classify(path);
        if let Some(slot) = self.find(route, &class) {
            self.remember(route, path, &class, slot);
            return slot;
        }
        let named = self.rows.iter().filter(|r| r.pattern != OTHER).count();
        if named >= self.config.max_patterns {
            self.folded += 1;
            class = OTHER.to_owned();
            if let Some(slot) = self.find(route, &class) {
                return slot;
            }
        }
        let slot = self.rows.len();
        self.index.insert(index_key(route, &class), slot as u32);
        self.remember(route, path, &class, slot);
        if let Some(deltas) = &mut self.deltas {
            deltas.push(Row::new(route, class.clone()));
        }
        self.rows.push(Row::new(route, class));
        slot
    }

    /// Remembers `path`'s row when it is its own class (a folded one is
    /// looked up again: `folded` counts each).
    fn remember(&mut self, route: Route, path: &str, class: &str, slot: Slot) {
        if class != path {
            return;
        }
        let known = &mut self.own_class[route as usize];
        if known.len() >= MAX_OWN_CLASS {
            known.clear();
        }
        known.insert(path.to_owned(), slot as u32);
    }

    fn find(&self, route: Route, class: &str) -> Option<Slot> {
        let slot = self.index.get(&index_key(route, class))?;
        Some(*slot as Slot)
    }

    /// The pattern of row `slot` (None for `NO_SLOT`).
    pub fn pattern(&self, slot: Slot) -> Option<&str> {
        self.rows.get(slot).map(|r| r.pattern.as_str())
    }

    /// A caller starts waiting for the network.
    pub fn begin(&mut self, slot: Slot) {
        if let Some(row) = self.rows.get_mut(slot) {
            row.in_flight += 1;
        }
    }

    /// A caller that `begin` counted is settled after `elapsed_ms`.
    pub fn end(&mut self, slot: Slot, elapsed_ms: f64, outcome: Outcome) {
        self.count(slot, |row| {
            row.in_flight = row.in_flight.saturating_sub(1);
            row.requests += 1;
            row.latency.record(elapsed_ms);
            if let Outcome::Failed(kind) = outcome {
                row.add_error(kind, 1);
            }
        });
    }

    /// A request cancelled before it started (an aborted signal).
    pub fn cancelled_before_start(&mut self, slot: Slot) {
        self.count(slot, |row| {
            row.requests += 1;
            row.add_error(ErrorKind::Cancelled, 1);
        });
    }

    /// A caller is served from the cache.
    pub fn hit(&mut self, slot: Slot) {
        self.count(slot, |row| {
            row.requests += 1;
            row.cache_hits += 1;
        });
    }

    /// A stale entry was revalidated (a `304`).
    pub fn revalidated(&mut self, slot: Slot) {
        self.count(slot, |row| row.revalidated += 1);
    }

    /// A fetch waits to retry.
    pub fn retried(&mut self, slot: Slot) {
        self.count(slot, |row| row.retries += 1);
    }

    /// Clears every figure except requests in flight (they are still coming).
    pub fn reset(&mut self) {
        for row in &mut self.rows {
            let in_flight = row.in_flight;
            *row = Row::new(row.route, core::mem::take(&mut row.pattern));
            row.in_flight = in_flight;
        }
        self.folded = 0;
    }

    /// Rows with something to show, busiest first, and their total.
    pub fn rows(&self) -> (Vec<&Row>, Row) {
        let mut rows: Vec<&Row> = self.rows.iter().filter(|r| !r.is_empty()).collect();
        sort_by(&mut rows, |a, b| {
            (b.requests, &a.pattern, a.route.as_str()) < (a.requests, &b.pattern, b.route.as_str())
        });
        let mut total = Row::new(Route::Cloud, "*".to_owned());
        for row in &rows {
            total.merge(row);
        }
        (rows, total)
    }

    /// Classes folded into `(other)` since the last reset (an upper bound).
    pub fn folded(&self) -> u64 {
        self.folded
    }

    /// A request whose row `slot` found by folding its class is counted
    /// again without looking its row up (a request by handle): as `slot`
    /// would count it.
    pub fn fold_again(&mut self) {
        self.folded += 1;
    }
}

fn index_key(route: Route, class: &str) -> String {
    let mut key = String::with_capacity(class.len() + 6);
    key.push_str(route.as_str());
    key.push(' ');
    key.push_str(class);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(max_patterns: usize) -> Stats {
        Stats::new(StatsConfig {
            max_patterns,
            ..StatsConfig::default()
        })
    }

    #[test]
    fn a_request_is_counted_once_with_its_latency_and_outcome() {
        let mut s = stats(8);
        let slot = s.slot(Route::Cloud, "/api/order/1");
        assert_eq!(
            s.slot(Route::Cloud, "/api/order/2?x=1"),
            slot,
            "one row per class"
        );
        s.begin(slot);
        assert_eq!(s.rows().0[0].in_flight, 1);
        s.end(slot, 40.0, Outcome::Ok);
        s.begin(slot);
        s.retried(slot);
        s.end(slot, 400.0, Outcome::Failed(ErrorKind::Service));
        s.hit(slot);
        let (rows, total) = s.rows();
        let row = rows[0];
        assert_eq!(
            (row.route, row.pattern.as_str()),
            (Route::Cloud, "/api/order/:id")
        );
        assert_eq!(
            (
                row.requests,
                row.failed(),
                row.retries,
                row.cache_hits,
                row.in_flight
            ),
            (3, 1, 1, 1, 0)
        );
        assert_eq!(row.errors, vec![(ErrorKind::Service, 1)]);
        assert_eq!(row.latency.count(), 2, "cache hits carry no latency");
        assert!((row.hit_ratio() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(total.requests, 3);
    }

    #[test]
    fn routes_are_separate_rows_and_the_total_merges_them() {
        let mut s = stats(8);
        let cloud = s.slot(Route::Cloud, "/api/home/init");
        let http = s.slot(Route::Http, "/api/home/init");
        assert_ne!(cloud, http);
        s.begin(cloud);
        s.end(cloud, 10.0, Outcome::Ok);
        s.begin(http);
        s.end(http, 1000.0, Outcome::Failed(ErrorKind::Timeout));
        let (rows, total) = s.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(total.requests, 2);
        assert_eq!(total.latency.max_ms(), 1000.0);
        assert_eq!(total.errors, vec![(ErrorKind::Timeout, 1)]);
    }

    #[test]
    fn remembered_paths_get_the_rows_classification_gives() {
        let mut fresh = stats(4);
        let mut s = stats(4);
        let paths = [
            "/api/home/init",
            "/api/order/7?x=1",
            "/api/home/init?y=2",
            "/a",
            "/b",
            "/c",
            "/d",
            "/api/home/init",
            "/d",
            "/api/order/8",
        ];
        for _ in 0..3 {
            for (i, path) in paths.iter().enumerate() {
                let route = [Route::Cloud, Route::Http][i % 2];
                let slot = s.slot(route, path);
                assert_eq!(s.rows[slot].route, route);
                let expected = fresh.slot(route, path);
                assert_eq!(s.rows[slot].pattern, fresh.rows[expected].pattern, "{path}");
            }
        }
        // Past the table's size, further classes fold into (other), each lookup counted.
        let folded = s.folded();
        s.slot(Route::Cloud, "/e");
        s.slot(Route::Cloud, "/e");
        assert_eq!(s.folded(), folded + 2, "a folded path is not remembered");
        // The memory of paths is bounded too.
        for i in 0..(3 * MAX_OWN_CLASS) {
            s.slot(Route::Mock, &format!("/p{i}"));
        }
        assert!(s.own_class[Route::Mock as usize].len() <= MAX_OWN_CLASS);
    }

    #[test]
    fn memory_is_bounded_whatever_the_number_of_distinct_paths() {
        let mut s = stats(3);
        for i in 0..10_000 {
            let slot = s.slot(Route::Http, &format!("/api/thing{i}/list"));
            s.begin(slot);
            s.end(slot, 1.0, Outcome::Ok);
        }
        let (rows, total) = s.rows();
        assert_eq!(rows.len(), 4, "three classes and (other)");
        assert_eq!(rows[0].pattern, OTHER);
        assert_eq!(rows[0].requests, 10_000 - 3);
        assert_eq!(total.requests, 10_000);
        assert!(s.folded() >= 1);
    }

    #[test]
    fn reset_clears_figures_but_keeps_requests_in_flight() {
        let mut s = stats(8);
        let slot = s.slot(Route::Mock, "/api/test");
        s.begin(slot);
        s.begin(slot);
        s.end(slot, 5.0, Outcome::Ok);
        s.reset();
        let (rows, _) = s.rows();
        assert_eq!(
            (rows[0].requests, rows[0].in_flight, rows[0].latency.count()),
            (0, 1, 0)
        );
        s.end(slot, 5.0, Outcome::Ok);
        assert_eq!(s.rows().0[0].requests, 1);
        assert_eq!(s.rows().0[0].in_flight, 0);
    }

    #[test]
    fn deltas_count_what_rows_gained_since_they_were_taken() {
        let mut s = stats(8);
        let before = s.slot(Route::Cloud, "/api/a");
        s.begin(before);
        s.end(before, 5.0, Outcome::Ok);
        s.keep_deltas();
        assert!(
            s.take_deltas().is_empty(),
            "only what comes after keep_deltas"
        );
        let later = s.slot(Route::Http, "/api/b");
        for slot in [before, later] {
            s.begin(slot);
            s.retried(slot);
            s.end(slot, 50.0, Outcome::Failed(ErrorKind::Timeout));
        }
        s.hit(later);
        s.cancelled_before_start(later);
        // The app's resetStats is its own view: deltas keep counting.
        s.reset();
        let taken = s.take_deltas();
        assert_eq!(taken.len(), 2);
        let (slot, row) = &taken[1];
        assert_eq!(*slot, later);
        assert_eq!(
            (row.requests, row.retries, row.cache_hits, row.failed()),
            (3, 1, 1, 2)
        );
        assert_eq!(row.latency.count(), 1);
        assert!(s.take_deltas().is_empty(), "taken deltas start over");
        // A report not sent is put back and merged with what came since.
        s.hit(before);
        s.restore_deltas(taken);
        let again = s.take_deltas();
        assert_eq!(again[0].1.requests, 2);
        assert_eq!(again[1].1.requests, 3);
        // What has no slot counts nowhere.
        s.retried(NO_SLOT);
        s.end(NO_SLOT, 1.0, Outcome::Ok);
        assert!(s.take_deltas().is_empty());
    }

    #[test]
    fn bad_max_patterns_is_named() {
        for bad in [0.0, 1.5, 5000.0] {
            let err = StatsConfig::parse(&[], Some(bad)).unwrap_err();
            assert!(err.to_string().starts_with("`stats.maxPatterns`"), "{err}");
        }
    }
}
