//! Small string helpers written as byte loops: std's substring search
//! (`str::contains(&str)`, `split_once(&str)`) and `join` each bring a
//! kilobyte or more of generic code into the wasm for a handful of uses.

use crate::prelude::*;

/// Whether `hay` contains `needle`, ASCII letters compared case-insensitively.
pub fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

/// `items` with `sep` between them.
pub fn join<'a>(items: impl IntoIterator<Item = &'a str>, sep: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(item);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_ignores_ascii_case_only() {
        assert!(contains_ignore_ascii_case(
            "request:fail INTERRUPTED",
            "interrupted"
        ));
        assert!(contains_ignore_ascii_case("x", ""));
        assert!(!contains_ignore_ascii_case("", "x"));
        assert!(!contains_ignore_ascii_case("interrupte", "interrupted"));
        assert!(contains_ignore_ascii_case(
            "Application/X-WWW-Form-Urlencoded; charset=utf-8",
            "application/x-www-form-urlencoded"
        ));
        assert!(!contains_ignore_ascii_case("ÄB", "äb"));
    }

    #[test]
    fn join_puts_the_separator_between() {
        assert_eq!(join([], ", "), "");
        assert_eq!(join(["a"], ", "), "a");
        assert_eq!(join(["a", "b", "c"], "/"), "a/b/c");
    }
}
