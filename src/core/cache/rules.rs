//! What is cached, for how long, and what a mutation invalidates.
//!
//! Only successful GET responses are cached, and only with a TTL: the
//! request's own (`cache: { ttlMs }`) or that of the most specific client rule
//! matching its path (`cache.rules`). Requests carrying `Authorization` or
//! `Cookie` are not cached unless marked `private`, and then only while a user
//! is known (in that user's partition). Identical GETs in flight share one
//! call unless the request says `cache: false`.

use crate::core::error::RequestError;
use crate::core::pattern::Pattern;
use crate::core::request::{whole_or, Method};
use crate::prelude::*;

use super::store::Limits;

/// The longest TTL or stale window: 30 days.
pub const MAX_TTL_MS: u32 = 30 * 24 * 3600 * 1000;

/// A client rule: paths matching `pattern` are cached for `ttl_ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheRule {
    pattern: Pattern,
    /// TTL.
    pub ttl_ms: u32,
    /// Stale window after the TTL.
    pub stale_ms: u32,
    /// Tags given to stored entries.
    pub tags: Vec<String>,
}

/// After a successful mutation (non-GET) matching `pattern`: drop the
/// entries under `prefixes` and those tagged with `tags`.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalidation {
    method: Option<Method>,
    pattern: Pattern,
    /// Path prefixes to drop.
    pub prefixes: Vec<String>,
    /// Tags to drop.
    pub tags: Vec<String>,
}

/// The client's cache configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheConfig {
    /// Entry and byte limits.
    pub limits: Limits,
    /// TTL rules by path.
    pub rules: Vec<CacheRule>,
    /// What mutations invalidate.
    pub invalidations: Vec<Invalidation>,
    /// Restore from and save to storage.
    pub persist: bool,
    /// At most this many bytes are persisted.
    pub persist_max_bytes: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            limits: Limits::DEFAULT,
            rules: Vec::new(),
            invalidations: Vec::new(),
            persist: false,
            persist_max_bytes: 512 * 1024,
        }
    }
}

/// One `cache.rules` item as given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawRule {
    /// `path`
    pub path: String,
    /// `ttlMs`
    pub ttl_ms: Option<f64>,
    /// `staleMs`
    pub stale_ms: Option<f64>,
    /// `tags`
    pub tags: Vec<String>,
}

/// One `cache.invalidations` item as given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawInvalidation {
    /// `method`
    pub method: Option<String>,
    /// `path`
    pub path: String,
    /// `prefixes`
    pub prefixes: Vec<String>,
    /// `tags`
    pub tags: Vec<String>,
}

/// `cache` on the client, as given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawCacheConfig {
    /// `maxEntries`
    pub max_entries: Option<f64>,
    /// `maxBytes`
    pub max_bytes: Option<f64>,
    /// `rules`
    pub rules: Vec<RawRule>,
    /// `invalidations`
    pub invalidations: Vec<RawInvalidation>,
    /// `persist`
    pub persist: Option<bool>,
    /// `persistMaxBytes`
    pub persist_max_bytes: Option<f64>,
}

fn tags(
    field: impl Into<alloc::borrow::Cow<'static, str>>,
    tags: Vec<String>,
) -> Result<Vec<String>, RequestError> {
    if tags.iter().any(|t| t.is_empty()) || tags.len() > 16 {
        return Err(RequestError::invalid(
            field,
            "must be at most 16 non-empty strings",
        ));
    }
    Ok(tags)
}

impl RawCacheConfig {
    /// Checks every field.
    pub fn validate(self) -> Result<CacheConfig, RequestError> {
        let d = CacheConfig::default();
        let limits = Limits {
            max_entries: whole_or(
                "cache.maxEntries",
                self.max_entries,
                0,
                100_000,
                d.limits.max_entries as u32,
            )? as usize,
            max_bytes: whole_or(
                "cache.maxBytes",
                self.max_bytes,
                0,
                64 << 20,
                d.limits.max_bytes as u32,
            )? as usize,
        };
        let mut rules = Vec::with_capacity(self.rules.len());
        for (i, r) in self.rules.into_iter().enumerate() {
            let f = |name: &str| format!("cache.rules[{i}].{name}");
            if r.ttl_ms.is_none() {
                return Err(RequestError::invalid(f("ttlMs"), "is required"));
            }
            rules.push(CacheRule {
                pattern: Pattern::parse(&f("path"), &r.path)?,
                ttl_ms: whole_or(f("ttlMs"), r.ttl_ms, 1, MAX_TTL_MS, 0)?,
                stale_ms: whole_or(f("staleMs"), r.stale_ms, 0, MAX_TTL_MS, 0)?,
                tags: tags(f("tags"), r.tags)?,
            });
        }
        let mut invalidations = Vec::with_capacity(self.invalidations.len());
        for (i, r) in self.invalidations.into_iter().enumerate() {
            let f = |name: &str| format!("cache.invalidations[{i}].{name}");
            let method = r
                .method
                .as_deref()
                .map(Method::parse)
                .transpose()
                .map_err(|_| {
                    RequestError::invalid(f("method"), "must be POST, PUT, DELETE, PATCH, ...")
                })?;
            if r.prefixes.iter().any(|p| !p.starts_with('/')) {
                return Err(RequestError::invalid(
                    f("prefixes"),
                    "must be paths starting with '/'",
                ));
            }
            if r.prefixes.is_empty() && r.tags.is_empty() {
                return Err(RequestError::invalid(
                    f("prefixes"),
                    "or `tags` must name what to invalidate",
                ));
            }
            invalidations.push(Invalidation {
                method,
                pattern: Pattern::parse(&f("path"), &r.path)?,
                prefixes: r.prefixes,
                tags: tags(f("tags"), r.tags)?,
            });
        }
        Ok(CacheConfig {
            limits,
            rules,
            invalidations,
            persist: self.persist.unwrap_or(false),
            // wx storage holds at most 1 MB per key.
            persist_max_bytes: whole_or(
                "cache.persistMaxBytes",
                self.persist_max_bytes,
                0,
                1_000_000,
                d.persist_max_bytes as u32,
            )? as usize,
        })
    }
}

/// `cache` on a request, as given.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RawRequestCache {
    /// Not given: the client's rules decide.
    #[default]
    Default,
    /// `cache: false`: no lookup, no store, no sharing.
    Off,
    /// `cache: 'reload'` or an object.
    Options {
        /// `ttlMs`
        ttl_ms: Option<f64>,
        /// `staleMs`
        stale_ms: Option<f64>,
        /// `tags`
        tags: Vec<String>,
        /// `private`
        private: bool,
        /// `reload` (or the string 'reload')
        reload: bool,
    },
}

/// How a request uses the cache.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CachePlan {
    /// Serve from the cache when it holds the key.
    pub lookup: bool,
    /// Store a successful response, with this policy.
    pub store: Option<StorePolicy>,
    /// Join an identical call in flight.
    pub share: bool,
    /// Why, in a few words (for `explain`).
    pub why: &'static str,
}

/// How long a stored response lives.
#[derive(Clone, Debug, PartialEq)]
pub struct StorePolicy {
    /// TTL.
    pub ttl_ms: u32,
    /// Stale window after it.
    pub stale_ms: u32,
    /// Tags.
    pub tags: Vec<String>,
}

impl CacheConfig {
    /// Decides how a request uses the cache. `user_known`: a user partition is set.
    pub fn plan(
        &self,
        method: Method,
        path: &str,
        headers: &[(String, String)],
        request: RawRequestCache,
        user_known: bool,
    ) -> Result<CachePlan, RequestError> {
        if method != Method::Get {
            return Ok(CachePlan {
                why: "not cached: only GET is",
                ..CachePlan::default()
            });
        }
        let (ttl, stale, mut tags_given, private, reload) = match request {
            RawRequestCache::Off => {
                return Ok(CachePlan {
                    why: "cache: false",
                    ..CachePlan::default()
                })
            }
            RawRequestCache::Default => (None, None, Vec::new(), false, false),
            RawRequestCache::Options {
                ttl_ms,
                stale_ms,
                tags: given,
                private,
                reload,
            } => (
                ttl_ms
                    .map(|t| whole_or("cache.ttlMs", Some(t), 1, MAX_TTL_MS, 0))
                    .transpose()?,
                stale_ms
                    .map(|s| whole_or("cache.staleMs", Some(s), 0, MAX_TTL_MS, 0))
                    .transpose()?,
                tags("cache.tags", given)?,
                private,
                reload,
            ),
        };
        let shared_only = |why| CachePlan {
            lookup: false,
            store: None,
            share: true,
            why,
        };
        let credentials = headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("cookie")
        });
        if credentials && !private {
            return Ok(shared_only(
                "not cached: it carries Authorization or Cookie (cache: { private: true } caches it per user)",
            ));
        }
        if private && !user_known {
            return Ok(shared_only("not cached: private, and no user is known yet"));
        }
        let rule = self
            .rules
            .iter()
            .filter(|r| r.pattern.matches(path))
            .max_by_key(|r| r.pattern.specificity());
        let Some(ttl_ms) = ttl.or(rule.map(|r| r.ttl_ms)) else {
            return Ok(shared_only("not cached: no cache rule covers this path"));
        };
        let why = match (reload, ttl) {
            (true, _) => "reload: fetched again, then stored",
            (false, Some(_)) => "cached: the request gives ttlMs",
            (false, None) => "cached: a cache rule covers this path",
        };
        if let Some(rule) = rule {
            tags_given.extend(rule.tags.iter().cloned());
        }
        Ok(CachePlan {
            lookup: !reload,
            store: Some(StorePolicy {
                ttl_ms,
                stale_ms: stale.or(rule.map(|r| r.stale_ms)).unwrap_or(0),
                tags: tags_given,
            }),
            share: true,
            why,
        })
    }

    /// What a successful mutation of `path` with `method` invalidates besides
    /// its own path: (path prefixes, tags).
    pub fn invalidated_by(&self, method: Method, path: &str) -> (Vec<String>, Vec<String>) {
        let mut prefixes = Vec::new();
        let mut tags = Vec::new();
        for inv in &self.invalidations {
            if inv.method.is_none_or(|m| m == method) && inv.pattern.matches(path) {
                prefixes.extend(inv.prefixes.iter().cloned());
                tags.extend(inv.tags.iter().cloned());
            }
        }
        (prefixes, tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CacheConfig {
        RawCacheConfig {
            rules: vec![
                RawRule {
                    path: "/api/home/*".into(),
                    ttl_ms: Some(30_000.0),
                    stale_ms: Some(60_000.0),
                    tags: vec!["home".into()],
                },
                RawRule {
                    path: "/api/home/init".into(),
                    ttl_ms: Some(5_000.0),
                    ..RawRule::default()
                },
            ],
            invalidations: vec![RawInvalidation {
                method: Some("POST".into()),
                path: "/api/order/*".into(),
                prefixes: vec!["/api/order/list".into()],
                tags: vec!["orders".into()],
            }],
            ..RawCacheConfig::default()
        }
        .validate()
        .unwrap()
    }

    fn plan(
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        req: RawRequestCache,
    ) -> CachePlan {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).into(), (*v).into()))
            .collect();
        config().plan(method, path, &headers, req, true).unwrap()
    }

    fn ttl(ms: f64) -> RawRequestCache {
        RawRequestCache::Options {
            ttl_ms: Some(ms),
            stale_ms: None,
            tags: vec![],
            private: false,
            reload: false,
        }
    }

    #[test]
    fn only_gets_with_a_ttl_are_cached() {
        let post = plan(Method::Post, "/api/home/x", &[], ttl(1000.0));
        assert_eq!((post.lookup, post.store, post.share), (false, None, false));
        assert_eq!(post.why, "not cached: only GET is");
        let none = plan(Method::Get, "/api/other", &[], RawRequestCache::Default);
        assert_eq!(
            (none.lookup, none.store.is_some(), none.share),
            (false, false, true)
        );
        let own = plan(Method::Get, "/api/other", &[], ttl(1000.0));
        assert_eq!(own.store.unwrap().ttl_ms, 1000);
        let off = plan(Method::Get, "/api/home/x", &[], RawRequestCache::Off);
        assert_eq!(
            (off.lookup, off.store, off.share, off.why),
            (false, None, false, "cache: false"),
            "cache: false also opts out of sharing"
        );
    }

    #[test]
    fn the_most_specific_rule_gives_the_ttl() {
        let p = plan(Method::Get, "/api/home/init", &[], RawRequestCache::Default);
        assert_eq!(p.store.unwrap().ttl_ms, 5000);
        let p = plan(
            Method::Get,
            "/api/home/banner",
            &[],
            RawRequestCache::Default,
        );
        let store = p.store.unwrap();
        assert_eq!(
            (store.ttl_ms, store.stale_ms, store.tags),
            (30_000, 60_000, vec!["home".to_string()])
        );
    }

    #[test]
    fn credentials_need_private_and_a_user() {
        let p = plan(
            Method::Get,
            "/api/home/x",
            &[("Authorization", "Bearer t")],
            RawRequestCache::Default,
        );
        assert!(p.store.is_none() && !p.lookup && p.share);
        let private = RawRequestCache::Options {
            ttl_ms: None,
            stale_ms: None,
            tags: vec![],
            private: true,
            reload: false,
        };
        let p = plan(
            Method::Get,
            "/api/home/x",
            &[("Cookie", "s=1")],
            private.clone(),
        );
        assert!(p.store.is_some() && p.lookup);
        let anonymous = config()
            .plan(Method::Get, "/api/home/x", &[], private, false)
            .unwrap();
        assert!(
            anonymous.store.is_none(),
            "private without a user: never cached"
        );
    }

    #[test]
    fn reload_refetches_and_stores() {
        let reload = RawRequestCache::Options {
            ttl_ms: None,
            stale_ms: None,
            tags: vec![],
            private: false,
            reload: true,
        };
        let p = plan(Method::Get, "/api/home/x", &[], reload);
        assert!(!p.lookup && p.store.is_some());
    }

    #[test]
    fn mutations_invalidate_configured_prefixes_and_tags() {
        let (prefixes, tags) = config().invalidated_by(Method::Post, "/api/order/create?x=1");
        assert_eq!(prefixes, ["/api/order/list"]);
        assert_eq!(tags, ["orders"]);
        let (prefixes, tags) = config().invalidated_by(Method::Put, "/api/order/7");
        assert!(
            prefixes.is_empty() && tags.is_empty(),
            "the rule names POST only"
        );
    }

    #[test]
    fn bad_rules_are_named() {
        let bad = RawCacheConfig {
            rules: vec![RawRule {
                path: "/x".into(),
                ttl_ms: None,
                ..RawRule::default()
            }],
            ..RawCacheConfig::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("`cache.rules[0].ttlMs`"));
        let bad = RawCacheConfig {
            max_bytes: Some(-1.0),
            ..RawCacheConfig::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("`cache.maxBytes`"));
        let bad = RawCacheConfig {
            invalidations: vec![RawInvalidation {
                path: "/x".into(),
                ..RawInvalidation::default()
            }],
            ..RawCacheConfig::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`tags` must name"));
    }
}
