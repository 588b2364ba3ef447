//! Review of the issue-17 hardening (wip-review): the core's side of two
//! findings, each failing on main as it stands.
#![cfg(not(target_arch = "wasm32"))]

use mp_request::core::limits::{MAX_HEADERS, MAX_PATH_BYTES, MAX_TARGET_BYTES};
use mp_request::core::offline::{check_stored, StoredItem};
use mp_request::core::request::RawRequest;
use mp_request::core::retry::RetryPolicy;

/// docs/errors.md: "`path`, without its query: 4096 bytes"; "the path with its
/// query: 16384 bytes". `validate_path` counts the query against the 4096.
#[test]
fn review17_a_path_whose_query_passes_4096_bytes_is_within_the_target_limit() {
    let path = format!("/api/search?q={}", "a".repeat(MAX_PATH_BYTES + 1000));
    assert!(path.len() < MAX_TARGET_BYTES);
    let raw = RawRequest {
        path,
        ..RawRequest::default()
    };
    let checked = raw.validate(RetryPolicy::default());
    assert!(checked.is_ok(), "{:?}", checked.err());
}

/// Every other source of headers is held to 64 (`check_headers`); a stored
/// queue item is checked header by header only, and replays with all of them.
#[test]
fn review17_a_stored_queue_item_over_the_header_limit_is_damaged() {
    let headers = (0..MAX_HEADERS + 36)
        .map(|i| (format!("X-H{i}"), "v".to_owned()))
        .collect();
    let item = StoredItem {
        id: Some(1.0),
        method: Some("POST".into()),
        path: Some("/api/test".into()),
        headers,
        data_json: Some("{}".into()),
        idempotency_key: Some("k-1".into()),
        user: None,
        queued_at: Some(1.0),
        attempts: Some(0.0),
        wrong: Vec::new(),
    };
    let checked = check_stored(vec![item]);
    assert_eq!(
        checked.items.len(),
        0,
        "restored with {} headers",
        checked.items.first().map_or(0, |m| m.headers.len())
    );
    assert_eq!(checked.damaged.len(), 1);
}
