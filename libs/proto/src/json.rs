//! `google.protobuf.Struct`/`Value` to and from JSON values, for fields that carry
//! free-form documents (a Kubernetes service's ports).

use prost_types::value::Kind;
use prost_types::{ListValue, Struct, Value};

/// A JSON value as a protobuf `Value` (numbers become doubles, as in protobuf's JSON).
pub fn to_value(json: &serde_json::Value) -> Value {
    let kind = match json {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(flag) => Kind::BoolValue(*flag),
        serde_json::Value::Number(number) => Kind::NumberValue(number.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(text) => Kind::StringValue(text.clone()),
        serde_json::Value::Array(items) => Kind::ListValue(ListValue {
            values: items.iter().map(to_value).collect(),
        }),
        serde_json::Value::Object(fields) => Kind::StructValue(to_struct(fields)),
    };
    Value { kind: Some(kind) }
}

/// A JSON object as a protobuf `Struct`.
pub fn to_struct(fields: &serde_json::Map<String, serde_json::Value>) -> Struct {
    Struct {
        fields: fields
            .iter()
            .map(|(name, value)| (name.clone(), to_value(value)))
            .collect(),
    }
}

/// A protobuf `Value` as JSON; whole numbers come back as integers.
pub fn from_value(value: &Value) -> serde_json::Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(flag)) => serde_json::Value::Bool(*flag),
        Some(Kind::NumberValue(number)) => number_json(*number),
        Some(Kind::StringValue(text)) => serde_json::Value::String(text.clone()),
        Some(Kind::ListValue(list)) => {
            serde_json::Value::Array(list.values.iter().map(from_value).collect())
        }
        Some(Kind::StructValue(fields)) => from_struct(fields),
    }
}

/// A protobuf `Struct` as a JSON object.
pub fn from_struct(fields: &Struct) -> serde_json::Value {
    serde_json::Value::Object(
        fields
            .fields
            .iter()
            .map(|(name, value)| (name.clone(), from_value(value)))
            .collect(),
    )
}

fn number_json(number: f64) -> serde_json::Value {
    // Ports and counts are integers; protobuf carries every number as a double.
    #[allow(clippy::cast_possible_truncation)]
    let whole = number as i64;
    #[allow(clippy::cast_precision_loss)]
    if number.fract() == 0.0 && (whole as f64) == number {
        return serde_json::Value::from(whole);
    }
    serde_json::Number::from_f64(number).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_with_integers_kept() {
        let json = serde_json::json!({
            "port": 88, "targetPort": 6379, "protocol": "TCP",
            "weight": 0.5, "tags": ["a", null, true], "nested": {"n": -3}
        });
        let object = json.as_object().cloned().unwrap_or_default();
        assert_eq!(from_struct(&to_struct(&object)), json);
    }
}
