//! A GET's `data` as its query string, encoded as `wx.request` encodes it:
//! `encodeURIComponent(key)=encodeURIComponent(value)` joined by `&`, in the
//! object's order; a nested object or array is sent as its JSON text. The
//! same encoding makes a form body (`application/x-www-form-urlencoded`).
//!
//! It works on the JSON text the engine validated (`JSON.stringify(data)`),
//! so what is sent is exactly what was checked and keyed, whatever the caller
//! does to its object afterwards.

use crate::prelude::*;
/// `path` with the members of the JSON object or array `data_json` appended
/// as query parameters; None when `data_json` is not an object or array.
pub fn with_query(path: &str, data_json: &str) -> Option<String> {
    let query = encode(data_json)?;
    if query.is_empty() {
        return Some(path.to_owned());
    }
    let mut target = String::with_capacity(path.len() + query.len() + 1);
    target.push_str(path);
    target.push(if path.contains('?') { '&' } else { '?' });
    target.push_str(&query);
    Some(target)
}

/// `k=v&k=v` of the JSON object or array `data_json`; None when it is not one.
pub fn encode(data_json: &str) -> Option<String> {
    let mut members = Members::new(data_json)?;
    let mut out = String::with_capacity(data_json.len());
    while let Some((key, value)) = members.next_member()? {
        if !out.is_empty() {
            out.push('&');
        }
        match key {
            Key::Name(name) => percent_encode(&unescape(name), &mut out),
            Key::Index(i) => super::cache::key::push_decimal(&mut out, i),
        }
        out.push('=');
        match value.as_bytes().first() {
            // A string's characters, not its JSON quotes.
            Some(b'"') => percent_encode(&unescape(value), &mut out),
            // Numbers, true, false, null as JS prints them; objects as JSON.
            _ => percent_encode(value, &mut out),
        }
    }
    Some(out)
}

/// A member's key: an object's name (a JSON string token) or an array index.
pub(crate) enum Key<'a> {
    Name(&'a str),
    Index(usize),
}

/// The top-level members of a JSON object or array, as raw JSON tokens
/// (lenient: check untrusted text with `cache::json::is_json` first).
pub(crate) struct Members<'a> {
    text: &'a str,
    at: usize,
    array: bool,
    index: usize,
    done: bool,
}

impl<'a> Members<'a> {
    pub(crate) fn new(text: &'a str) -> Option<Self> {
        let mut m = Members {
            text,
            at: 0,
            array: false,
            index: 0,
            done: false,
        };
        m.skip_ws();
        m.array = match m.byte()? {
            b'{' => false,
            b'[' => true,
            _ => return None,
        };
        m.at += 1;
        m.skip_ws();
        if m.byte()? == if m.array { b']' } else { b'}' } {
            m.done = true;
        }
        Some(m)
    }

    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.byte(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// The next member; `Some(None)` at the end; None when the text is not JSON.
    #[allow(clippy::type_complexity)]
    pub(crate) fn next_member(&mut self) -> Option<Option<(Key<'a>, &'a str)>> {
        if self.done {
            return Some(None);
        }
        self.skip_ws();
        let key = if self.array {
            self.index += 1;
            Key::Index(self.index - 1)
        } else {
            let name = self.token()?;
            if !name.starts_with('"') {
                return None;
            }
            self.skip_ws();
            if self.byte()? != b':' {
                return None;
            }
            self.at += 1;
            Key::Name(name)
        };
        self.skip_ws();
        let value = self.token()?;
        self.skip_ws();
        match (self.byte()?, self.array) {
            (b',', _) => self.at += 1,
            (b']', true) | (b'}', false) => self.done = true,
            _ => return None,
        }
        Some(Some((key, value)))
    }

    /// One JSON value as written (nested objects and arrays whole).
    fn token(&mut self) -> Option<&'a str> {
        let start = self.at;
        let bytes = self.text.as_bytes();
        match *bytes.get(self.at)? {
            b'"' => self.skip_string()?,
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match *bytes.get(self.at)? {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                while self.byte().is_some_and(|b| {
                    !matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                }) {
                    self.at += 1;
                }
            }
        }
        let token = self.text.get(start..self.at)?;
        (!token.is_empty()).then_some(token)
    }

    fn skip_string(&mut self) -> Option<()> {
        let bytes = self.text.as_bytes();
        self.at += 1;
        loop {
            match *bytes.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
    }
}

/// The characters of a JSON string token (quotes included in `token`).
/// A lone surrogate escape becomes U+FFFD, as `TextEncoder` encodes it.
pub(crate) fn unescape(token: &str) -> String {
    let inner = token
        .get(1..token.len().saturating_sub(1))
        .unwrap_or_default();
    if !inner.contains('\\') {
        return inner.to_owned();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let unit = hex4(&mut chars);
                let c = match unit {
                    Some(high @ 0xD800..=0xDBFF) => {
                        let mut ahead = chars.clone();
                        let low = (ahead.next() == Some('\\') && ahead.next() == Some('u'))
                            .then(|| hex4(&mut ahead))
                            .flatten()
                            .filter(|low| (0xDC00..=0xDFFF).contains(low));
                        match low {
                            Some(low) => {
                                chars = ahead;
                                char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                            }
                            None => None,
                        }
                    }
                    Some(unit) => char::from_u32(unit),
                    None => None,
                };
                out.push(c.unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn hex4(chars: &mut core::str::Chars<'_>) -> Option<u32> {
    let mut unit = 0;
    for _ in 0..4 {
        unit = unit * 16 + chars.next()?.to_digit(16)?;
    }
    Some(unit)
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` as %XX of its UTF-8 bytes.
fn percent_encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_become_parameters_in_order_as_wx_request_encodes_them() {
        assert_eq!(
            with_query("/api/order/list", r#"{"userId":1,"page":2,"q":"洗 衣&x"}"#).unwrap(),
            "/api/order/list?userId=1&page=2&q=%E6%B4%97%20%E8%A1%A3%26x"
        );
        assert_eq!(
            with_query("/x?a=1", r#"{"b":true,"c":null,"d":1e+21}"#).unwrap(),
            "/x?a=1&b=true&c=null&d=1e%2B21"
        );
        assert_eq!(with_query("/x", "{}").unwrap(), "/x");
    }

    #[test]
    fn nested_values_go_as_their_json_and_escapes_are_decoded() {
        assert_eq!(
            encode(r#"{"f":{"a":[1,"]"]},"s":"q\"\\\n\u00e9\ud83d\ude00"}"#).unwrap(),
            "f=%7B%22a%22%3A%5B1%2C%22%5D%22%5D%7D&s=q%22%5C%0A%C3%A9%F0%9F%98%80"
        );
        assert_eq!(encode(r#"["a",2]"#).unwrap(), "0=a&1=2");
        assert_eq!(encode(r#"{"lone":"\ud800"}"#).unwrap(), "lone=%EF%BF%BD");
        assert_eq!(encode(r#"{"k y":"-_.!~*'()"}"#).unwrap(), "k%20y=-_.!~*'()");
    }

    #[test]
    fn anything_but_an_object_or_array_is_not_a_query() {
        for text in [
            "5",
            "\"s\"",
            "null",
            "true",
            "{",
            r#"{"a" 1}"#,
            r#"{"a":1"#,
            "",
        ] {
            assert_eq!(encode(text), None, "{text}");
        }
    }
}
