//! A small validator for Kubernetes structural schemas (the `openAPIV3Schema` of a CRD version), enough to
//! check rendered custom resources the way an API server would — and stricter in one way that matters: a
//! field the schema does not declare is reported as an error, because the API server would silently prune
//! it and the portal would believe it had set something it had not.
//!
//! Supported: `type` (object, array, string, integer, number, boolean), `required`, `properties`,
//! `additionalProperties` (schema or boolean), `items`, `enum`, `anyOf`, `nullable`, `pattern` (unanchored,
//! as in Kubernetes), `minLength`/`maxLength`, `minimum`/`maximum`, `minItems`/`maxItems`, formats `int32`,
//! `int64`, `date-time`, `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields` and list-map
//! key uniqueness (`x-kubernetes-list-type: map`). At the root, `metadata` is only checked for `name` and
//! `namespace` being strings and `labels`/`annotations` being string maps.

use serde_json::{Map, Value};

/// Validates a whole object (with `apiVersion`, `kind`, `metadata`) against a CRD version's root schema.
/// Returns one message per problem, each starting with the path of the offending value.
pub fn validate_object(schema: &Value, object: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(fields) = object.as_object() else {
        return vec!["<root>: must be an object".to_owned()];
    };
    for key in ["apiVersion", "kind"] {
        if !fields.get(key).is_some_and(Value::is_string) {
            errors.push(format!("{key}: must be a string"));
        }
    }
    match fields.get("metadata") {
        Some(metadata) => check_metadata(metadata, &mut errors),
        None => errors.push("metadata: is required".to_owned()),
    }
    let mut rest = fields.clone();
    rest.remove("metadata");
    check(schema, &Value::Object(rest), "", &mut errors);
    errors
}

/// Validates `value` against `schema`, appending messages prefixed with `path`.
pub fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let at = |p: &str| {
        if p.is_empty() {
            "<root>".to_owned()
        } else {
            p.to_owned()
        }
    };
    if value.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) {
            errors.push(format!("{}: null is not allowed", at(path)));
        }
        return;
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        if !(is_integer(value) || value.is_string()) {
            errors.push(format!("{}: must be an integer or a string", at(path)));
        }
        check_string_rules(schema, value, path, errors);
        return;
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let matches_one = branches.iter().any(|branch| {
            let mut branch_errors = Vec::new();
            check(branch, value, path, &mut branch_errors);
            branch_errors.is_empty()
        });
        if !matches_one {
            errors.push(format!("{}: matches none of the anyOf schemas", at(path)));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        errors.push(format!(
            "{}: {value} is not one of {}",
            at(path),
            Value::Array(allowed.clone())
        ));
    }
    let Some(expected) = schema.get("type").and_then(Value::as_str) else {
        return;
    };
    let type_matches = match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => is_integer(value),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        other => {
            errors.push(format!("{}: unsupported schema type {other}", at(path)));
            return;
        }
    };
    if !type_matches {
        let article = if expected.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        errors.push(format!("{}: must be {article} {expected}", at(path)));
        return;
    }
    if let Some(fields) = value.as_object() {
        check_object(schema, fields, path, errors);
    } else if let Some(items) = value.as_array() {
        check_array(schema, items, path, errors);
    } else if value.is_string() {
        check_string_rules(schema, value, path, errors);
    } else if value.is_number() {
        check_number_rules(schema, value, path, errors);
    }
}

fn check_object(schema: &Value, fields: &Map<String, Value>, path: &str, errors: &mut Vec<String>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    for key in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(key) = key.as_str()
            && !fields.contains_key(key)
        {
            errors.push(format!("{}: is required", join(key)));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    let preserve_unknown = flag(schema, "x-kubernetes-preserve-unknown-fields");
    for (key, value) in fields {
        if let Some(property) = properties.and_then(|p| p.get(key)) {
            check(property, value, &join(key), errors);
        } else if let Some(additional @ Value::Object(_)) = additional {
            check(additional, value, &join(key), errors);
        } else if additional == Some(&Value::Bool(true)) || preserve_unknown {
            // Anything goes below an open object.
        } else {
            errors.push(format!(
                "{}: unknown field (not in the schema; the API server would prune it)",
                join(key)
            ));
        }
    }
}

fn check_array(schema: &Value, items: &[Value], path: &str, errors: &mut Vec<String>) {
    let at = if path.is_empty() { "<root>" } else { path };
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && (items.len() as u64) < min
    {
        errors.push(format!("{at}: must have at least {min} items"));
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && (items.len() as u64) > max
    {
        errors.push(format!("{at}: must have at most {max} items"));
    }
    if let Some(item_schema) = schema.get("items") {
        for (index, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{path}[{index}]"), errors);
        }
    }
    if schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") {
        let keys: Vec<&str> = schema
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut seen = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let identity: Vec<Option<&Value>> = keys.iter().map(|k| item.get(*k)).collect();
            if seen.contains(&identity) {
                errors.push(format!("{path}[{index}]: duplicate list-map key {keys:?}"));
            }
            seen.push(identity);
        }
    }
}

fn check_string_rules(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(text) = value.as_str() else { return };
    let length = text.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        errors.push(format!("{path}: longer than {max} characters"));
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        errors.push(format!("{path}: shorter than {min} characters"));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(pattern) {
            Ok(re) if re.is_match(text) => {}
            Ok(_) => errors.push(format!("{path}: {text:?} does not match /{pattern}/")),
            Err(e) => errors.push(format!(
                "{path}: schema pattern /{pattern}/ does not compile: {e}"
            )),
        }
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && chrono::DateTime::parse_from_rfc3339(text).is_err()
    {
        errors.push(format!("{path}: {text:?} is not an RFC 3339 date-time"));
    }
}

fn check_number_rules(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(number) = value.as_f64() else { return };
    if schema.get("format").and_then(Value::as_str) == Some("int32")
        && value.as_i64().is_none_or(|n| i32::try_from(n).is_err())
    {
        errors.push(format!("{path}: {value} does not fit in int32"));
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && number < min
    {
        errors.push(format!("{path}: {value} is less than {min}"));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && number > max
    {
        errors.push(format!("{path}: {value} is more than {max}"));
    }
}

fn check_metadata(metadata: &Value, errors: &mut Vec<String>) {
    let Some(fields) = metadata.as_object() else {
        errors.push("metadata: must be an object".to_owned());
        return;
    };
    for key in ["name", "namespace"] {
        if let Some(value) = fields.get(key)
            && !value.is_string()
        {
            errors.push(format!("metadata.{key}: must be a string"));
        }
    }
    for key in ["labels", "annotations"] {
        match fields.get(key) {
            None => {}
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    if !v.is_string() {
                        errors.push(format!("metadata.{key}.{k}: must be a string"));
                    }
                }
            }
            Some(_) => errors.push(format!("metadata.{key}: must be a map of strings")),
        }
    }
}

fn flag(schema: &Value, name: &str) -> bool {
    schema.get(name) == Some(&Value::Bool(true))
}

fn is_integer(value: &Value) -> bool {
    value.is_i64() || value.is_u64()
}

#[cfg(test)]
mod tests {
    //! The validator's own tests, on small inline schemas (they run even without the ECK CRDs).

    use super::*;
    use serde_json::json;

    fn errors(schema: Value, value: Value) -> Vec<String> {
        let mut errors = Vec::new();
        check(&schema, &value, "", &mut errors);
        errors
    }

    fn object_schema() -> Value {
        json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "maxLength": 5, "pattern": "[a-z]+"},
                "count": {"type": "integer", "format": "int32", "minimum": 0},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "size": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true,
                         "pattern": "^[0-9]+(Mi|Gi)?$"},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                          "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
                "when": {"type": "string", "format": "date-time"}
            }
        })
    }

    #[test]
    fn accepts_a_valid_value() {
        let value = json!({
            "name": "abc", "count": 3, "mode": "a", "size": "2Gi", "config": {"any": {"thing": [1, "x"]}},
            "labels": {"a": "b"}, "items": [{"name": "x"}, {"name": "y"}], "when": "2025-01-02T03:04:05Z"
        });
        assert_eq!(errors(object_schema(), value), Vec::<String>::new());
        assert!(
            errors(object_schema(), json!({"name": "a", "size": 3})).is_empty(),
            "int-or-string takes ints"
        );
    }

    #[test]
    fn reports_unknown_fields() {
        let found = errors(object_schema(), json!({"name": "abc", "replicas": 3}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("replicas: unknown field"), "{found:?}");
        let nested = errors(
            object_schema(),
            json!({"name": "abc", "items": [{"name": "x", "extra": 1}]}),
        );
        assert!(
            nested[0].starts_with("items[0].extra: unknown field"),
            "{nested:?}"
        );
    }

    #[test]
    fn reports_wrong_types() {
        let found = errors(
            object_schema(),
            json!({"name": 3, "count": "3", "labels": {"a": 1}, "size": true}),
        );
        assert!(
            found.contains(&"name: must be a string".to_owned()),
            "{found:?}"
        );
        assert!(
            found.contains(&"count: must be an integer".to_owned()),
            "{found:?}"
        );
        assert!(
            found.contains(&"labels.a: must be a string".to_owned()),
            "{found:?}"
        );
        assert!(
            found.contains(&"size: must be an integer or a string".to_owned()),
            "{found:?}"
        );
        assert!(!errors(object_schema(), json!({"name": "a", "count": 1.5})).is_empty());
    }

    #[test]
    fn reports_missing_required_fields() {
        assert_eq!(
            errors(object_schema(), json!({"count": 1})),
            vec!["name: is required".to_owned()]
        );
    }

    #[test]
    fn reports_value_rules() {
        let found = errors(
            object_schema(),
            json!({"name": "ABCDEFG", "count": -1, "mode": "c", "size": "2 GB", "when": "yesterday",
                   "items": [{"name": "x"}, {"name": "x"}]}),
        );
        let has = |fragment: &str| found.iter().any(|e| e.contains(fragment));
        assert!(has("name: longer than 5"), "{found:?}");
        assert!(has("does not match /[a-z]+/"), "{found:?}");
        assert!(has("count: -1 is less than 0"), "{found:?}");
        assert!(has("mode: \"c\" is not one of"), "{found:?}");
        assert!(has("size: \"2 GB\" does not match"), "{found:?}");
        assert!(has("when: \"yesterday\" is not an RFC 3339"), "{found:?}");
        assert!(has("items[1]: duplicate list-map key"), "{found:?}");
        assert!(has("count") && found.len() == 7, "{found:?}");
        let too_big = errors(
            object_schema(),
            json!({"name": "a", "count": 3_000_000_000u64}),
        );
        assert!(too_big[0].contains("int32"), "{too_big:?}");
    }

    #[test]
    fn rejects_nulls_unless_nullable() {
        assert_eq!(
            errors(object_schema(), json!({"name": null})),
            vec!["name: null is not allowed".to_owned()]
        );
        assert!(errors(json!({"type": "string", "nullable": true}), Value::Null).is_empty());
    }

    #[test]
    fn checks_root_metadata_loosely() {
        let schema = json!({"type": "object", "properties": {
            "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}});
        let ok = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "uid": "u", "labels": {"a": "b"}}});
        assert!(validate_object(&schema, &ok).is_empty());
        let bad =
            json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": 1, "labels": {"a": 2}}});
        assert_eq!(
            validate_object(&schema, &bad),
            vec![
                "metadata.name: must be a string".to_owned(),
                "metadata.labels.a: must be a string".to_owned()
            ]
        );
    }
}
