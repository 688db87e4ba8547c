//! Unit tests of `jetstream`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn headers_carry_the_id() {
    let message = Message::new("magnum.ops.x", "p").with_header("traceparent", "00-abc");
    let headers = header_map(&message).unwrap();
    assert_eq!(
        headers.get(MSG_ID).map(HeaderValue::as_str),
        Some(message.id.as_str())
    );
    assert_eq!(
        headers.get("traceparent").map(HeaderValue::as_str),
        Some("00-abc")
    );
}
