//! JSON-patch updates (spec §1.8): Magnum's operation rules, applied with the `json-patch`
//! crate to the current representation, then diffed against it to find what changed.

use serde::Serialize;
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

impl Changes {
    /// The update mask naming every changed attribute (attribute names are the spec's
    /// field names).
    pub fn update_mask(&self) -> prost_types::FieldMask {
        prost_types::FieldMask {
            paths: self.changed.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    /// Refuses the changes of attributes other than `updatable` (the backend changes only
    /// those), naming them: "cannot change <argument> property(ies) a, b."
    pub fn only(&self, updatable: &[&str], argument: &str) -> Result<(), Error> {
        let refused: Vec<&str> = self
            .changed
            .iter()
            .copied()
            .filter(|name| !updatable.contains(name))
            .collect();
        if refused.is_empty() {
            return Ok(());
        }
        Err(Error::BadRequest(format!(
            "cannot change {argument} property(ies) {}.",
            refused.join(", ")
        )))
    }
}

/// The middle of every PATCH: applies `operations` to the current representation of an
/// object and diffs the result against it. `None` when the patch changes nothing, so
/// the current object is the answer and no update is sent.
pub fn plan<V: Serialize>(
    schema: &ResourceSchema,
    current: &V,
    operations: &[Operation],
) -> Result<Option<Changes>, Error> {
    let original = serde_json::to_value(current).map_err(|error| {
        Error::Internal(format!("cannot represent a {}: {error}", schema.argument))
    })?;
    let patched = apply(&original, operations)?;
    let changes = changes(schema, &original, &patched)?;
    Ok((!changes.changed.is_empty()).then_some(changes))
}

#[cfg(test)]
#[path = "patch_test.rs"]
mod tests;
