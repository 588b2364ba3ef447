//! The socket's own frames, recognised by parsing them as JSON (key order and
//! whitespace do not matter), never by their text's prefix:
//!
//! - a pong: `{"type":"pong"}`, optionally with `"t"` (a number);
//! - a ping: `{"type":"ping","t":N}`, the shape of the socket's own pings
//!   (an echo service hands them back);
//! - an ack: `{"type":"ack","id":N}`, `N` a whole number;
//! - a frame a service pushes to the library (`pushed`): an object with a
//!   `"$mp"` member.
//!
//! An object with any other key, or with a `type` of anything else, is the
//! caller's message, as is anything that is not one JSON object. Only small
//! frames are inspected (control frames are a few dozen ASCII bytes), and
//! larger ones that begin `{"$mp"` (ignored past `MAX_PUSHED_BYTES`).

use super::pushed::{self, Fields, Pushed, LONG_START, MARK, MAX_PUSHED_BYTES};
use crate::core::cache::json::is_json;
use crate::core::query::{unescape, Key, Members};

/// Frames longer than this (in UTF-8 bytes) are never control frames, unless
/// they begin `pushed::LONG_START`. The shim copies into the wasm only text
/// frames that may be one: a control frame is ASCII, so its units are its bytes.
pub const MAX_CONTROL_BYTES: usize = 1024;

/// A frame that is the socket's own business.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// The service answered a ping.
    Pong,
    /// One of the socket's own pings, handed back by an echo service.
    Ping,
    /// The service acked the message with this id (acked mode).
    Ack(u64),
    /// A frame of the library's (`"$mp"`).
    Pushed(Pushed),
}

/// Whether `text` is worth reading at all: small, or a larger frame that
/// begins as the library's do (the shim tests the same before copying in).
pub fn inspected(text: &str) -> bool {
    text.len() <= MAX_CONTROL_BYTES || text.starts_with(LONG_START)
}

/// What `text` is, if it is a control frame.
pub fn control(text: &str) -> Option<Control> {
    if !inspected(text) {
        return None;
    }
    if text.len() > MAX_PUSHED_BYTES {
        // Begun as the library's frames are, and never the app's data.
        return Some(Control::Pushed(Pushed::Ignored("longer than 16 KB")));
    }
    if !is_json(text) {
        return None;
    }
    // An array's members have no names: not a control frame either.
    let mut members = Members::new(text)?;
    let mut fields = Fields::default();
    // A member the socket's own frames do not have (the library's may).
    let mut other = false;
    while let Some((key, value)) = members.next_member()? {
        let Key::Name(name) = key else {
            return None;
        };
        let slot = match unescape(name).as_str() {
            MARK => &mut fields.version,
            "type" => &mut fields.kind,
            "t" => &mut fields.t,
            "id" => &mut fields.id,
            "paths" => &mut fields.paths,
            "tags" => &mut fields.tags,
            _ => {
                other = true;
                continue;
            }
        };
        fields.twice |= slot.replace(value).is_some();
    }
    if fields.version.is_some() {
        return Some(Control::Pushed(pushed::read(&fields)));
    }
    // A key given twice, or one they do not have: not a frame this socket writes or expects.
    let Fields {
        kind,
        t,
        id,
        paths: None,
        tags: None,
        twice: false,
        ..
    } = fields
    else {
        return None;
    };
    if other {
        return None;
    }
    let first = |v: &str| v.as_bytes().first().copied();
    let kind = kind.filter(|k| first(k) == Some(b'"')).map(unescape)?;
    let number = |v: &str| matches!(first(v), Some(b'-' | b'0'..=b'9'));
    match (kind.as_str(), t, id) {
        ("pong", None, None) => Some(Control::Pong),
        ("pong", Some(t), None) if number(t) => Some(Control::Pong),
        ("ping", Some(t), None) if number(t) => Some(Control::Ping),
        ("ack", None, Some(id)) if id.bytes().all(|b| b.is_ascii_digit()) => {
            // At most 2^53: the ids JS can hold exactly.
            id.parse()
                .ok()
                .filter(|id| *id <= 1 << 53)
                .map(Control::Ack)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pongs_pings_and_acks_in_any_order_and_spacing() {
        for pong in [
            r#"{"type":"pong","t":1}"#,
            r#"{"t":1,"type":"pong"}"#,
            r#"{"type":"pong"}"#,
            " {\n  \"type\" : \"pong\" ,\t\"t\" : 1.5e3 }\r\n",
            r#"{"ty\u0070e":"po\u006eg","t":-2}"#,
        ] {
            assert_eq!(control(pong), Some(Control::Pong), "{pong}");
        }
        for ping in [
            r#"{"type":"ping","t":1700000000000}"#,
            r#"{ "t": 0, "type": "ping" }"#,
        ] {
            assert_eq!(control(ping), Some(Control::Ping), "{ping}");
        }
        for (ack, id) in [
            (r#"{"type":"ack","id":42}"#, 42),
            (r#"{"id":1,"type":"ack"}"#, 1),
            ("{ \"id\" : 7 , \"type\" : \"ack\" }", 7),
        ] {
            assert_eq!(control(ack), Some(Control::Ack(id)), "{ack}");
        }
    }

    #[test]
    fn app_messages_with_a_type_field_are_not_control_frames() {
        for text in [
            r#"{"type":"message","content":"Hello WebSocket"}"#,
            r#"{"type":"msg","id":1,"data":{"n":1}}"#,
            r#"{"type":"pong","score":3}"#,
            r#"{"type":"ack","id":1,"by":"server"}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"ping","t":"now"}"#,
            r#"{"type":"ack"}"#,
            r#"{"type":"ack","id":"1"}"#,
            r#"{"type":"ack","id":1.5}"#,
            r#"{"type":"ack","id":-1}"#,
            r#"{"type":"ack","id":9007199254740993}"#,
            r#"{"type":["pong"]}"#,
            r#"{"type":"pong","type":"pong"}"#,
            r#"{"type":"PONG"}"#,
            r#"{"data":{"type":"pong"}}"#,
            r#"[{"type":"pong"}]"#,
            r#""{\"type\":\"pong\"}""#,
            r#"{"type":"pong"} trailing"#,
            r#"{"type":"pong",}"#,
            r#"{"type":'pong'}"#,
            r#"{"type":"pong""#,
            "",
            "pong",
        ] {
            assert_eq!(control(text), None, "{text}");
        }
    }

    fn invalidate(names: &str) -> Option<Control> {
        Some(Control::Pushed(Pushed::Invalidate {
            names: names.into(),
        }))
    }

    #[test]
    fn invalidation_frames_in_any_order_with_unknown_members_skipped() {
        assert_eq!(
            control(r#"{"$mp":1,"type":"invalidate","paths":["/api/order/list"]}"#),
            invalidate("/api/order/list")
        );
        assert_eq!(
            control(r#"{ "tags" : ["orders","home"], "type":"invalidate", "$mp" : 1 }"#),
            invalidate("#orders\n#home")
        );
        assert_eq!(
            control(
                r#"{"$mp":1,"type":"invalidate","paths":["/a","/b\u002fc"],"tags":["t"],"by":"admin","at":{"t":1}}"#
            ),
            invalidate("/a\n/b/c\n#t")
        );
        assert_eq!(
            control(r#"{"\u0024mp":1,"type":"invalidate","tags":["x"]}"#),
            invalidate("#x")
        );
    }

    #[test]
    fn frames_of_the_library_it_cannot_act_on_are_ignored_with_the_reason() {
        for (text, why) in [
            (
                r#"{"$mp":2,"type":"invalidate","paths":["/a"]}"#,
                "another version",
            ),
            (
                r#"{"$mp":"1","type":"invalidate","paths":["/a"]}"#,
                "another version",
            ),
            (
                r#"{"$mp":1.0,"type":"invalidate","paths":["/a"]}"#,
                "another version",
            ),
            (
                r#"{"$mp":1,"type":"subscribe","paths":["/a"]}"#,
                "a type version 1 does not know",
            ),
            (r#"{"$mp":1,"paths":["/a"]}"#, "no `type`"),
            (r#"{"$mp":1,"type":"invalidate"}"#, "no path and no tag"),
            (
                r#"{"$mp":1,"type":"invalidate","paths":[],"tags":[]}"#,
                "no path and no tag",
            ),
            (
                r#"{"$mp":1,"type":"invalidate","paths":"/a"}"#,
                "not an array of strings",
            ),
            (
                r#"{"$mp":1,"type":"invalidate","paths":[1]}"#,
                "not an array of strings",
            ),
            (
                r#"{"$mp":1,"type":"invalidate","paths":["api"]}"#,
                "does not start with '/'",
            ),
            (
                r#"{"$mp":1,"type":"invalidate","tags":[""]}"#,
                "an empty tag",
            ),
            (
                r#"{"$mp":1,"$mp":1,"type":"invalidate","tags":["t"]}"#,
                "given twice",
            ),
            (
                r#"{"$mp":1,"type":"invalidate","tags":["t"],"tags":["u"]}"#,
                "given twice",
            ),
        ] {
            match control(text) {
                Some(Control::Pushed(Pushed::Ignored(detail))) => {
                    assert!(detail.contains(why), "{text}: {detail}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let many: Vec<String> = (0..=pushed::MAX_NAMES)
            .map(|i| format!("\"t{i}\""))
            .collect();
        let text = format!(
            r#"{{"$mp":1,"type":"invalidate","tags":[{}]}}"#,
            many.join(",")
        );
        assert!(matches!(
            control(&text),
            Some(Control::Pushed(Pushed::Ignored(_)))
        ));
        // Not JSON, or not an object: the app's, whatever it mentions.
        for text in [
            r#"{"$mp":1,"type":"invalidate""#,
            r#"[{"$mp":1}]"#,
            r#"{"data":{"$mp":1}}"#,
        ] {
            assert_eq!(control(text), None, "{text}");
        }
    }

    #[test]
    fn long_frames_of_the_library_are_read_when_they_begin_as_documented() {
        let paths: Vec<String> = (0..pushed::MAX_NAMES)
            .map(|i| format!("\"/api/{i}/{}\"", "x".repeat(100)))
            .collect();
        let text = format!(
            r#"{{"$mp":1,"type":"invalidate","paths":[{}]}}"#,
            paths.join(",")
        );
        assert!(text.len() > MAX_CONTROL_BYTES && text.len() <= MAX_PUSHED_BYTES);
        match control(&text) {
            Some(Control::Pushed(Pushed::Invalidate { names })) => {
                assert_eq!(names.lines().count(), pushed::MAX_NAMES);
                assert!(pushed::valid_names(&names));
            }
            other => panic!("{other:?}"),
        }
        // The same frame with a space first: the app's.
        assert_eq!(control(&format!(" {text}")), None);
        // Past the limit: ignored, never the app's (the shim cuts it to one byte over).
        let over = format!(
            r#"{{"$mp":1,"type":"invalidate","tags":["t"],"pad":"{}"}}"#,
            " ".repeat(MAX_PUSHED_BYTES)
        );
        assert_eq!(
            control(&over[..=MAX_PUSHED_BYTES]),
            Some(Control::Pushed(Pushed::Ignored("longer than 16 KB")))
        );
    }

    #[test]
    fn only_small_frames_are_inspected() {
        let padded = format!("{{\"type\":\"pong\"{}}}", " ".repeat(MAX_CONTROL_BYTES));
        assert!(padded.len() > MAX_CONTROL_BYTES);
        assert_eq!(control(&padded), None);
        let fits = format!(
            "{{\"type\":\"pong\"{}}}",
            " ".repeat(MAX_CONTROL_BYTES - 15)
        );
        assert_eq!(fits.len(), MAX_CONTROL_BYTES);
        assert_eq!(control(&fits), Some(Control::Pong));
    }
}
