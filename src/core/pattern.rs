//! Path patterns, shared by mock routes and cache rules.
//!
//! A pattern is a path whose segments are literals, `:name` parameters or a
//! final `*`: the rest of the path after that '/', possibly empty
//! (`/api/home/*` matches `/api/home/` and `/api/home/banner/3`, not
//! `/api/home`). The query string never takes part. Among several matching
//! patterns the most specific is the one with more literal segments, then
//! the one without `*`.

use super::error::RequestError;
use super::request::quoted;
use crate::core::text::join;
use crate::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Rest,
}

/// A parsed path pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
}

impl Pattern {
    /// Parses `pattern`; `field` names the option in errors.
    pub fn parse(field: &str, pattern: &str) -> Result<Pattern, RequestError> {
        let bad = |problem: String| RequestError::invalid(field.to_owned(), problem);
        let Some(rest) = pattern.strip_prefix('/') else {
            return Err(bad(format!(
                "path must start with '/', got {}",
                quoted(pattern, 64)
            )));
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let segment = if *part == "*" {
                if i + 1 != parts.len() {
                    return Err(bad("path may use '*' only as its last segment".into()));
                }
                Segment::Rest
            } else if let Some(name) = part.strip_prefix(':') {
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(bad(format!(
                        "path has a bad parameter name {}",
                        quoted(part, 32)
                    )));
                }
                Segment::Param(name.to_owned())
            } else if part.contains(['?', '#', '*', ':']) {
                return Err(bad(format!(
                    "path segment {} may not contain ? # * or :",
                    quoted(part, 32)
                )));
            } else {
                Segment::Literal((*part).to_owned())
            };
            segments.push(segment);
        }
        Ok(Pattern { segments })
    }

    /// The captured parameters if `path` matches (`*` captures the rest as "*").
    pub fn captures(&self, path: &str) -> Option<Vec<(String, String)>> {
        let path = path.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let mut params = Vec::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Rest if parts.len() <= i => return None,
                Segment::Rest => {
                    params.push(("*".to_owned(), join(parts[i..].iter().copied(), "/")));
                    return Some(params);
                }
                Segment::Literal(text) => {
                    if parts.get(i) != Some(&text.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = parts.get(i).filter(|v| !v.is_empty())?;
                    params.push((name.clone(), (*value).to_owned()));
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// Whether `path` matches (without collecting captures: cache rules ask
    /// this on every request).
    pub fn matches(&self, path: &str) -> bool {
        let path = path.split('?').next().unwrap_or_default();
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let mut parts = rest.split('/');
        for segment in &self.segments {
            match (segment, parts.next()) {
                (Segment::Rest, Some(_)) => return true,
                (Segment::Literal(text), Some(part)) if part == text => {}
                (Segment::Param(_), Some(part)) if !part.is_empty() => {}
                _ => return false,
            }
        }
        parts.next().is_none()
    }

    /// Higher is more specific: (literal segments, no `*`).
    pub fn specificity(&self) -> (usize, bool) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (literals, !self.segments.contains(&Segment::Rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Pattern {
        Pattern::parse("rule", text).unwrap()
    }

    #[test]
    fn params_and_rest_capture() {
        assert_eq!(
            p("/api/order/:id").captures("/api/order/42?x=1"),
            Some(vec![("id".into(), "42".into())])
        );
        assert_eq!(
            p("/api/home/*").captures("/api/home/banner/3"),
            Some(vec![("*".into(), "banner/3".into())])
        );
        assert!(!p("/api/home/*").matches("/api/home"));
        assert!(p("/api/home/*").matches("/api/home/"));
        assert!(!p("/api/order/:id").matches("/api/order/"), "empty param");
        assert!(!p("/api/order/:id").matches("/api/order/1/items"));
        assert!(p("/").matches("/") && !p("/").matches("/x") && p("/*").matches("/"));
    }

    #[test]
    fn matches_agrees_with_captures() {
        for pattern in [
            "/",
            "/*",
            "/api/home/*",
            "/api/order/:id",
            "/api/order/list",
            "/a/:b/c",
        ] {
            for path in [
                "/",
                "/x",
                "/api/home",
                "/api/home/",
                "/api/home/a/b",
                "/api/order/",
                "/api/order/7",
                "/api/order/list?x=1",
                "/a/b/c",
                "/a//c",
                "/a/b/c/d",
                "",
                "api",
            ] {
                assert_eq!(
                    p(pattern).matches(path),
                    p(pattern).captures(path).is_some(),
                    "{pattern} {path}"
                );
            }
        }
    }

    #[test]
    fn specificity_orders_literals_then_exactness() {
        assert!(p("/api/order/list").specificity() > p("/api/order/:id").specificity());
        assert!(p("/api/order/:id").specificity() > p("/api/*").specificity());
    }

    #[test]
    fn bad_patterns_are_named() {
        for bad in ["api/x", "/a/*/b", "/a/:", "/a?b"] {
            let err = Pattern::parse("cache.rules[1].path", bad).unwrap_err();
            assert!(
                err.to_string().starts_with("`cache.rules[1].path`"),
                "{err}"
            );
        }
    }
}
