//! Query strings: parsed once, the last of repeated parameters wins, unknown parameters
//! are ignored by whoever reads them.

use axum::http::Uri;
use serde_json::Value;

use crate::attributes::{Attribute, AttributeValue, coerce};
use crate::error::Error;

/// The decoded `(name, value)` pairs of a request's query string, in order.
pub fn pairs(uri: &Uri) -> Result<Vec<(String, String)>, Error> {
    let Some(query) = uri.query() else {
        return Ok(Vec::new());
    };
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| Error::BadRequest(format!("The query string {query:?} is not valid.")))
}

/// The value of parameter `name` (the last one when repeated), if given.
pub fn value(uri: &Uri, name: &str) -> Result<Option<String>, Error> {
    Ok(pairs(uri)?
        .into_iter()
        .rev()
        .find_map(|(key, value)| (key == name).then_some(value)))
}

/// A boolean parameter declared as `parameter` (oslo's words: true/false, yes/no, 1/0
/// ...; 400 when it is not one), if given.
pub fn boolean(uri: &Uri, parameter: &Attribute) -> Result<Option<bool>, Error> {
    let Some(text) = value(uri, parameter.name)? else {
        return Ok(None);
    };
    Ok(match coerce(parameter, &Value::String(text))? {
        Some(AttributeValue::Boolean(flag)) => Some(flag),
        _ => None,
    })
}
