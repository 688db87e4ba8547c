//! Declarative attribute tables and the WSME-compatible input rules of spec §1.3: unknown
//! and read-only attributes are refused, mandatory ones required, `null` means "not
//! given", integers may arrive as strings and booleans as words. Each resource declares
//! one [`ResourceSchema`]; create bodies, JSON-patch results and the OpenAPI input schema
//! all come from it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};

use crate::error::Error;

/// The JSON type of an attribute on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    String,
    /// A 32-bit signed integer (every count, size and port in the contracts); JSON
    /// strings of base-10 digits and integral floats are accepted.
    Integer,
    /// JSON booleans, and the words `true/false/yes/no/on/off/y/n/t/f/1/0`.
    Boolean,
    /// An object whose values are strings (`labels`).
    StringMap,
    /// Output only: a list of strings (addresses).
    StringList,
    /// Output only: a list of objects (a service's ports).
    ObjectList,
    /// Output only: a list of links.
    Links,
    /// Output only: an ISO 8601 timestamp with UTC offset.
    Timestamp,
}

/// Who may write an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Clients may set it.
    ReadWrite,
    /// Output only: sending it is refused, even as `null` ("Cannot set read only field.").
    ReadOnly,
    /// Output only, but accepted on input and ignored because the server derives it
    /// (Magnum overwrote it, e.g. `cluster_distro`).
    Derived,
}

/// One attribute of a resource representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    pub name: &'static str,
    pub kind: AttributeType,
    pub access: Access,
    /// Required on create; cannot be removed by a patch.
    pub mandatory: bool,
    /// For the OpenAPI document.
    pub description: &'static str,
    /// Integers: the smallest value accepted (WSME's `IntegerType(minimum=...)`).
    pub minimum: Option<i32>,
    /// Strings: the shortest and longest accepted, in characters (WSME's `StringType`).
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
}

impl Attribute {
    /// A client-settable, optional attribute.
    pub const fn optional(
        name: &'static str,
        kind: AttributeType,
        description: &'static str,
    ) -> Self {
        Self {
            name,
            kind,
            access: Access::ReadWrite,
            mandatory: false,
            description,
            minimum: None,
            min_length: None,
            max_length: None,
        }
    }

    /// A client-settable attribute that create requires.
    pub const fn mandatory(
        name: &'static str,
        kind: AttributeType,
        description: &'static str,
    ) -> Self {
        Self {
            mandatory: true,
            ..Self::optional(name, kind, description)
        }
    }

    /// An output-only attribute; input is refused.
    pub const fn read_only(
        name: &'static str,
        kind: AttributeType,
        description: &'static str,
    ) -> Self {
        Self {
            access: Access::ReadOnly,
            ..Self::optional(name, kind, description)
        }
    }

    /// An output-only attribute the server derives; input is accepted and ignored.
    pub const fn derived(
        name: &'static str,
        kind: AttributeType,
        description: &'static str,
    ) -> Self {
        Self {
            access: Access::Derived,
            ..Self::optional(name, kind, description)
        }
    }

    /// The same attribute, refusing integers below `minimum`.
    pub const fn at_least(self, minimum: i32) -> Self {
        Self {
            minimum: Some(minimum),
            ..self
        }
    }

    /// The same attribute, refusing strings shorter than `min` or longer than `max`
    /// characters.
    pub const fn length(self, min: usize, max: usize) -> Self {
        Self {
            max_length: Some(max),
            ..self.min_length(min)
        }
    }

    /// The same attribute, refusing strings shorter than `min` characters.
    pub const fn min_length(self, min: usize) -> Self {
        Self {
            min_length: Some(min),
            ..self
        }
    }
}

/// Paths no patch may touch, whatever the resource (Magnum's common internal set).
pub const COMMON_INTERNAL_PATHS: [&str; 7] = [
    "/created_at",
    "/id",
    "/links",
    "/updated_at",
    "/uuid",
    "/project_id",
    "/user_id",
];

/// The attribute table of one resource.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSchema {
    /// The body argument's name in messages ("Unknown attribute for argument baymodel").
    pub argument: &'static str,
    /// Every attribute of the representation, in output order.
    pub attributes: &'static [Attribute],
    /// Patch paths refused beyond [`COMMON_INTERNAL_PATHS`].
    pub extra_internal_paths: &'static [&'static str],
    /// Patch paths that cannot be removed beyond the mandatory attributes.
    pub extra_non_removable_paths: &'static [&'static str],
}

impl ResourceSchema {
    /// The attribute called `name`, if the resource has one.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// May a patch touch `path` at all?
    pub fn is_internal_path(&self, path: &str) -> bool {
        COMMON_INTERNAL_PATHS.contains(&path) || self.extra_internal_paths.contains(&path)
    }

    /// May a patch remove `path`?
    pub fn is_non_removable_path(&self, path: &str) -> bool {
        self.extra_non_removable_paths.contains(&path)
            || path
                .strip_prefix('/')
                .and_then(|name| self.attribute(name))
                .is_some_and(|a| a.mandatory)
    }

    /// The representation of an object under this table: the attributes of the table
    /// taken from `view` (a view may carry the fields of several versions' tables; a
    /// field the view leaves out stays out).
    pub fn represent<V: Serialize>(&self, view: &V) -> Result<Map<String, Value>, Error> {
        let value = serde_json::to_value(view).map_err(|error| {
            Error::Internal(format!("cannot represent a {}: {error}", self.argument))
        })?;
        Ok(pick(&value, self.attributes.iter().map(|a| a.name)))
    }

    /// Parses a create body. Absent and `null` attributes are left out of the result;
    /// derived attributes are dropped.
    pub fn parse_create(&self, body: &Value) -> Result<AttributeValues, Error> {
        let Value::Object(object) = body else {
            return Err(invalid_input(
                self.argument,
                body,
                &format!("Wrong type. Expected 'object', got '{}'", python_type(body)),
            ));
        };
        let mut unknown: Vec<&str> = object
            .keys()
            .map(String::as_str)
            .filter(|key| self.attribute(key).is_none())
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            return Err(Error::BadRequest(format!(
                "Unknown attribute for argument {}: {}",
                self.argument,
                unknown.join(", ")
            )));
        }
        let mut values = AttributeValues::default();
        for attribute in self.attributes {
            let given = object.get(attribute.name);
            match (attribute.access, given) {
                (Access::ReadOnly, Some(value)) => {
                    return Err(invalid_input(
                        attribute.name,
                        value,
                        "Cannot set read only field.",
                    ));
                }
                (Access::ReadWrite, Some(value)) => {
                    if let Some(parsed) = coerce(attribute, value)? {
                        values.0.insert(attribute.name, parsed);
                    }
                }
                _ => {}
            }
            if attribute.mandatory && !values.0.contains_key(attribute.name) {
                return Err(invalid_input(
                    attribute.name,
                    &Value::Null,
                    "Mandatory field missing.",
                ));
            }
        }
        Ok(values)
    }

    /// The OpenAPI schema of a create body: the writable attributes, mandatory ones
    /// required, nothing else allowed.
    pub fn input_schema(&self) -> Schema {
        let mut object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for attribute in self.attributes {
            if attribute.access == Access::ReadOnly {
                continue;
            }
            let mut description = attribute.description.to_owned();
            if attribute.access == Access::Derived {
                description.push_str(" Accepted and ignored on input: the server derives it.");
            }
            object = object.property(
                attribute.name,
                RefOr::T(value_schema(attribute, &description)),
            );
            if attribute.mandatory {
                object = object.required(attribute.name);
            }
        }
        Schema::Object(object.build())
    }
}

fn value_schema(attribute: &Attribute, description: &str) -> Schema {
    let builder = ObjectBuilder::new().description(Some(description));
    let builder = match attribute.kind {
        AttributeType::String => builder
            .schema_type(Type::String)
            .min_length(attribute.min_length)
            .max_length(attribute.max_length),
        AttributeType::Integer => builder
            .schema_type(utoipa::openapi::schema::SchemaType::Array(vec![
                Type::Integer,
                Type::String,
            ]))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(attribute.minimum),
        AttributeType::Boolean => {
            builder.schema_type(utoipa::openapi::schema::SchemaType::Array(vec![
                Type::Boolean,
                Type::String,
            ]))
        }
        AttributeType::StringMap => builder
            .schema_type(Type::Object)
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String))),
        AttributeType::StringList | AttributeType::ObjectList | AttributeType::Links => {
            builder.schema_type(Type::Array)
        }
        AttributeType::Timestamp => builder
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
    };
    Schema::Object(builder.build())
}

/// The fields called `names` of a JSON object (those it has), e.g. a list's summary set.
pub fn pick<'a>(object: &Value, names: impl IntoIterator<Item = &'a str>) -> Map<String, Value> {
    names
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), object.get(name)?.clone())))
        .collect()
}

/// A parsed attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    String(String),
    Integer(i32),
    Boolean(bool),
    StringMap(BTreeMap<String, String>),
}

/// Parsed attributes by name; an attribute that was absent or `null` is not here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeValues(BTreeMap<&'static str, AttributeValue>);

impl AttributeValues {
    /// Sets an attribute.
    pub fn insert(&mut self, name: &'static str, value: AttributeValue) {
        self.0.insert(name, value);
    }

    /// The value of an attribute that was given.
    pub fn get(&self, name: &str) -> Option<&AttributeValue> {
        self.0.get(name)
    }

    /// A string attribute (`None` when absent or of another type).
    pub fn string(&self, name: &str) -> Option<String> {
        match self.0.get(name) {
            Some(AttributeValue::String(value)) => Some(value.clone()),
            _ => None,
        }
    }

    /// A string given under `name` or its alias `alias` (either; both only when equal, 400
    /// otherwise); `None` when neither was given.
    pub fn aliased(&self, name: &str, alias: &str) -> Result<Option<String>, Error> {
        match (self.string(name), self.string(alias)) {
            (Some(first), Some(second)) if first != second => Err(Error::BadRequest(format!(
                "{name} {first} and {alias} {second} differ; give one of them."
            ))),
            (Some(value), _) | (None, Some(value)) => Ok(Some(value)),
            (None, None) => Ok(None),
        }
    }

    /// An integer attribute (`None` when absent or of another type).
    pub fn integer(&self, name: &str) -> Option<i32> {
        match self.0.get(name) {
            Some(AttributeValue::Integer(value)) => Some(*value),
            _ => None,
        }
    }

    /// A boolean attribute (`None` when absent or of another type).
    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.0.get(name) {
            Some(AttributeValue::Boolean(value)) => Some(*value),
            _ => None,
        }
    }

    /// A string-map attribute (`None` when absent or of another type).
    pub fn string_map(&self, name: &str) -> Option<BTreeMap<String, String>> {
        match self.0.get(name) {
            Some(AttributeValue::StringMap(value)) => Some(value.clone()),
            _ => None,
        }
    }
}

/// Applies the wire rules of `attribute`'s type to a JSON value; `null` is `None`.
pub fn coerce(attribute: &Attribute, value: &Value) -> Result<Option<AttributeValue>, Error> {
    if value.is_null() {
        return Ok(None);
    }
    let name = attribute.name;
    let parsed = match attribute.kind {
        AttributeType::String => match value {
            Value::String(text) => {
                check_length(attribute, value, text)?;
                AttributeValue::String(text.clone())
            }
            other => {
                return Err(invalid_input(
                    name,
                    other,
                    &format!("Wrong type. Expected 'str', got '{}'", python_type(other)),
                ));
            }
        },
        AttributeType::Integer => {
            let number = integer(value)
                .ok_or_else(|| invalid_input(name, value, "Value should be an integer"))?;
            if let Some(minimum) = attribute.minimum
                && number < minimum
            {
                return Err(invalid_input(
                    name,
                    value,
                    &format!("Value should be greater or equal to {minimum}"),
                ));
            }
            AttributeValue::Integer(number)
        }
        AttributeType::Boolean => AttributeValue::Boolean(boolean(value).ok_or_else(|| {
            invalid_input(
                name,
                value,
                &format!(
                    "Unrecognized value '{}', acceptable values are: '0', '1', 'f', 'false', \
                     'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
                    python_str(value)
                ),
            )
        })?),
        AttributeType::StringMap => {
            let map = match value {
                Value::Object(object) => object
                    .iter()
                    .map(|(key, value)| match value {
                        Value::String(text) => Some((key.clone(), text.clone())),
                        _ => None,
                    })
                    .collect::<Option<BTreeMap<_, _>>>(),
                _ => None,
            };
            AttributeValue::StringMap(map.ok_or_else(|| {
                invalid_input(
                    name,
                    value,
                    "Wrong type. Expected an object whose values are all strings",
                )
            })?)
        }
        AttributeType::StringList
        | AttributeType::ObjectList
        | AttributeType::Links
        | AttributeType::Timestamp => {
            return Err(invalid_input(name, value, "Cannot set read only field."));
        }
    };
    Ok(Some(parsed))
}

/// WSME's `StringType` length rule, in characters.
fn check_length(attribute: &Attribute, value: &Value, text: &str) -> Result<(), Error> {
    if attribute.min_length.is_none() && attribute.max_length.is_none() {
        return Ok(());
    }
    let length = text.chars().count();
    let reason = match (attribute.min_length, attribute.max_length) {
        (Some(min), _) if length < min => {
            format!("Value should have a minimum character requirement of {min}")
        }
        (_, Some(max)) if length > max => {
            format!("Value should have a maximum character requirement of {max}")
        }
        _ => return Ok(()),
    };
    Err(invalid_input(attribute.name, value, &reason))
}

/// JSON integers, integral floats and base-10 strings, within 32 bits.
fn integer(value: &Value) -> Option<i32> {
    let wide: i64 = match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        })?,
        Value::String(text) => {
            let text = text.trim();
            let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            text.parse().ok()?
        }
        _ => return None,
    };
    i32::try_from(wide).ok()
}

/// oslo's strict `bool_from_string`: booleans, the usual words, and 0/1.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "on" | "y" | "yes" => Some(true),
            "0" | "f" | "false" | "off" | "n" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// WSME's "Invalid input for field/attribute <f>. Value: '<v>'. <reason>".
pub fn invalid_input(field: &str, value: &Value, reason: &str) -> Error {
    Error::BadRequest(format!(
        "Invalid input for field/attribute {field}. Value: '{}'. {reason}",
        python_str(value)
    ))
}

/// A value as Python's `str()` shows it, so messages read like Magnum's.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => python_repr(other),
    }
}

fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(object) => format!(
            "{{{}}}",
            object
                .iter()
                .map(|(key, value)| format!(
                    "{}: {}",
                    python_repr(&Value::String(key.clone())),
                    python_repr(value)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's name for a JSON value's type, for "Wrong type" messages.
pub fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
#[path = "attributes_test.rs"]
mod tests;
