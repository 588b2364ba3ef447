//! Canonical JSON: the text `JSON.stringify` produced, with object keys
//! sorted, so `{a:1,b:2}` and `{b:2,a:1}` give the same cache key.
//! Strings and numbers are copied as written (JSON.stringify escapes and
//! formats them deterministically).

use crate::core::sort::sort_by;
use crate::prelude::*;

/// Deeper input is not canonicalised (the request is then simply not cached).
const MAX_DEPTH: usize = 64;

/// `text` with every object's members sorted by key; None if it is not JSON or too deep.
pub fn canonical(text: &str) -> Option<String> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    let mut out = String::with_capacity(text.len());
    parser.value(&mut out, 0)?;
    parser.skip_ws();
    (parser.at == parser.bytes.len()).then_some(out)
}

/// `text` is one JSON value as `JSON.parse` reads it (RFC 8259: no comments,
/// no trailing commas, no raw control characters in strings, numbers as
/// JSON writes them). Unlike [`canonical`] it has no depth limit: it keeps
/// a stack of the open containers instead of recursing.
pub fn is_json(text: &str) -> bool {
    let b = text.as_bytes();
    let mut at = 0;
    // The open containers, innermost last: true for an object.
    let mut open: Vec<bool> = Vec::new();
    loop {
        skip_ws(b, &mut at);
        let value = match b.get(at) {
            Some(b'{') => {
                at += 1;
                skip_ws(b, &mut at);
                if b.get(at) == Some(&b'}') {
                    at += 1;
                    true
                } else {
                    open.push(true);
                    if !member_key(b, &mut at) {
                        return false;
                    }
                    continue;
                }
            }
            Some(b'[') => {
                at += 1;
                skip_ws(b, &mut at);
                if b.get(at) == Some(&b']') {
                    at += 1;
                    true
                } else {
                    open.push(false);
                    continue;
                }
            }
            Some(b'"') => json_string(b, &mut at),
            Some(b'-' | b'0'..=b'9') => json_number(b, &mut at),
            _ => ["true", "false", "null"].iter().any(|word| {
                let found = b[at..].starts_with(word.as_bytes());
                if found {
                    at += word.len();
                }
                found
            }),
        };
        if !value {
            return false;
        }
        // After a value: close what ends here, then the next member or the end.
        loop {
            skip_ws(b, &mut at);
            match (open.last(), b.get(at)) {
                (None, None) => return true,
                (Some(&object), Some(b',')) => {
                    at += 1;
                    if object && !member_key(b, &mut at) {
                        return false;
                    }
                    break;
                }
                (Some(true), Some(b'}')) | (Some(false), Some(b']')) => {
                    at += 1;
                    open.pop();
                }
                _ => return false,
            }
        }
    }
}

fn skip_ws(b: &[u8], at: &mut usize) {
    while matches!(b.get(*at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        *at += 1;
    }
}

/// `"key"` and its colon.
fn member_key(b: &[u8], at: &mut usize) -> bool {
    skip_ws(b, at);
    if b.get(*at) != Some(&b'"') || !json_string(b, at) {
        return false;
    }
    skip_ws(b, at);
    let colon = b.get(*at) == Some(&b':');
    *at += 1;
    colon
}

/// A string from its opening quote: escapes as JSON has them, no raw control characters.
fn json_string(b: &[u8], at: &mut usize) -> bool {
    *at += 1;
    loop {
        match b.get(*at) {
            Some(b'"') => {
                *at += 1;
                return true;
            }
            Some(b'\\') => match b.get(*at + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => *at += 2,
                Some(b'u')
                    if b.get(*at + 2..*at + 6)
                        .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    *at += 6
                }
                _ => return false,
            },
            Some(0..=0x1f) | None => return false,
            Some(_) => *at += 1,
        }
    }
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
fn json_number(b: &[u8], at: &mut usize) -> bool {
    let digits = |at: &mut usize| {
        let start = *at;
        while b.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at > start
    };
    if b.get(*at) == Some(&b'-') {
        *at += 1;
    }
    match b.get(*at) {
        Some(b'0') => *at += 1,
        Some(b'1'..=b'9') => {
            digits(at);
        }
        _ => return false,
    }
    if b.get(*at) == Some(&b'.') {
        *at += 1;
        if !digits(at) {
            return false;
        }
    }
    if matches!(b.get(*at), Some(b'e' | b'E')) {
        *at += 1;
        if matches!(b.get(*at), Some(b'+' | b'-')) {
            *at += 1;
        }
        if !digits(at) {
            return false;
        }
    }
    true
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    fn value(&mut self, out: &mut String, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        match *self.bytes.get(self.at)? {
            b'{' => self.object(out, depth),
            b'[' => self.array(out, depth),
            b'"' => {
                out.push_str(self.string()?);
                Some(())
            }
            _ => {
                let start = self.at;
                while self.bytes.get(self.at).is_some_and(|b| {
                    !matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                }) {
                    self.at += 1;
                }
                let atom = self.text(start)?;
                let valid = matches!(atom, "true" | "false" | "null")
                    || atom
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
                        && !atom.is_empty();
                valid.then(|| out.push_str(atom))
            }
        }
    }

    /// A string token, quotes and escapes included, as written.
    fn string(&mut self) -> Option<&'a str> {
        let start = self.at;
        self.at += 1;
        loop {
            match *self.bytes.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return self.text(start);
                }
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
    }

    /// Emits the members in input order, then reorders them in place when
    /// their keys are not sorted already (one scratch copy, only then).
    fn object(&mut self, out: &mut String, depth: usize) -> Option<()> {
        self.at += 1;
        out.push('{');
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            out.push('}');
            return Some(());
        }
        // (key, start and end of "key:value" in `out`)
        let mut members: Vec<(&'a str, usize, usize)> = Vec::new();
        let mut sorted = true;
        loop {
            self.skip_ws();
            if self.bytes.get(self.at) != Some(&b'"') {
                return None;
            }
            let key = self.string()?;
            self.skip_ws();
            if self.bytes.get(self.at) != Some(&b':') {
                return None;
            }
            self.at += 1;
            if !members.is_empty() {
                out.push(',');
            }
            let start = out.len();
            out.push_str(key);
            out.push(':');
            self.value(out, depth + 1)?;
            if members.last().is_some_and(|(last, _, _)| *last > key) {
                sorted = false;
            }
            members.push((key, start, out.len()));
            self.skip_ws();
            match *self.bytes.get(self.at)? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    break;
                }
                _ => return None,
            }
        }
        if !sorted {
            let first = members[0].1;
            let emitted = out[first..].to_owned();
            // Repeated keys keep their order (the sort is not stable): the
            // last one is the value `JSON.parse` reads.
            sort_by(&mut members, |a, b| (a.0, a.1) < (b.0, b.1));
            out.truncate(first);
            for (i, (_, start, end)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&emitted[start - first..end - first]);
            }
        }
        out.push('}');
        Some(())
    }

    fn array(&mut self, out: &mut String, depth: usize) -> Option<()> {
        self.at += 1;
        out.push('[');
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            out.push(']');
            return Some(());
        }
        loop {
            self.value(out, depth + 1)?;
            self.skip_ws();
            match *self.bytes.get(self.at)? {
                b',' => {
                    self.at += 1;
                    out.push(',');
                }
                b']' => {
                    self.at += 1;
                    out.push(']');
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The token from `start` to here. Tokens end at ASCII delimiters, so
    /// this is a slice of the input (no UTF-8 validation again).
    fn text(&self, start: usize) -> Option<&'a str> {
        self.text.get(start..self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::{canonical, is_json};

    #[test]
    fn is_json_is_what_json_parse_accepts() {
        for good in [
            "0",
            "-0",
            "1.5e-3",
            "-12E+4",
            "true",
            "null",
            "\"\"",
            " [ ] ",
            "{}",
            r#"{"a":[1,{"b":"\u00e9\n\"\\\/"}],"c":false}"#,
            "\"网络\"",
        ] {
            assert!(is_json(good), "{good:?}");
        }
        for bad in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "[,1]",
            r#"{"a":1,}"#,
            r#"{"a"}"#,
            "{a:1}",
            "tru",
            "nul",
            "1 2",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "0x1",
            "NaN",
            r#""open"#,
            "\"a\u{1}\"",
            "\"tab\t\"",
            r#""\x""#,
            r#""\u12g4""#,
            "[1]]",
            "{}}",
            "[}",
            r#"{"a":1 "b":2}"#,
            "\u{feff}1",
            "'a'",
        ] {
            assert!(!is_json(bad), "{bad:?}");
        }
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(is_json(&deep), "any depth");
        assert!(!is_json(&("[".repeat(10) + &"]".repeat(9))));
    }

    #[test]
    fn sorts_keys_at_every_depth() {
        assert_eq!(canonical(r#"{"b":2,"a":1}"#), canonical(r#"{"a":1,"b":2}"#));
        assert_eq!(
            canonical(r#"{"z":[{"y":1,"x":"s"}],"a":{"d":null,"c":true}}"#).unwrap(),
            r#"{"a":{"c":true,"d":null},"z":[{"x":"s","y":1}]}"#
        );
        assert_eq!(
            canonical(r#"[3,1,2]"#).unwrap(),
            "[3,1,2]",
            "arrays keep their order"
        );
    }

    #[test]
    fn repeated_keys_keep_their_order() {
        // Found by tests/fuzz_core.rs: the unstable sort swapped the two "b"s,
        // so `{"b":1,"b":0,...}` and `{"b":0,"b":1,...}` shared a key.
        assert_eq!(
            canonical(r#"{"b":true," ":true,"b":0}"#).unwrap(),
            r#"{" ":true,"b":true,"b":0}"#
        );
        assert_eq!(
            canonical(r#"{"b":0,"b":1,"a":2}"#).unwrap(),
            r#"{"a":2,"b":0,"b":1}"#
        );
        assert_ne!(
            canonical(r#"{"b":0,"b":1,"a":2}"#),
            canonical(r#"{"b":1,"b":0,"a":2}"#)
        );
    }

    #[test]
    fn strings_and_numbers_are_kept_as_written() {
        assert_eq!(
            canonical(r#"{"k":"a\"}b","n":-1.5e3}"#).unwrap(),
            r#"{"k":"a\"}b","n":-1.5e3}"#
        );
        assert_eq!(canonical(r#""网络""#).unwrap(), r#""网络""#);
        assert_eq!(canonical("{ \"a\" : 1 }").unwrap(), r#"{"a":1}"#);
    }

    #[test]
    fn rejects_what_is_not_json_or_too_deep() {
        for bad in [
            "", "{", "[1,", r#"{"a"}"#, "{a:1}", "tru", "1 2", r#""open"#,
        ] {
            assert_eq!(canonical(bad), None, "{bad:?}");
        }
        let deep = "[".repeat(70) + &"]".repeat(70);
        assert_eq!(canonical(&deep), None);
        let ok = "[".repeat(60) + &"]".repeat(60);
        assert!(canonical(&ok).is_some());
    }
}
