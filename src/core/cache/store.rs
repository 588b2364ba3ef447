//! The result store: an LRU (the `lru` crate) with a TTL and a stale window
//! per entry, bounded by entry count and by bytes. Generic over the value, so
//! the wasm side keeps JS objects in it and tests keep strings.

use crate::prelude::*;
use lru::LruCache;

use crate::core::hash::FxBuild;

/// A value's estimated size in bytes for the byte budget. Asked only when
/// the value is stored: most responses never are, and weighing can cost as
/// much as the rest of a request (the wasm side measures JSON text).
pub trait Weigh {
    /// The estimated size in bytes.
    fn weigh(&self) -> usize;
}

/// Tests keep strings (their length) or nothing.
impl Weigh for String {
    fn weigh(&self) -> usize {
        self.len()
    }
}

impl Weigh for () {
    fn weigh(&self) -> usize {
        0
    }
}

/// One cached response.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<V> {
    /// The response as the shim will return it.
    pub value: V,
    /// Its estimated size in bytes (see [`Store::insert`]).
    pub size: usize,
    /// Path without query, for prefix invalidation.
    pub path: String,
    /// The user partition it belongs to.
    pub scope: String,
    /// Tags for `invalidate({ tag })`.
    pub tags: Vec<String>,
    /// Served as fresh before this instant (epoch ms).
    pub fresh_until: f64,
    /// Served as stale (with a background refresh) before this instant.
    pub stale_until: f64,
    /// Why the request that stored it took its route (its `routeReason`,
    /// which the stored response carries): a request by handle is answered
    /// from the entry only when its own reason is the same. Empty when
    /// restored from storage.
    pub reason: &'static str,
    /// What it can be revalidated with once stale (its ETag or Last-Modified).
    pub validator: Option<super::validator::Validator>,
    /// A `304 Not Modified` made it fresh again (for `explain`).
    pub revalidated: bool,
    /// The engine's fetch that stored it, or last confirmed it (a 304): what
    /// watchers that read it heard (0: restored from storage).
    pub fetch: u32,
}

/// What a lookup found.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup<V> {
    /// Within its TTL.
    Fresh(V),
    /// Expired but within its stale window: serve, and refresh in the background.
    Stale(V),
    /// Absent, or expired past its stale window (then removed).
    Miss,
}

/// Counters and sizes for `client.cacheStats()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries held.
    pub entries: usize,
    /// Their estimated bytes.
    pub bytes: usize,
    /// Fresh hits.
    pub hits: u64,
    /// Lookups that found nothing usable.
    pub misses: u64,
    /// Entries dropped to stay within the limits.
    pub evictions: u64,
    /// Stale values served while a refresh ran.
    pub stale_serves: u64,
    /// Stale entries a `304 Not Modified` made fresh again.
    pub revalidations: u64,
    /// Invalidations services pushed over sockets (counted by the engine).
    pub pushed_invalidations: u64,
    /// Frames of the library's ignored: another version, an unknown type
    /// (counted by the engine).
    pub ignored_frames: u64,
}

/// Limits of the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// At most this many entries.
    pub max_entries: usize,
    /// At most this many estimated bytes in all.
    pub max_bytes: usize,
}

impl Limits {
    /// 200 entries, 2 MB.
    pub const DEFAULT: Limits = Limits {
        max_entries: 200,
        max_bytes: 2 * 1024 * 1024,
    };
}

/// The store.
#[derive(Debug)]
pub struct Store<V> {
    lru: LruCache<String, Entry<V>, FxBuild>,
    limits: Limits,
    bytes: usize,
    stats: CacheStats,
}

impl<V: Clone> Store<V> {
    /// An empty store.
    pub fn new(limits: Limits) -> Self {
        Store {
            lru: LruCache::unbounded_with_hasher(FxBuild::default()),
            limits,
            bytes: 0,
            stats: CacheStats::default(),
        }
    }

    /// Looks `key` up at `now`, promoting what it finds to most recently used.
    pub fn lookup(&mut self, key: &str, now: f64) -> Lookup<V> {
        let found = match self.lru.get(key) {
            Some(e) if now < e.fresh_until => Lookup::Fresh(e.value.clone()),
            Some(e) if now < e.stale_until => Lookup::Stale(e.value.clone()),
            Some(_) => {
                self.remove(key);
                Lookup::Miss
            }
            None => Lookup::Miss,
        };
        match found {
            Lookup::Fresh(_) => self.stats.hits += 1,
            Lookup::Stale(_) => self.stats.stale_serves += 1,
            Lookup::Miss => self.stats.misses += 1,
        }
        found
    }

    /// The value if it is fresh at `now` and was stored for a request with
    /// this route `reason`, counted as a hit and promoted; otherwise None,
    /// counted as nothing (the caller goes on to `lookup`).
    pub fn fresh(&mut self, key: &str, now: f64, reason: &str) -> Option<V> {
        let value = self
            .lru
            .get(key)
            .filter(|e| now < e.fresh_until && same_text(e.reason, reason))
            .map(|e| e.value.clone())?;
        self.stats.hits += 1;
        Some(value)
    }

    /// Whether `key`'s entry was made fresh again by a `304`, without promoting it.
    pub fn was_revalidated(&self, key: &str) -> bool {
        self.lru.peek(key).is_some_and(|e| e.revalidated)
    }

    /// What `key`'s entry can be revalidated with, without promoting it.
    pub fn validator(&self, key: &str) -> Option<super::validator::Validator> {
        self.lru.peek(key).and_then(|e| e.validator.clone())
    }

    /// A `304 Not Modified` for `key`: its entry is fresh again until
    /// `fresh_until` (stale until `stale_until`), promoted, and its value
    /// returned; None when the entry is gone.
    pub fn revalidated(
        &mut self,
        key: &str,
        fresh_until: f64,
        stale_until: f64,
        fetch: u32,
    ) -> Option<V> {
        let entry = self.lru.get_mut(key)?;
        entry.fresh_until = fresh_until;
        entry.stale_until = stale_until;
        entry.revalidated = true;
        entry.fetch = fetch;
        let value = entry.value.clone();
        self.stats.revalidations += 1;
        Some(value)
    }

    /// `key`'s value if usable at `now`, and whether it is fresh; without
    /// promoting or counting it.
    pub fn peek(&self, key: &str, now: f64) -> Option<(V, bool)> {
        let e = self.lru.peek(key).filter(|e| now < e.stale_until)?;
        Some((e.value.clone(), now < e.fresh_until))
    }

    /// The fetch that stored `key`'s entry (0: none, or restored).
    pub fn stored_by(&self, key: &str) -> u32 {
        self.lru.peek(key).map_or(0, |e| e.fetch)
    }

    /// Whether `key` holds a value usable at `now` (fresh or stale), without promoting it.
    pub fn contains(&self, key: &str, now: f64) -> bool {
        self.lru.peek(key).is_some_and(|e| now < e.stale_until)
    }

    /// Stores `entry`, replacing what `key` held, then evicts least recently
    /// used entries until both limits hold. An entry larger than the whole
    /// byte budget is not stored. Returns how many entries were evicted.
    pub fn insert(&mut self, key: String, entry: Entry<V>) -> usize {
        self.remove(&key);
        if entry.size > self.limits.max_bytes || self.limits.max_entries == 0 {
            return 0;
        }
        self.bytes += entry.size;
        self.lru.push(key, entry);
        let mut evicted = 0;
        while self.bytes > self.limits.max_bytes || self.lru.len() > self.limits.max_entries {
            let Some((_, old)) = self.lru.pop_lru() else {
                break;
            };
            self.bytes -= old.size;
            evicted += 1;
        }
        self.stats.evictions += evicted as u64;
        evicted
    }

    /// Removes the entries `doomed` selects (by key and entry); returns how many.
    pub fn invalidate(&mut self, doomed: &dyn Fn(&str, &Entry<V>) -> bool) -> usize {
        let keys: Vec<String> = self
            .lru
            .iter()
            .filter(|(k, e)| doomed(k, e))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &keys {
            self.remove(key);
        }
        keys.len()
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.lru.clear();
        self.bytes = 0;
    }

    /// Entries from most to least recently used.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Entry<V>)> {
        self.lru.iter()
    }

    /// Current counters and sizes.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            entries: self.lru.len(),
            bytes: self.bytes,
            ..self.stats
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some(old) = self.lru.pop(key) {
            self.bytes -= old.size;
        }
    }
}

/// `a == b` for route reasons, which are static texts: the same literal is
/// the same pointer, so the bytes are compared only when the pointers differ.
fn same_text(a: &str, b: &str) -> bool {
    core::ptr::eq(a, b) || a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: usize, fresh: f64, stale: f64) -> Entry<&'static str> {
        Entry {
            value: "v",
            size,
            path: "/x".into(),
            scope: String::new(),
            tags: vec![],
            fresh_until: fresh,
            stale_until: stale,
            reason: "",
            validator: None,
            revalidated: false,
            fetch: 0,
        }
    }

    #[test]
    fn fresh_then_stale_then_gone() {
        let mut s = Store::new(Limits::DEFAULT);
        s.insert("k".into(), entry(10, 100.0, 150.0));
        assert_eq!(s.lookup("k", 99.0), Lookup::Fresh("v"));
        assert_eq!(s.lookup("k", 120.0), Lookup::Stale("v"));
        assert_eq!(s.lookup("k", 150.0), Lookup::Miss);
        assert_eq!(
            s.stats().entries,
            0,
            "expired past the stale window: dropped"
        );
        assert_eq!(
            (s.stats().hits, s.stats().stale_serves, s.stats().misses),
            (1, 1, 1)
        );
    }

    #[test]
    fn least_recently_used_goes_first_by_count_and_by_bytes() {
        let mut s = Store::new(Limits {
            max_entries: 2,
            max_bytes: 100,
        });
        s.insert("a".into(), entry(10, 1e9, 1e9));
        s.insert("b".into(), entry(10, 1e9, 1e9));
        s.lookup("a", 0.0);
        assert_eq!(s.insert("c".into(), entry(10, 1e9, 1e9)), 1);
        assert!(s.contains("a", 0.0) && !s.contains("b", 0.0));
        assert_eq!(s.insert("d".into(), entry(95, 1e9, 1e9)), 2);
        assert_eq!((s.stats().entries, s.stats().bytes), (1, 95));
        assert_eq!(s.insert("huge".into(), entry(101, 1e9, 1e9)), 0);
        assert!(
            !s.contains("huge", 0.0),
            "larger than the whole budget: not stored"
        );
    }

    #[test]
    fn replacing_a_key_keeps_the_byte_count_right() {
        let mut s = Store::new(Limits::DEFAULT);
        s.insert("k".into(), entry(10, 1.0, 1.0));
        s.insert("k".into(), entry(30, 1.0, 1.0));
        assert_eq!((s.stats().entries, s.stats().bytes), (1, 30));
    }

    #[test]
    fn invalidation_by_predicate() {
        let mut s = Store::new(Limits::DEFAULT);
        let mut tagged = entry(1, 1e9, 1e9);
        tagged.tags = vec!["orders".into()];
        s.insert("a".into(), tagged);
        s.insert("b".into(), entry(1, 1e9, 1e9));
        assert_eq!(
            s.invalidate(&|_, e| e.tags.iter().any(|t| t == "orders")),
            1
        );
        assert_eq!(s.stats().entries, 1);
        s.clear();
        assert_eq!(
            s.stats(),
            CacheStats {
                misses: 0,
                ..CacheStats::default()
            }
        );
    }
}
