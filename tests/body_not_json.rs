//! A 2xx whose content type says JSON and whose body is not (cut off on the
//! way): a `service` failure, retried as a 502 would be, never a success.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use mp_request::core::engine::Command;
use mp_request::core::error::{ErrorKind, RequestError};
use mp_request::core::request::RawRequest;
use support::*;

fn run(request: RawRequest, outcomes: Vec<Outcome>) -> (Command, Vec<String>) {
    let mut e = engine(cloud_config(), 3);
    let mut d = Drive::new();
    let end = d.run(&mut e, request, &mut outcomes.into_iter(), 5.0);
    (end, d.log)
}

#[test]
fn a_get_with_a_cut_off_json_body_is_retried_and_then_succeeds() {
    let (end, log) = run(
        get("/api/list"),
        vec![Outcome::BodyNotJson, Outcome::Status(200)],
    );
    assert!(matches!(end, Command::Resolve(..)), "{end:?}");
    assert_eq!(log.iter().filter(|l| l.starts_with("send#")).count(), 2);
}

#[test]
fn a_post_without_a_key_is_not_repeated_and_fails_as_service() {
    let mut post = post("/api/order");
    post.data_json = Some("{}".into());
    let (end, log) = run(post, vec![Outcome::BodyNotJson]);
    let Command::Reject(settled, err) = end else {
        panic!("{end:?}")
    };
    assert_eq!(err.kind(), ErrorKind::Service);
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(200));
    assert_eq!(err, RequestError::BodyNotJson { status: 200 });
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    assert!(settled.note.contains("not retried"), "{}", settled.note);
    assert_eq!(log.iter().filter(|l| l.starts_with("send#")).count(), 1);
}

#[test]
fn a_keyed_post_is_repeated_with_its_key() {
    let mut post = post("/api/order");
    post.data_json = Some("{}".into());
    post.idempotency_key = Some("order-1".into());
    let (end, log) = run(post, vec![Outcome::BodyNotJson, Outcome::Status(201)]);
    assert!(matches!(end, Command::Resolve(..)), "{end:?}");
    assert_eq!(log.iter().filter(|l| l.starts_with("send#")).count(), 2);
}

#[test]
fn a_cut_off_body_is_never_cached() {
    let mut e = engine(cloud_config(), 3);
    let mut d = Drive::new();
    let retry_off = || RawRequest {
        retry: Some(mp_request::core::config::RawRetry::Disabled),
        ..get("/api/list")
    };
    let first = d.run(
        &mut e,
        retry_off(),
        &mut vec![Outcome::BodyNotJson].into_iter(),
        5.0,
    );
    assert!(matches!(first, Command::Reject(..)), "{first:?}");
    // The next identical GET goes to the network, not to a cached failure.
    let second = d.run(
        &mut e,
        retry_off(),
        &mut vec![Outcome::Status(200)].into_iter(),
        5.0,
    );
    assert!(matches!(second, Command::Resolve(..)), "{second:?}");
    assert_eq!(d.log.iter().filter(|l| l.starts_with("send#")).count(), 2);
}
