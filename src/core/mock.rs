//! Mock routes: which configured route answers a request in mock mode.
//!
//! Patterns are paths whose segments are literals, `:name` parameters or a
//! final `*`: the rest of the path after that '/', possibly empty
//! (`/api/home/*` matches `/api/home/` and `/api/home/banner/3`, not `/api/home`). The query string never
//! takes part. When several routes match, the most specific wins: more literal
//! segments first, then a route without `*`, then a route naming the method;
//! among equals, the first configured.

use super::error::RequestError;
use super::request::{quoted, Method};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Rest,
}

/// One configured route (its response stays on the JS side).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockRoute {
    method: Option<Method>,
    segments: Vec<Segment>,
}

/// The route that answers, and the parameters it captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockMatch {
    /// Index in the configured routes.
    pub index: usize,
    /// `:name` captures, and `*` as the rest of the path.
    pub params: Vec<(String, String)>,
}

impl MockRoute {
    /// Parses `pattern` for `method` (None: any method). `field` names the option in errors.
    pub fn parse(
        field: &str,
        method: Option<&str>,
        pattern: &str,
    ) -> Result<MockRoute, RequestError> {
        let bad = |problem: String| RequestError::invalid(field.to_owned(), problem);
        let method = method.map(Method::parse).transpose().map_err(|_| {
            bad(format!(
                "has an unknown method {}",
                quoted(method.unwrap_or_default(), 16)
            ))
        })?;
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
        Ok(MockRoute { method, segments })
    }

    fn matches(&self, method: Method, path: &str) -> Option<Vec<(String, String)>> {
        if self.method.is_some_and(|m| m != method) {
            return None;
        }
        let path = path.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let mut params = Vec::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Rest if parts.len() <= i => return None,
                Segment::Rest => {
                    params.push(("*".to_owned(), parts.get(i..).unwrap_or_default().join("/")));
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

    fn specificity(&self) -> (usize, bool, bool) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let exact = !self.segments.contains(&Segment::Rest);
        (literals, exact, self.method.is_some())
    }
}

/// The most specific route matching `method` and `path`.
pub fn find(routes: &[MockRoute], method: Method, path: &str) -> Option<MockMatch> {
    let mut best: Option<(MockMatch, (usize, bool, bool))> = None;
    for (index, route) in routes.iter().enumerate() {
        if let Some(params) = route.matches(method, path) {
            let score = route.specificity();
            if best.as_ref().is_none_or(|(_, s)| score > *s) {
                best = Some((MockMatch { index, params }, score));
            }
        }
    }
    best.map(|(m, _)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(specs: &[(Option<&str>, &str)]) -> Vec<MockRoute> {
        specs
            .iter()
            .map(|(m, p)| MockRoute::parse("mock.routes", *m, p).unwrap())
            .collect()
    }

    #[test]
    fn params_and_wildcards_capture() {
        let r = routes(&[(None, "/api/order/:id"), (None, "/api/home/*")]);
        let m = find(&r, Method::Get, "/api/order/42?x=1").unwrap();
        assert_eq!((m.index, m.params), (0, vec![("id".into(), "42".into())]));
        let m = find(&r, Method::Get, "/api/home/banner/3").unwrap();
        assert_eq!(m.params, vec![("*".into(), "banner/3".into())]);
        assert_eq!(find(&r, Method::Get, "/api/home").map(|m| m.index), None);
        assert_eq!(
            find(&r, Method::Get, "/api/home/").map(|m| m.index),
            Some(1)
        );
        assert_eq!(find(&r, Method::Get, "/api/order/42/items"), None);
        assert_eq!(find(&r, Method::Get, "/api/order/"), None, "empty param");
    }

    #[test]
    fn most_specific_wins_then_first_configured() {
        let r = routes(&[
            (None, "/api/*"),
            (None, "/api/order/:id"),
            (None, "/api/order/list"),
            (Some("POST"), "/api/order/list"),
            (None, "/api/order/list"),
        ]);
        assert_eq!(find(&r, Method::Get, "/api/order/list").unwrap().index, 2);
        assert_eq!(find(&r, Method::Post, "/api/order/list").unwrap().index, 3);
        assert_eq!(find(&r, Method::Get, "/api/order/7").unwrap().index, 1);
        assert_eq!(find(&r, Method::Get, "/api/user").unwrap().index, 0);
        assert_eq!(find(&r, Method::Get, "/other"), None);
    }

    #[test]
    fn bad_patterns_are_named() {
        for (method, pattern) in [
            (None, "api/x"),
            (None, "/a/*/b"),
            (None, "/a/:"),
            (None, "/a?b"),
            (Some("FETCH"), "/a"),
        ] {
            let err = MockRoute::parse("mock.routes[2]", method, pattern).unwrap_err();
            assert!(err.to_string().starts_with("`mock.routes[2]`"), "{err}");
        }
        assert!(find(&routes(&[(None, "/")]), Method::Get, "/").is_some());
        assert!(find(&routes(&[(None, "/")]), Method::Get, "/x").is_none());
        assert!(find(&routes(&[(None, "/*")]), Method::Get, "/").is_some());
    }
}
