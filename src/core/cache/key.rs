//! Cache keys: one canonical string per (user scope, route, method, path,
//! sorted query, canonical data, sorted headers). The engine keys a GET or
//! HEAD by its target, whose query holds its data: no data part then.
//!
//! Query parameters and header names are order-independent (`?b=2&a=1` is
//! `?a=1&b=2`; header names compare case-insensitively), and so are the keys
//! of `data` objects. Every part is length-prefixed, so no value can be
//! mistaken for a separator.

use crate::core::request::Method;
use crate::core::route::Route;
use crate::core::sort::sort;
use crate::core::text::join;
use crate::prelude::*;

use super::json::canonical;

/// What a cache key is made of.
#[derive(Clone, Copy, Debug)]
pub struct KeyParts<'a> {
    /// The user partition ("" when anonymous).
    pub scope: &'a str,
    /// The route the request takes.
    pub route: Route,
    /// The method.
    pub method: Method,
    /// Path with its query string.
    pub path: &'a str,
    /// `JSON.stringify(data)`, if there was data.
    pub data_json: Option<&'a str>,
    /// Request headers.
    pub headers: &'a [(String, String)],
}

/// The canonical key, or None when the data cannot be canonicalised.
pub fn cache_key(parts: KeyParts<'_>) -> Option<String> {
    let (path, query) = parts.path.split_once('?').unwrap_or((parts.path, ""));
    let data = match parts.data_json {
        Some(json) => canonical(json)?,
        None => String::new(),
    };
    let headers = canonical_headers(parts.headers);
    let mut key = String::with_capacity(path.len() + query.len() + data.len() + 32);
    for part in [
        parts.scope,
        parts.route.as_str(),
        parts.method.as_str(),
        path,
    ] {
        push_part(&mut key, part);
    }
    if query.is_empty() {
        push_part(&mut key, "");
    } else {
        let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        // Sorted when every name is different. A repeated name keeps the query
        // as given: the server may take its first or last value, so `?a=1&a=2`
        // is not `?a=2&a=1`. (One sort of `&str` for both: no second instance.)
        if params.len() > 1 {
            let mut names: Vec<&str> = params
                .iter()
                .map(|p| p.split_once('=').map_or(*p, |(name, _)| name))
                .collect();
            sort(&mut names);
            if !names.windows(2).any(|pair| pair[0] == pair[1]) {
                sort(&mut params);
            }
        }
        push_part(&mut key, &join(params.iter().copied(), "&"));
    }
    push_part(&mut key, &data);
    for (name, value) in headers {
        push_part(&mut key, &name);
        push_part(&mut key, value);
    }
    Some(key)
}

/// Header names lower-cased, sorted by name then value: the same headers in
/// any order and case are the same (cache keys, socket keys).
pub(crate) fn canonical_headers(headers: &[(String, String)]) -> Vec<(String, &str)> {
    let mut named: Vec<(String, &str)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
        .collect();
    sort(&mut named);
    named
}

/// The path of a key, without query (for prefix invalidation).
pub fn path_of(path_with_query: &str) -> &str {
    path_with_query.split('?').next().unwrap_or_default()
}

/// `len:part`, the length written without allocating (this runs for every
/// part of every key).
pub(crate) fn push_part(key: &mut String, part: &str) {
    push_decimal(key, part.len());
    key.push(':');
    key.push_str(part);
}

/// `n` in decimal, without the formatting machinery or an allocation.
pub(crate) fn push_decimal(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in &digits[at..] {
        out.push(char::from(*d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(scope: &str, path: &str, data: Option<&str>, headers: &[(&str, &str)]) -> String {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).into(), (*v).into()))
            .collect();
        cache_key(KeyParts {
            scope,
            route: Route::Cloud,
            method: Method::Get,
            path,
            data_json: data,
            headers: &headers,
        })
        .unwrap()
    }

    #[test]
    fn order_of_data_keys_query_and_headers_does_not_matter() {
        assert_eq!(
            key("", "/x", Some(r#"{"a":1,"b":2}"#), &[]),
            key("", "/x", Some(r#"{"b":2,"a":1}"#), &[])
        );
        assert_eq!(
            key("", "/x?b=2&a=1", None, &[]),
            key("", "/x?a=1&b=2", None, &[])
        );
        assert_ne!(
            key("", "/x?a=2&b=1&a=1", None, &[]),
            key("", "/x?b=1&a=2&a=1", None, &[]),
            "a repeated name: the query as given"
        );
        assert_ne!(
            key("", "/x?a=1&a=2", None, &[]),
            key("", "/x?a=2&a=1", None, &[])
        );
        assert_eq!(
            key("", "/x", None, &[("X-A", "1"), ("accept", "json")]),
            key("", "/x", None, &[("Accept", "json"), ("x-a", "1")])
        );
    }

    #[test]
    fn everything_else_tells_keys_apart() {
        let base = key("u1", "/x", Some(r#"{"a":1}"#), &[]);
        for other in [
            key("u2", "/x", Some(r#"{"a":1}"#), &[]),
            key("u1", "/y", Some(r#"{"a":1}"#), &[]),
            key("u1", "/x", Some(r#"{"a":2}"#), &[]),
            key("u1", "/x", Some(r#"{"a":"1"}"#), &[]),
            key("u1", "/x?a=1", None, &[]),
            key("u1", "/x", Some(r#"{"a":1}"#), &[("Authorization", "t")]),
        ] {
            assert_ne!(base, other);
        }
        let cloud = base.clone();
        let mock = cache_key(KeyParts {
            scope: "u1",
            route: Route::Mock,
            method: Method::Get,
            path: "/x",
            data_json: Some(r#"{"a":1}"#),
            headers: &[],
        })
        .unwrap();
        assert_ne!(cloud, mock, "mock data is never served to a cloud request");
    }

    #[test]
    fn separators_cannot_be_forged() {
        assert_ne!(key("a", "/b", None, &[]), key("a4:/b", "/", None, &[]));
    }
}
