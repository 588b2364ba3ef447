//! What one request may carry. Every limit is checked before a value is
//! copied into the wasm memory (which grows to the largest thing it ever held
//! and never shrinks) and again, exactly, by the core. The platform refuses
//! far less anyway: callContainer takes at most 100 KB per request, and
//! gateways answer 414 or 431 to long URLs and header blocks.

use super::error::RequestError;
use crate::prelude::*;

/// The longest path, without its query, in UTF-8 bytes.
pub const MAX_PATH_BYTES: usize = 4096;

/// The longest path with its query (a GET's data), in UTF-8 bytes.
pub const MAX_TARGET_BYTES: usize = 16 * 1024;

/// The longest JSON of a GET's or HEAD's data, in UTF-16 units, checked
/// before it is copied and encoded: its query drops at least the quotes,
/// braces and colons (`{"a":""}` is `a=`), so JSON longer than three times
/// the query's limit never fits in it.
pub const MAX_QUERY_JSON: usize = 3 * MAX_TARGET_BYTES;

/// The most headers one source gives (the client's `header`, the request's
/// `header`, or what the client's header function answers).
pub const MAX_HEADERS: usize = 64;

/// The most UTF-8 bytes of header names and values one source gives.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The largest text body (a string, or object data as JSON), in UTF-8 bytes.
/// An ArrayBuffer is not copied into the engine and has no limit here (the
/// cloud route's 100 KB still applies).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most items of a list option (mock routes, cache rules, tags, stats patterns).
pub const MAX_LIST_ITEMS: usize = 1000;

/// The longest user id (`setUser`, `X-WX-OPENID`): an openid is 28 characters.
pub const MAX_USER_BYTES: usize = 256;

/// `headers` within [`MAX_HEADERS`] and [`MAX_HEADER_BYTES`], each name a
/// token and each value free of CR, LF and NUL.
pub fn check_headers(headers: &[(String, String)]) -> Result<(), RequestError> {
    if headers.len() > MAX_HEADERS {
        return Err(too_many_headers(headers.len()));
    }
    let bytes: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    if bytes > MAX_HEADER_BYTES {
        return Err(headers_too_large(bytes));
    }
    headers
        .iter()
        .try_for_each(|(name, value)| super::request::validate_header(name, value))
}

/// `field` over one of the limits: `is {n} {unit} or more; at most {max}{hint}`
/// (one function for all of them: each message costs wasm bytes).
fn over(field: &'static str, n: usize, unit: &str, max: usize, hint: &str) -> RequestError {
    RequestError::invalid(field, format!("{unit} {n} or more; at most {max}{hint}"))
}

/// More than [`MAX_HEADERS`] headers (`count` of them).
pub fn too_many_headers(count: usize) -> RequestError {
    over("header", count, "has headers:", MAX_HEADERS, "")
}

/// Header names and values over [`MAX_HEADER_BYTES`] (`bytes` at least).
pub fn headers_too_large(bytes: usize) -> RequestError {
    over(
        "header",
        bytes,
        "is bytes (names and values):",
        MAX_HEADER_BYTES,
        "",
    )
}

/// A path over [`MAX_PATH_BYTES`] (`bytes` at least).
pub fn path_too_long(bytes: usize) -> RequestError {
    over("path", bytes, "is bytes long:", MAX_PATH_BYTES, "")
}

/// A path with its query over [`MAX_TARGET_BYTES`]: `field` is `path` when
/// the caller wrote the query, `data` when a GET's data made it.
pub fn target_too_long(field: &'static str, bytes: usize) -> RequestError {
    over(
        field,
        bytes,
        "makes the path with its query bytes long:",
        MAX_TARGET_BYTES,
        " (send large data in the body of a POST)",
    )
}

/// A GET's data whose JSON is longer than [`MAX_QUERY_JSON`].
pub fn query_data_too_large(units: usize) -> RequestError {
    RequestError::invalid(
        "data",
        format!(
            "of a GET or HEAD is {units} characters or more as JSON: more than its query can hold \
             (the path with its query is at most {MAX_TARGET_BYTES} bytes); send large data in the body of a POST"
        ),
    )
}

/// A text body over [`MAX_BODY_BYTES`] (`bytes` at least).
pub fn body_too_large(bytes: usize) -> RequestError {
    over(
        "data",
        bytes,
        "is bytes as sent:",
        MAX_BODY_BYTES,
        " (send larger payloads as an ArrayBuffer, or upload a file)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(n: usize, value: &str) -> Vec<(String, String)> {
        (0..n)
            .map(|i| (format!("X-{i}"), value.to_owned()))
            .collect()
    }

    #[test]
    fn header_count_and_bytes_are_bounded() {
        assert!(check_headers(&headers(MAX_HEADERS, "v")).is_ok());
        let err = check_headers(&headers(MAX_HEADERS + 1, "v")).unwrap_err();
        assert!(
            err.to_string()
                .contains("has headers: 65 or more; at most 64"),
            "{err}"
        );
        let big = "v".repeat(MAX_HEADER_BYTES);
        let err = check_headers(&headers(1, &big)).unwrap_err();
        assert!(err.to_string().contains("at most 16384"), "{err}");
        let fits = "v".repeat(MAX_HEADER_BYTES - 3);
        assert!(check_headers(&headers(1, &fits)).is_ok());
    }

    #[test]
    fn bytes_are_utf8_bytes() {
        // 5462 × 3 bytes = 16386 bytes in 5462 UTF-16 units.
        let value = "中".repeat(5462);
        assert!(check_headers(&[("X".into(), value)]).is_err());
    }
}
