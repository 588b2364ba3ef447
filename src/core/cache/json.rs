//! Canonical JSON: the text `JSON.stringify` produced, with object keys
//! sorted, so `{a:1,b:2}` and `{b:2,a:1}` give the same cache key.
//! Strings and numbers are copied as written (JSON.stringify escapes and
//! formats them deterministically).

use crate::core::sort::sort_by;

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
            sort_by(&mut members, |a, b| a.0 < b.0);
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
    use super::canonical;

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
