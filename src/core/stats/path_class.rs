//! Which row a request's path is counted in: the most specific configured
//! pattern it matches, else the path with id-like segments written `:id`
//! (`/api/order/42` → `/api/order/:id`), so one row stands for one endpoint.

use crate::core::cache::key::path_of;
use crate::core::error::RequestError;
use crate::core::pattern::Pattern;
use crate::prelude::*;

/// Longest pattern text kept for a row.
pub const MAX_PATTERN_CHARS: usize = 96;

/// The configured patterns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PathClasses {
    patterns: Vec<(Pattern, String)>,
}

impl PathClasses {
    /// Parses `stats.patterns`.
    pub fn parse(patterns: &[String]) -> Result<PathClasses, RequestError> {
        let mut parsed = Vec::with_capacity(patterns.len());
        for (i, text) in patterns.iter().enumerate() {
            let pattern = Pattern::parse(&format!("stats.patterns[{i}]"), text)?;
            parsed.push((pattern, text.clone()));
        }
        Ok(PathClasses { patterns: parsed })
    }

    /// The row name of `path` (query string ignored).
    pub fn classify(&self, path: &str) -> String {
        let path = path_of(path);
        let best = self
            .patterns
            .iter()
            .filter(|(pattern, _)| pattern.matches(path))
            .max_by_key(|(pattern, _)| pattern.specificity());
        if let Some((_, text)) = best {
            return text.clone();
        }
        let mut class = String::with_capacity(path.len().min(MAX_PATTERN_CHARS));
        for (i, segment) in path.split('/').enumerate() {
            if i > 0 {
                class.push('/');
            }
            class.push_str(if id_like(segment) { ":id" } else { segment });
            if class.len() > MAX_PATTERN_CHARS {
                let mut end = MAX_PATTERN_CHARS;
                while !class.is_char_boundary(end) {
                    end -= 1;
                }
                class.truncate(end);
                class.push('…');
                break;
            }
        }
        class
    }
}

/// A number, a UUID, a long hex string, or a long token with digits in it.
fn id_like(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    if digits == bytes.len() {
        return true;
    }
    let hex_or_dash = bytes.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-');
    if hex_or_dash && bytes.len() >= 16 && digits > 0 {
        return true;
    }
    let token = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-');
    token && bytes.len() >= 20 && digits > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(patterns: &[&str]) -> PathClasses {
        PathClasses::parse(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn ids_collapse_and_words_stay() {
        let c = classes(&[]);
        assert_eq!(c.classify("/api/order/42?page=2"), "/api/order/:id");
        assert_eq!(
            c.classify("/api/user/3f2a9c1e-8b7d-4e6f-a1b2-c3d4e5f60718/orders"),
            "/api/user/:id/orders"
        );
        assert_eq!(
            c.classify("/api/file/5f1d2e3c4b5a69788796a5b4"),
            "/api/file/:id"
        );
        assert_eq!(c.classify("/api/order/list"), "/api/order/list");
        assert_eq!(c.classify("/api/v2/home/init"), "/api/v2/home/init");
        assert_eq!(c.classify("/"), "/");
    }

    #[test]
    fn the_most_specific_configured_pattern_wins() {
        let c = classes(&["/api/*", "/api/order/:orderNo", "/api/order/list"]);
        assert_eq!(c.classify("/api/order/A-77"), "/api/order/:orderNo");
        assert_eq!(c.classify("/api/order/list"), "/api/order/list");
        assert_eq!(c.classify("/api/home/banner/3"), "/api/*");
        assert_eq!(
            c.classify("/other/7"),
            "/other/:id",
            "unmatched paths fall back"
        );
    }

    #[test]
    fn long_paths_are_cut() {
        let path = format!("/{}", "段".repeat(200));
        let class = classes(&[]).classify(&path);
        assert!(class.len() <= MAX_PATTERN_CHARS + '…'.len_utf8() && class.ends_with('…'));
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let err = PathClasses::parse(&["api".into()]).unwrap_err();
        assert!(err.to_string().starts_with("`stats.patterns[0]`"), "{err}");
    }
}
