//! Property tests of the cache store: under any sequence of inserts,
//! lookups, invalidations and time passing, the limits hold, the byte count
//! is exact, and nothing is served past its window.
#![cfg(not(target_arch = "wasm32"))]

use mp_request::core::cache::store::{Entry, Limits, Lookup, Store};
use proptest::prelude::*;
use std::collections::HashMap;

#[derive(Clone, Debug)]
enum Op {
    Insert {
        key: u8,
        size: usize,
        ttl: u16,
        stale: u16,
    },
    Lookup {
        key: u8,
    },
    Invalidate {
        path: u8,
    },
    Tick {
        ms: u16,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..20, 0usize..3000, 0u16..500, 0u16..500).prop_map(|(key, size, ttl, stale)| {
            Op::Insert {
                key,
                size,
                ttl,
                stale,
            }
        }),
        (0u8..20).prop_map(|key| Op::Lookup { key }),
        (0u8..4).prop_map(|path| Op::Invalidate { path }),
        (0u16..300).prop_map(|ms| Op::Tick { ms }),
    ]
}

proptest! {
    #[test]
    fn limits_hold_bytes_add_up_and_nothing_is_served_late(
        max_entries in 0usize..12,
        max_bytes in 0usize..10_000,
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        let mut store = Store::new(Limits { max_entries, max_bytes });
        // What each live key was stored with: (fresh_until, stale_until).
        let mut windows: HashMap<String, (f64, f64)> = HashMap::new();
        let mut now = 0.0;
        for op in ops {
            match op {
                Op::Insert { key, size, ttl, stale } => {
                    let key = format!("k{key}");
                    let fresh_until = now + f64::from(ttl);
                    let stale_until = fresh_until + f64::from(stale);
                    store.insert(key.clone(), Entry {
                        value: key.clone(),
                        size,
                        path: format!("/p{}", key.len() % 4),
                        scope: String::new(),
                        tags: vec![],
                        fresh_until,
                        stale_until,
                        reason: "",
                        validator: None,
                        revalidated: false,
                    fetch: 0,
                    });
                    windows.insert(key, (fresh_until, stale_until));
                }
                Op::Lookup { key } => {
                    let key = format!("k{key}");
                    match store.lookup(&key, now) {
                        Lookup::Fresh(v) => {
                            prop_assert_eq!(&v, &key);
                            prop_assert!(now < windows[&key].0, "served fresh after its TTL");
                        }
                        Lookup::Stale(_) => {
                            let (fresh, stale) = windows[&key];
                            prop_assert!(now >= fresh && now < stale, "stale outside its window");
                        }
                        Lookup::Miss => {}
                    }
                }
                Op::Invalidate { path } => {
                    let prefix = format!("/p{path}");
                    store.invalidate(&|_, e| e.path.starts_with(&prefix));
                    prop_assert!(store.iter().all(|(_, e)| !e.path.starts_with(&prefix)));
                }
                Op::Tick { ms } => now += f64::from(ms),
            }
            let stats = store.stats();
            prop_assert!(stats.entries <= max_entries, "{} entries > {}", stats.entries, max_entries);
            prop_assert!(stats.bytes <= max_bytes, "{} bytes > {}", stats.bytes, max_bytes);
            prop_assert_eq!(stats.bytes, store.iter().map(|(_, e)| e.size).sum::<usize>());
            prop_assert_eq!(stats.entries, store.iter().count());
        }
    }
}

/// A JSON value with objects as member lists, rendered in a chosen key order.
#[derive(Clone, Debug)]
enum Json {
    Num(i32),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(Json::Num),
        "[a-z\"\\\\]{0,4}".prop_map(Json::Str)
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Arr),
            proptest::collection::btree_map("[a-z]{1,3}", inner, 0..5)
                .prop_map(|m| Json::Obj(m.into_iter().collect())),
        ]
    })
}

fn render(value: &Json, reversed: bool) -> String {
    match value {
        Json::Num(n) => n.to_string(),
        Json::Str(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        Json::Arr(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| render(i, reversed))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Json::Obj(members) => {
            let mut members: Vec<&(String, Json)> = members.iter().collect();
            if reversed {
                members.reverse();
            }
            let body: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("\"{k}\":{}", render(v, reversed)))
                .collect();
            format!("{{{}}}", body.join(","))
        }
    }
}

proptest! {
    #[test]
    fn canonical_json_ignores_key_order_and_is_idempotent(value in json()) {
        use mp_request::core::cache::json::canonical;
        let sorted = canonical(&render(&value, false)).expect("valid JSON");
        let reversed = canonical(&render(&value, true)).expect("valid JSON");
        prop_assert_eq!(&sorted, &reversed);
        let again = canonical(&sorted);
        prop_assert_eq!(again.as_deref(), Some(sorted.as_str()));
        prop_assert_eq!(&sorted, &render(&value, false), "keys in sorted order come out as they went in");
    }
}
