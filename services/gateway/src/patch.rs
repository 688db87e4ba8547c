//! JSON-patch updates (spec §1.8): Magnum's operation rules, applied with the `json-patch`
//! crate to the current representation, then diffed against it to find what changed.

use serde_json::Value;

use crate::attributes::{
    Access, AttributeType, AttributeValues, ResourceSchema, coerce, invalid_input, python_type,
};
use crate::error::Error;
use crate::python_literal;

/// The patch paths whose string values are Python literal dicts (what python-magnumclient
/// 2.x/4.x send for labels).
const LITERAL_DICT_PATHS: [&str; 2] = ["/labels", "/health_status_reason"];

/// The operations Magnum accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Replace => "replace",
            Self::Remove => "remove",
        }
    }
}

/// One operation that passed Magnum's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: String,
    /// Set for add and replace.
    pub value: Option<Value>,
}

/// Validates a patch document against the rules of `schema`'s resource.
pub fn parse(schema: &ResourceSchema, body: &Value) -> Result<Vec<Operation>, Error> {
    let Value::Array(items) = body else {
        return Err(invalid_input(
            "patch",
            body,
            &format!("Wrong type. Expected 'list', got '{}'", python_type(body)),
        ));
    };
    items.iter().map(|item| operation(schema, item)).collect()
}

fn operation(schema: &ResourceSchema, item: &Value) -> Result<Operation, Error> {
    let Value::Object(fields) = item else {
        return Err(invalid_input(
            "patch",
            item,
            &format!("Wrong type. Expected 'dict', got '{}'", python_type(item)),
        ));
    };
    let mut unknown: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|key| !matches!(*key, "op" | "path" | "value"))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(Error::BadRequest(format!(
            "Unknown attribute for argument patch: {}",
            unknown.join(", ")
        )));
    }

    let path = match fields.get("path") {
        None | Some(Value::Null) => {
            return Err(invalid_input(
                "path",
                &Value::Null,
                "Mandatory field missing.",
            ));
        }
        Some(Value::String(path)) if is_valid_path(path) => path.clone(),
        Some(other) => {
            return Err(invalid_input(
                "path",
                other,
                r"Value should match the pattern ^(/[\w-]+)+$",
            ));
        }
    };
    let op = match fields.get("op") {
        None | Some(Value::Null) => {
            return Err(invalid_input(
                "op",
                &Value::Null,
                "Mandatory field missing.",
            ));
        }
        Some(Value::String(op)) if op == "add" => Op::Add,
        Some(Value::String(op)) if op == "replace" => Op::Replace,
        Some(Value::String(op)) if op == "remove" => Op::Remove,
        Some(other) => {
            return Err(invalid_input(
                "op",
                other,
                "Value should be one of: add, replace, remove",
            ));
        }
    };
    let value = match fields.get("value") {
        None | Some(Value::Null) => None,
        Some(value @ (Value::String(_) | Value::Bool(_))) => Some(value.clone()),
        Some(Value::Number(number)) if !number.is_f64() => Some(Value::Number(number.clone())),
        Some(other) => {
            return Err(invalid_input(
                "value",
                other,
                &format!(
                    "Wrong type. Expected 'str | int', got '{}'",
                    python_type(other)
                ),
            ));
        }
    };

    if schema.is_internal_path(&path) {
        return Err(Error::BadRequest(format!(
            "'{path}' is an internal attribute and can not be updated"
        )));
    }
    if op == Op::Remove && schema.is_non_removable_path(&path) {
        return Err(Error::BadRequest(format!(
            "'{path}' is a mandatory attribute and can not be removed"
        )));
    }
    if op != Op::Remove && value.is_none() {
        return Err(Error::BadRequest(
            "'add' and 'replace' operations needs value".to_owned(),
        ));
    }
    let value = match value {
        Some(Value::String(text)) if LITERAL_DICT_PATHS.contains(&path.as_str()) => {
            let dict = python_literal::parse_dict(&text).map_err(|error| {
                invalid_input(
                    path.trim_start_matches('/'),
                    &Value::String(text.clone()),
                    &format!("The value must be a Python literal dict ({error})."),
                )
            })?;
            Some(Value::Object(dict))
        }
        // A remove ignores any value it was given.
        _ if op == Op::Remove => None,
        other => other,
    };
    Ok(Operation { op, path, value })
}

/// `^(/[\w-]+)+$`, with Python 3's Unicode `\w`.
fn is_valid_path(path: &str) -> bool {
    path.starts_with('/')
        && path[1..].split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
}

/// Applies `operations` to a representation. Adding a top-level attribute is allowed
/// only when it exists and is `null` (checked against the original, as Magnum does).
pub fn apply(document: &Value, operations: &[Operation]) -> Result<Value, Error> {
    for operation in operations {
        if operation.op != Op::Add {
            continue;
        }
        let Some(attribute) = operation.path.strip_prefix('/') else {
            continue;
        };
        if attribute.contains('/') {
            continue;
        }
        match document.get(attribute) {
            None => {
                return Err(Error::BadRequest(format!(
                    "Adding a new attribute {} to the root of the resource is not allowed.",
                    operation.path
                )));
            }
            Some(Value::Null) => {}
            Some(_) => {
                return Err(Error::BadRequest(format!(
                    "The attribute {} has existed, please use 'replace' operation instead.",
                    operation.path
                )));
            }
        }
    }

    let mut steps = Vec::with_capacity(operations.len());
    for operation in operations {
        // Valid paths contain no `~`, so they are valid JSON pointers as written.
        let path = json_patch::jsonptr::PointerBuf::parse(operation.path.clone())
            .map_err(|_| patch_error(operations, Some(operation)))?;
        let value = operation.value.clone().unwrap_or(Value::Null);
        steps.push(match operation.op {
            Op::Add => json_patch::PatchOperation::Add(json_patch::AddOperation { path, value }),
            Op::Replace => {
                json_patch::PatchOperation::Replace(json_patch::ReplaceOperation { path, value })
            }
            Op::Remove => json_patch::PatchOperation::Remove(json_patch::RemoveOperation { path }),
        });
    }
    // We work on a copy that is dropped on failure, so the undo-free variant is enough.
    let mut patched = document.clone();
    json_patch::patch_unsafe(&mut patched, &steps)
        .map_err(|error| patch_error(operations, operations.get(error.operation)))?;
    Ok(patched)
}

/// Magnum's "Couldn't apply patch" error, naming the operation that failed.
fn patch_error(operations: &[Operation], failed: Option<&Operation>) -> Error {
    let rendered: Vec<Value> = operations
        .iter()
        .map(|operation| {
            let mut object = serde_json::Map::new();
            object.insert("op".to_owned(), Value::from(operation.op.name()));
            object.insert("path".to_owned(), Value::from(operation.path.clone()));
            if let Some(value) = &operation.value {
                object.insert("value".to_owned(), value.clone());
            }
            Value::Object(object)
        })
        .collect();
    let reason = match failed {
        Some(Operation {
            op: Op::Add, path, ..
        }) => format!("can't add to non-existent object '{path}'"),
        Some(Operation { op, path, .. }) => {
            format!("can't {} non-existent object '{path}'", op.name())
        }
        None => "the patch does not fit the resource".to_owned(),
    };
    Error::BadRequest(format!(
        "Couldn't apply patch '{}'. Reason: {reason}",
        Value::Array(rendered)
    ))
}

/// What a patch changed: the new values of changed writable attributes (re-validated with
/// the create rules) and the names of every changed attribute. A changed attribute that
/// is absent from the values was removed (or set to null) and must be cleared.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    pub values: AttributeValues,
    pub changed: Vec<&'static str>,
}

/// Compares the patched representation with the original, attribute by attribute.
pub fn changes(
    schema: &ResourceSchema,
    original: &Value,
    patched: &Value,
) -> Result<Changes, Error> {
    let mut changes = Changes::default();
    for attribute in schema.attributes {
        // Read-only attributes are internal paths; derived ones are recomputed by the
        // server whatever the patch says.
        if attribute.access != Access::ReadWrite {
            continue;
        }
        let before = original.get(attribute.name).unwrap_or(&Value::Null);
        let after = patched.get(attribute.name).unwrap_or(&Value::Null);
        if before == after {
            continue;
        }
        // Clients that JSON-decode `name=123` send an integer for a string attribute.
        let after = match (attribute.kind, after) {
            (AttributeType::String, Value::Number(number)) if !number.is_f64() => {
                Value::String(number.to_string())
            }
            _ => after.clone(),
        };
        let new_value = coerce(attribute, &after)?;
        let old_value = coerce(attribute, before).ok().flatten();
        if new_value == old_value {
            continue;
        }
        changes.changed.push(attribute.name);
        if let Some(value) = new_value {
            changes.values.insert(attribute.name, value);
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
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
        let operation =
            parse_one(json!({"op": "remove", "path": "/name", "value": 1.5})).unwrap_err();
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
            bad_request(apply(&document(), &[add("/nope")])).contains(
                "Adding a new attribute /nope to the root of the resource is not allowed."
            )
        );
        assert!(
            bad_request(apply(&document(), &[add("/name")])).contains(
                "The attribute /name has existed, please use 'replace' operation instead."
            )
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
}
