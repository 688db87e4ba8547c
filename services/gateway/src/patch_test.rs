//! Unit tests of `patch`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::attributes::{Attribute, AttributeValue};
use serde_json::json;

const ATTRIBUTES: &[Attribute] = &[
    Attribute::optional("uuid", AttributeType::String, ""),
    Attribute::optional("name", AttributeType::String, ""),
    Attribute::mandatory("coe", AttributeType::String, ""),
    Attribute::optional("size", AttributeType::Integer, ""),
    Attribute::optional("public", AttributeType::Boolean, ""),
    Attribute::optional("labels", AttributeType::StringMap, ""),
    Attribute::derived("distro", AttributeType::String, ""),
    Attribute::read_only("links", AttributeType::Links, ""),
];
const THING: ResourceSchema = ResourceSchema {
    argument: "thing",
    attributes: ATTRIBUTES,
    extra_internal_paths: &[],
    extra_non_removable_paths: &[],
};

fn document() -> Value {
    json!({
        "uuid": "u1", "name": "n", "coe": "swarm", "size": null, "public": false,
        "labels": {"a": "1"}, "distro": "fedora", "links": []
    })
}

fn parse_one(item: Value) -> Result<Operation, Error> {
    parse(&THING, &json!([item])).map(|mut ops| ops.remove(0))
}

fn bad_request(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::BadRequest(message)) => message,
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[test]
fn operation_rules() {
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"op": "move", "path": "/name", "value": "x"}),
            "Value should be one of",
        ),
        (
            json!({"op": "test", "path": "/name", "value": "x"}),
            "Value should be one of",
        ),
        (
            json!({"path": "/name", "value": "x"}),
            "field/attribute op. Value: 'None'. Mandatory",
        ),
        (
            json!({"op": "add", "value": "x"}),
            "field/attribute path. Value: 'None'. Mandatory",
        ),
        (
            json!({"op": "add", "path": "name", "value": "x"}),
            "should match the pattern",
        ),
        (
            json!({"op": "add", "path": "/na me", "value": "x"}),
            "should match the pattern",
        ),
        (
            json!({"op": "add", "path": "/name/", "value": "x"}),
            "should match the pattern",
        ),
        (
            json!({"op": "add", "path": "/a~1b", "value": "x"}),
            "should match the pattern",
        ),
        (
            json!({"op": "replace", "path": "/size", "value": 3.0}),
            "Expected 'str | int', got 'float'",
        ),
        (
            json!({"op": "replace", "path": "/labels", "value": {"a": "b"}}),
            "got 'dict'",
        ),
        (
            json!({"op": "replace", "path": "/name", "value": ["x"]}),
            "got 'list'",
        ),
        (
            json!({"op": "replace", "path": "/name"}),
            "'add' and 'replace' operations needs value",
        ),
        (
            json!({"op": "add", "path": "/name", "value": null}),
            "needs value",
        ),
        (
            json!({"op": "replace", "path": "/uuid", "value": "x"}),
            "'/uuid' is an internal attribute and can not be updated",
        ),
        (
            json!({"op": "remove", "path": "/links"}),
            "'/links' is an internal attribute",
        ),
        (
            json!({"op": "remove", "path": "/project_id"}),
            "internal attribute",
        ),
        (
            json!({"op": "remove", "path": "/coe"}),
            "'/coe' is a mandatory attribute and can not be removed",
        ),
        (
            json!({"op": "add", "path": "/name", "value": "x", "from": "/a"}),
            "Unknown attribute for argument patch: from",
        ),
        (
            json!({"op": "replace", "path": "/labels", "value": "a=b"}),
            "Python literal dict",
        ),
    ];
    for (item, expected) in cases {
        let message = bad_request(parse_one(item.clone()));
        assert!(message.contains(expected), "{item}: {message}");
    }
    assert!(bad_request(parse(&THING, &json!({"op": "add"}))).contains("Expected 'list'"));
    assert!(bad_request(parse(&THING, &json!(["x"]))).contains("Expected 'dict'"));
}

#[test]
fn accepted_values() {
    for value in [json!("s"), json!(7), json!(true), json!(0), json!("")] {
        let operation =
            parse_one(json!({"op": "replace", "path": "/name", "value": value})).unwrap();
        assert_eq!(operation.value, Some(value));
    }
    let operation = parse_one(json!({"op": "remove", "path": "/name", "value": 1.5})).unwrap_err();
    // Liberty-era WSME types the value before looking at the op.
    assert!(operation.to_string().contains("float"));
    let unicode = parse_one(json!({"op": "remove", "path": "/labels/clé-1"})).unwrap();
    assert_eq!(unicode.path, "/labels/clé-1");
}

#[test]
fn labels_strings_are_python_literals() {
    let operation = parse_one(json!({
        "op": "replace", "path": "/labels", "value": "{'k8s_version': 'v1.2', 'x': '1'}"
    }))
    .unwrap();
    assert_eq!(
        operation.value,
        Some(json!({"k8s_version": "v1.2", "x": "1"}))
    );
    // Only the whole-labels path is a literal; a single label stays a string.
    let single =
        parse_one(json!({"op": "add", "path": "/labels/k", "value": "{'a': 'b'}"})).unwrap();
    assert_eq!(single.value, Some(json!("{'a': 'b'}")));
}

#[test]
fn add_rules_on_top_level_attributes() {
    let add = |path: &str| Operation {
        op: Op::Add,
        path: path.to_owned(),
        value: Some(json!("v")),
    };
    assert!(
        bad_request(apply(&document(), &[add("/nope")]))
            .contains("Adding a new attribute /nope to the root of the resource is not allowed.")
    );
    assert!(
        bad_request(apply(&document(), &[add("/name")]))
            .contains("The attribute /name has existed, please use 'replace' operation instead.")
    );
    let patched = apply(&document(), &[add("/size")]).unwrap();
    assert_eq!(patched["size"], json!("v"));
    let patched = apply(&document(), &[add("/labels/b")]).unwrap();
    assert_eq!(patched["labels"], json!({"a": "1", "b": "v"}));
}

#[test]
fn replace_and_remove_need_existing_targets() {
    let message = bad_request(apply(
        &document(),
        &[Operation {
            op: Op::Replace,
            path: "/nope".to_owned(),
            value: Some(json!(1)),
        }],
    ));
    assert!(message.starts_with("Couldn't apply patch '[{"), "{message}");
    assert!(message.ends_with("Reason: can't replace non-existent object '/nope'"));
    let message = bad_request(apply(
        &document(),
        &[Operation {
            op: Op::Remove,
            path: "/labels/zz".to_owned(),
            value: None,
        }],
    ));
    assert!(message.contains("can't remove non-existent object '/labels/zz'"));
}

#[test]
fn changes_are_diffed_and_revalidated() {
    let original = document();
    let operations = parse(
        &THING,
        &json!([
            {"op": "replace", "path": "/name", "value": 42},
            {"op": "add", "path": "/size", "value": "5"},
            {"op": "replace", "path": "/public", "value": "no"},
            {"op": "remove", "path": "/labels"},
            {"op": "replace", "path": "/distro", "value": "ignored"},
        ]),
    )
    .unwrap();
    let patched = apply(&original, &operations).unwrap();
    let changes = changes(&THING, &original, &patched).unwrap();
    assert_eq!(changes.changed, vec!["name", "size", "labels"]);
    assert_eq!(
        changes.values.get("name"),
        Some(&AttributeValue::String("42".to_owned()))
    );
    assert_eq!(
        changes.values.get("size"),
        Some(&AttributeValue::Integer(5))
    );
    assert!(
        changes.values.get("labels").is_none(),
        "removed means cleared"
    );
}

#[test]
fn changes_refuse_bad_types() {
    let original = document();
    let operations = parse(
        &THING,
        &json!([{"op": "replace", "path": "/size", "value": "big"}]),
    )
    .unwrap();
    let patched = apply(&original, &operations).unwrap();
    assert!(bad_request(changes(&THING, &original, &patched)).contains("field/attribute size"));
    let operations = parse(
        &THING,
        &json!([{"op": "replace", "path": "/labels", "value": "{'a': 1}"}]),
    )
    .unwrap();
    let patched = apply(&original, &operations).unwrap();
    assert!(bad_request(changes(&THING, &original, &patched)).contains("labels"));
}

#[test]
fn a_patch_that_changes_nothing_has_no_changes() {
    let original = document();
    let operations = parse(
        &THING,
        &json!([{"op": "replace", "path": "/name", "value": "n"},
                {"op": "replace", "path": "/public", "value": "false"}]),
    )
    .unwrap();
    let patched = apply(&original, &operations).unwrap();
    assert_eq!(
        changes(&THING, &original, &patched).unwrap(),
        Changes::default()
    );
}
