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

/// A row's pattern as it may leave the device (WeChat's realtime log, fleet
/// reports): every segment that is not a plain word written `:id` too. A
/// plain word is ASCII letters, digits, `-` and `_` (at most 32, with no run of
/// 5 digits), a pattern's `:name` or `*`; so an e-mail address, a phone
/// number, a name or encoded text in the path never does. `(other)` stays.
pub fn public_pattern(pattern: &str) -> String {
    if pattern == super::table::OTHER {
        return pattern.to_owned();
    }
    let mut out = String::with_capacity(pattern.len());
    for (i, segment) in pattern.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(if plain_word(segment) { segment } else { ":id" });
    }
    out
}

fn plain_word(segment: &str) -> bool {
    let word = segment.strip_prefix(':').unwrap_or(segment);
    if segment.is_empty() || segment == "*" || segment == "**" {
        return true;
    }
    let mut digits = 0;
    word.len() <= 32
        && !word.is_empty()
        && word.bytes().all(|b| {
            digits = if b.is_ascii_digit() { digits + 1 } else { 0 };
            digits < 5 && (b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
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
    #[test]
    fn what_leaves_the_device_has_only_plain_words() {
        for (pattern, public) in [
            ("/api/order/:id", "/api/order/:id"),
            ("/api/user/alice@example.com/orders", "/api/user/:id/orders"),
            ("/api/sms/+8613800138000", "/api/sms/:id"),
            ("/api/user/%E5%BC%A0%E4%B8%89", "/api/user/:id"),
            ("/api/城市/list", "/api/:id/list"),
            ("/api/v2/home-init/svc_clean", "/api/v2/home-init/svc_clean"),
            ("/api/order/A12345", "/api/order/:id"),
            ("/api/files/*", "/api/files/*"),
            ("/api/:orderNo/items", "/api/:orderNo/items"),
            ("(other)", "(other)"),
            ("/", "/"),
        ] {
            assert_eq!(public_pattern(pattern), public, "{pattern}");
        }
    }

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
