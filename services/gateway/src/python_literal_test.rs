//! Unit tests of `python_literal`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use serde_json::json;

fn parse(text: &str) -> Value {
    Value::Object(parse_dict(text).unwrap_or_else(|e| panic!("{text}: {e}")))
}

#[test]
fn what_the_clients_send() {
    assert_eq!(
        parse("{'k8s_version': 'v1.2', 'x': '1'}"),
        json!({"k8s_version": "v1.2", "x": "1"})
    );
    assert_eq!(parse("{u'a': u'b'}"), json!({"a": "b"}));
    assert_eq!(parse("{}"), json!({}));
    assert_eq!(parse("  { \"a\" : \"b\" , }  "), json!({"a": "b"}));
}

#[test]
fn scalars() {
    assert_eq!(
        parse(
            "{'i': 1, 'n': -2, 'p': +3, 'f': 1.5, 'e': 1e3, 'h': 0x1F, 't': True, 'F': False, 'z': None}"
        ),
        json!({"i": 1, "n": -2, "p": 3, "f": 1.5, "e": 1000.0, "h": 31, "t": true, "F": false, "z": null})
    );
    assert_eq!(parse("{'big': 1_000}"), json!({"big": 1000}));
    assert_eq!(parse("{'neg': -1.5e-2}"), json!({"neg": -0.015}));
}

#[test]
fn string_escapes_and_prefixes() {
    assert_eq!(
        parse(
            r#"{'q': 'it\'s', 'd': "say \"hi\"", 'n': 'a\nb', 'x': '\x41\u00e9\U0001F600', 'o': '\101'}"#
        ),
        json!({"q": "it's", "d": "say \"hi\"", "n": "a\nb", "x": "Aé😀", "o": "A"})
    );
    assert_eq!(
        parse(r"{'r': r'a\nb', 'k': 'a\db'}"),
        json!({"r": "a\\nb", "k": "a\\db"})
    );
    assert_eq!(parse("{'a': 'b' 'c'}"), json!({"a": "bc"}));
    assert_eq!(parse("{'ü': 'ñ'}"), json!({"ü": "ñ"}));
}

#[test]
fn later_duplicates_win() {
    assert_eq!(parse("{'a': '1', 'a': '2'}"), json!({"a": "2"}));
}

#[test]
fn rejects_what_is_not_a_flat_literal_dict() {
    for text in [
        "",
        "[1]",
        "'a'",
        "{'a': 'b'",
        "{'a' 'b'}",
        "{'a': [1]}",
        "{'a': {'b': 'c'}}",
        "{1: 'a'}",
        "{'a': open('x')}",
        "{'a': 'b'} extra",
        "{'a': 'unterminated}",
        "{'a': b'bytes'}",
        "{'a': 1j}",
        "{'a': 1.2.3}",
        "{'a': '\\x4'}",
        "{'a': 99999999999999999999}",
        "{'a': true}",
    ] {
        assert!(parse_dict(text).is_err(), "accepted {text:?}");
    }
}
