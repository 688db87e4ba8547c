//! Unit tests of `attributes`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
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
    Attribute::read_only("created_at", AttributeType::Timestamp, ""),
];
const THING: ResourceSchema = ResourceSchema {
    argument: "thing",
    attributes: ATTRIBUTES,
    extra_internal_paths: &["/secret"],
    extra_non_removable_paths: &["/public"],
};

fn message(result: Result<AttributeValues, Error>) -> String {
    match result {
        Err(Error::BadRequest(message)) => message,
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[test]
fn parses_and_coerces() {
    let values = THING
        .parse_create(&json!({
            "coe": "swarm", "size": "3", "public": "Yes", "labels": {"a": "b"},
            "name": null, "distro": "ignored"
        }))
        .unwrap();
    assert_eq!(values.string("coe").as_deref(), Some("swarm"));
    assert_eq!(values.integer("size"), Some(3));
    assert_eq!(values.boolean("public"), Some(true));
    assert_eq!(
        values.string_map("labels"),
        Some(BTreeMap::from([("a".to_owned(), "b".to_owned())]))
    );
    assert!(values.get("name").is_none(), "null means absent");
    assert!(values.get("distro").is_none(), "derived input is dropped");
}

#[test]
fn unknown_attributes_are_listed() {
    assert_eq!(
        message(THING.parse_create(&json!({"coe": "x", "zz": 1, "aa": 2}))),
        "Unknown attribute for argument thing: aa, zz"
    );
}

#[test]
fn read_only_attributes_are_refused_even_as_null() {
    assert_eq!(
        message(THING.parse_create(&json!({"coe": "x", "links": null}))),
        "Invalid input for field/attribute links. Value: 'None'. Cannot set read only field."
    );
}

#[test]
fn mandatory_attributes_are_required_and_null_is_missing() {
    for body in [json!({}), json!({"coe": null})] {
        assert_eq!(
            message(THING.parse_create(&body)),
            "Invalid input for field/attribute coe. Value: 'None'. Mandatory field missing."
        );
    }
}

#[test]
fn body_must_be_an_object() {
    assert!(message(THING.parse_create(&json!([1]))).contains("Expected 'object'"));
}

#[test]
fn integer_rules() {
    let size = THING.attribute("size").unwrap();
    for (input, expected) in [
        (json!(5), Some(5)),
        (json!("5"), Some(5)),
        (json!(" -7 "), Some(-7)),
        (json!("+2"), Some(2)),
        (json!(3.0), Some(3)),
        (json!(3.5), None),
        (json!("3.0"), None),
        (json!("abc"), None),
        (json!(""), None),
        (json!(true), None),
        (json!(4_294_967_296_i64), None),
        (json!([1]), None),
    ] {
        let result = coerce(size, &input);
        match expected {
            Some(n) => assert_eq!(result.unwrap(), Some(AttributeValue::Integer(n)), "{input}"),
            None => assert!(result.is_err(), "{input}"),
        }
    }
}

#[test]
fn boolean_rules() {
    let public = THING.attribute("public").unwrap();
    for word in ["true", "TRUE", "yes", "on", "y", "t", "1"] {
        assert_eq!(
            coerce(public, &json!(word)).unwrap(),
            Some(AttributeValue::Boolean(true)),
            "{word}"
        );
    }
    for word in ["false", "No", "off", "n", "f", "0"] {
        assert_eq!(
            coerce(public, &json!(word)).unwrap(),
            Some(AttributeValue::Boolean(false)),
            "{word}"
        );
    }
    assert_eq!(
        coerce(public, &json!(1)).unwrap(),
        Some(AttributeValue::Boolean(true))
    );
    for bad in [json!("maybe"), json!(2), json!(""), json!({})] {
        assert!(coerce(public, &bad).is_err(), "{bad}");
    }
}

#[test]
fn string_and_map_rules() {
    let name = THING.attribute("name").unwrap();
    assert!(coerce(name, &json!(12)).is_err());
    let labels = THING.attribute("labels").unwrap();
    // python-magnumclient 1.1.0 may send list values.
    let error = coerce(labels, &json!({"a": ["b"]})).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid input for field/attribute labels. Value: '{'a': ['b']}'. \
         Wrong type. Expected an object whose values are all strings"
    );
    assert!(coerce(labels, &json!("a=b")).is_err());
    assert!(coerce(labels, &json!({"a": 1})).is_err());
}

#[test]
fn patch_path_rules() {
    assert!(THING.is_internal_path("/uuid"));
    assert!(THING.is_internal_path("/secret"));
    assert!(!THING.is_internal_path("/name"));
    assert!(THING.is_non_removable_path("/coe"));
    assert!(THING.is_non_removable_path("/public"));
    assert!(!THING.is_non_removable_path("/name"));
}

#[test]
fn input_schema_lists_writable_attributes() {
    let schema = serde_json::to_value(THING.input_schema()).unwrap();
    assert_eq!(schema["required"], json!(["coe"]));
    assert_eq!(schema["additionalProperties"], json!(false));
    assert!(schema["properties"]["distro"].is_object());
    assert!(schema["properties"].get("links").is_none());
}

#[test]
fn bounds_of_integers_and_strings() {
    const COUNT: Attribute = Attribute::optional("count", AttributeType::Integer, "").at_least(1);
    const NAME: Attribute = Attribute::optional("name", AttributeType::String, "").length(1, 3);
    const CSR: Attribute = Attribute::optional("csr", AttributeType::String, "").min_length(1);
    assert_eq!(
        coerce(&COUNT, &json!("2")).unwrap(),
        Some(AttributeValue::Integer(2))
    );
    let refused = |attribute: &Attribute, value: Value| match coerce(attribute, &value) {
        Err(Error::BadRequest(message)) => message,
        other => panic!("expected a 400, got {other:?}"),
    };
    assert_eq!(
        refused(&COUNT, json!("0")),
        "Invalid input for field/attribute count. Value: '0'. Value should be greater or \
         equal to 1"
    );
    assert_eq!(
        refused(&NAME, json!("")),
        "Invalid input for field/attribute name. Value: ''. Value should have a minimum \
         character requirement of 1"
    );
    assert!(refused(&NAME, json!("élan")).ends_with("maximum character requirement of 3"));
    assert_eq!(
        coerce(&NAME, &json!("été")).unwrap(),
        Some(AttributeValue::String("été".to_owned())),
        "lengths count characters"
    );
    assert!(coerce(&CSR, &json!("x".repeat(5000))).is_ok());
    assert!(refused(&CSR, json!("")).contains("minimum character requirement of 1"));
}

#[test]
fn represent_keeps_the_tables_attributes() {
    let view = json!({"uuid": "u", "coe": "swarm", "project_id": "p", "links": []});
    let represented = THING.represent(&view).unwrap();
    let mut keys: Vec<&str> = represented.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["coe", "links", "uuid"]);
    assert_eq!(pick(&view, ["uuid", "nope"]).len(), 1);
}
