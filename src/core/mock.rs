//! Mock routes: which configured route answers a request in mock mode.
//!
//! Routes are matched by [`Pattern`]. When several match, the most specific
//! wins: more literal segments first, then a route without `*`, then a route
//! naming the method; among equals, the first configured.

use super::error::RequestError;
use super::pattern::Pattern;
use super::request::{quoted, Method};
use crate::prelude::*;

/// One configured route (its response stays on the JS side).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockRoute {
    method: Option<Method>,
    pattern: Pattern,
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
        let method = method.map(Method::parse).transpose().map_err(|_| {
            RequestError::invalid(
                field.to_owned(),
                format!(
                    "has an unknown method {}",
                    quoted(method.unwrap_or_default(), 16)
                ),
            )
        })?;
        Ok(MockRoute {
            method,
            pattern: Pattern::parse(field, pattern)?,
        })
    }
}

/// The most specific route matching `method` and `path`.
pub fn find(routes: &[MockRoute], method: Method, path: &str) -> Option<MockMatch> {
    let mut best: Option<(MockMatch, (usize, bool, bool))> = None;
    for (index, route) in routes.iter().enumerate() {
        if route.method.is_some_and(|m| m != method) {
            continue;
        }
        if let Some(params) = route.pattern.captures(path) {
            let (literals, exact) = route.pattern.specificity();
            let score = (literals, exact, route.method.is_some());
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
        assert_eq!(
            find(&r, Method::Get, "/api/order/7").unwrap().params,
            vec![("id".into(), "7".into())]
        );
        assert_eq!(find(&r, Method::Get, "/api/user").unwrap().index, 0);
        assert_eq!(find(&r, Method::Get, "/other"), None);
    }

    #[test]
    fn bad_methods_and_patterns_are_named() {
        for (method, pattern) in [(Some("FETCH"), "/a"), (None, "a")] {
            let err = MockRoute::parse("mock.routes[2]", method, pattern).unwrap_err();
            assert!(err.to_string().starts_with("`mock.routes[2]`"), "{err}");
        }
    }
}
