//! The socket's own frames, recognised by parsing them as JSON (key order and
//! whitespace do not matter), never by their text's prefix:
//!
//! - a pong: `{"type":"pong"}`, optionally with `"t"` (a number);
//! - a ping: `{"type":"ping","t":N}`, the shape of the socket's own pings
//!   (an echo service hands them back);
//! - an ack: `{"type":"ack","id":N}`, `N` a whole number.
//!
//! An object with any other key, or with a `type` of anything else, is the
//! caller's message, as is anything that is not one JSON object. Only small
//! frames are inspected: control frames are a few dozen ASCII bytes.

use crate::core::cache::json::is_json;
use crate::core::query::{unescape, Key, Members};

/// Frames longer than this (in UTF-8 bytes) are never control frames. The
/// shim copies into the wasm only text frames of at most this many UTF-16
/// units that start with `{`: a control frame is ASCII, so its units are its
/// bytes.
pub const MAX_CONTROL_BYTES: usize = 1024;

/// A frame that is the socket's own business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// The service answered a ping.
    Pong,
    /// One of the socket's own pings, handed back by an echo service.
    Ping,
    /// The service acked the message with this id (acked mode).
    Ack(u64),
}

/// What `text` is, if it is a control frame.
pub fn control(text: &str) -> Option<Control> {
    if text.len() > MAX_CONTROL_BYTES || !is_json(text) {
        return None;
    }
    // An array's members have no names: not a control frame either.
    let mut members = Members::new(text)?;
    let (mut kind, mut t, mut id) = (None, None, None);
    while let Some((key, value)) = members.next_member()? {
        let Key::Name(name) = key else {
            return None;
        };
        let slot = match unescape(name).as_str() {
            "type" => &mut kind,
            "t" => &mut t,
            "id" => &mut id,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            // A key given twice: not a frame this socket writes or expects.
            return None;
        }
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
