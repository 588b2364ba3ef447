//! Revalidation (RFC 9110 §13): a cached response that carried an `ETag` (or,
//! without one, a `Last-Modified`) is refreshed with a conditional request
//! once stale, and a `304 Not Modified` keeps the stored body: nothing crosses
//! the wire or the wasm boundary but the headers.

use crate::prelude::*;

/// Longest validator kept (an ETag is a short opaque string).
pub const MAX_VALIDATOR_BYTES: usize = 256;

/// What a stored response can be revalidated with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Validator {
    /// Its `ETag`, strong or weak (`W/"…"`), as the server sent it.
    ETag(String),
    /// Its `Last-Modified` date, as the server sent it.
    LastModified(String),
}

impl Validator {
    /// The validator of a response with these headers: its ETag if it has a
    /// usable one, else its Last-Modified. A value too long or holding
    /// anything but visible ASCII and spaces is not one.
    pub fn of(etag: Option<&str>, last_modified: Option<&str>) -> Option<Validator> {
        let usable = |v: &&str| {
            !v.is_empty()
                && v.len() <= MAX_VALIDATOR_BYTES
                && v.bytes().all(|b| (b' '..=b'~').contains(&b))
        };
        match (etag.filter(usable), last_modified.filter(usable)) {
            (Some(tag), _) => Some(Validator::ETag(tag.to_owned())),
            (None, Some(date)) => Some(Validator::LastModified(date.to_owned())),
            (None, None) => None,
        }
    }

    /// The header a conditional request carries: `If-None-Match` or `If-Modified-Since`.
    pub fn header(&self) -> (&'static str, &str) {
        match self {
            Validator::ETag(tag) => ("If-None-Match", tag),
            Validator::LastModified(date) => ("If-Modified-Since", date),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_wins_over_a_date_and_odd_values_are_none() {
        assert_eq!(
            Validator::of(Some("W/\"v1\""), Some("Tue, 01 Dec 2026 10:00:00 GMT")),
            Some(Validator::ETag("W/\"v1\"".into()))
        );
        assert_eq!(
            Validator::of(None, Some("Tue, 01 Dec 2026 10:00:00 GMT")).map(|v| v.header().0),
            Some("If-Modified-Since")
        );
        for bad in ["", "\"a\r\nX: 1\"", "\"é\""] {
            assert_eq!(Validator::of(Some(bad), None), None, "{bad:?}");
        }
        assert_eq!(Validator::of(Some(&"x".repeat(300)), None), None);
        assert_eq!(
            Validator::of(Some("\"v2\""), None).map(|v| v.header().0),
            Some("If-None-Match")
        );
    }
}
