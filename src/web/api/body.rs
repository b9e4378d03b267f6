//! Request bodies: one JSON object whose fields are all optional (so absence is judged by the
//! domain, with its own codes) and `deny_unknown_fields`. When serde refuses the object, each
//! field is tried alone to name the culprit: an unknown field, or a value of the wrong type
//! (an amount sent as `15.5` or `"15.00"` is refused, never rounded).

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::domain::text::has_control;

pub fn parse<T: DeserializeOwned>(body: &[u8], empty_allowed: bool) -> Result<T, ApiError> {
    let value: Value = if empty_allowed && body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|_| ApiError::InvalidJson)?
    };
    let Value::Object(fields) = &value else { return Err(ApiError::InvalidJson) };
    if let Some(key) = fields.iter().find(|(_, v)| holds_control(v)).map(|(k, _)| k) {
        return Err(ApiError::ControlCharacter(key.clone()));
    }
    if let Ok(parsed) = serde_json::from_value::<T>(value.clone()) {
        return Ok(parsed);
    }
    let alone = |key: &str, v: Value| Value::Object(Map::from_iter([(key.to_string(), v)]));
    for (key, v) in fields {
        if serde_json::from_value::<T>(alone(key, Value::Null)).is_err() {
            return Err(ApiError::UnknownField(key.clone()));
        }
        if serde_json::from_value::<T>(alone(key, v.clone())).is_err() {
            return Err(ApiError::InvalidType(key.clone()));
        }
    }
    Err(ApiError::InvalidJson)
}

/// A string anywhere in `v` holds a control character (a NUL byte cannot even be stored).
fn holds_control(v: &Value) -> bool {
    match v {
        Value::String(s) => has_control(s),
        Value::Array(items) => items.iter().any(holds_control),
        Value::Object(fields) => fields.iter().any(|(k, v)| has_control(k) || holds_control(v)),
        _ => false,
    }
}

/// For `Option<Option<T>>` fields: absent is `None`, `null` is `Some(None)`.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Page sizes of every API list: 1 to 200, default 50.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A list's `limit`, or the default with a refusal noted next to `limit`.
pub fn page_limit(raw: Option<&str>, errors: &mut Vec<crate::domain::FieldError>) -> i64 {
    match raw {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(crate::domain::FieldError::new("limit", "limit.invalid"));
                DEFAULT_LIMIT
            }
        },
    }
}

/// A query string as (name, value) pairs, for lists that refuse unknown parameters.
pub fn query_pairs(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw).map_err(|_| ApiError::BadRequest("invalid_query"))?;
    match pairs.iter().find(|(k, v)| has_control(k) || has_control(v)) {
        Some((k, _)) => Err(ApiError::ControlCharacter(k.clone())),
        None => Ok(pairs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        amount: Option<i64>,
        name: Option<String>,
        #[serde(default, deserialize_with = "present")]
        reference: Option<Option<String>>,
    }

    fn code(r: Result<Sample, ApiError>) -> (&'static str, String) {
        match r.unwrap_err() {
            e @ (ApiError::UnknownField(_) | ApiError::InvalidType(_) | ApiError::ControlCharacter(_)) => {
                let field = match &e {
                    ApiError::UnknownField(f) | ApiError::InvalidType(f) | ApiError::ControlCharacter(f) => f.clone(),
                    _ => unreachable!(),
                };
                (e.code(), field)
            }
            e => (e.code(), String::new()),
        }
    }

    #[test]
    fn the_field_at_fault_is_named() {
        let ok: Sample = parse(br#"{"amount": 1500, "name": "x"}"#, false).unwrap();
        assert_eq!(ok.amount, Some(1500));
        assert_eq!(ok.reference, None);
        let cleared: Sample = parse(br#"{"reference": null}"#, false).unwrap();
        assert_eq!(cleared.reference, Some(None));
        assert_eq!(code(parse(br#"{"amount": 15.5}"#, false)), ("amount.not_integer", "amount".into()));
        assert_eq!(code(parse(br#"{"amount": "15.00"}"#, false)), ("amount.not_integer", "amount".into()));
        assert_eq!(code(parse(br#"{"amount": 1500.0}"#, false)), ("amount.not_integer", "amount".into()));
        assert_eq!(code(parse(br#"{"name": 3}"#, false)), ("invalid_type", "name".into()));
        assert_eq!(code(parse(br#"{"amount": 1, "colour": "red"}"#, false)), ("unknown_field", "colour".into()));
        assert_eq!(code(parse(br#"[1]"#, false)).0, "invalid_json");
        assert_eq!(code(parse(br#"{"amount": 1"#, false)).0, "invalid_json");
        assert_eq!(code(parse(b"", false)).0, "invalid_json");
        assert!(parse::<Sample>(b" ", true).is_ok());
        assert_eq!(code(parse(br#"{"name": "a\u0000b"}"#, false)), ("field.control_character", "name".into()));
        assert_eq!(query_pairs("reference=a%00b").unwrap_err().code(), "field.control_character");
    }
}
