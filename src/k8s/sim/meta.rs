//! Object metadata helpers: name and label validation (DNS-1123 rules), timestamps, uids, generateName suffixes and
//! small accessors on `serde_json::Value` objects.

use rand::Rng;
use serde_json::{Map, Value};

/// RFC 3339 timestamp with second precision, as Kubernetes writes `metav1.Time`.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A fresh object uid.
pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Five random characters from the alphabet Kubernetes uses for generated names.
pub fn random_suffix(len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// DNS-1123 label: at most 63 lowercase alphanumerics or '-', starting and ending alphanumeric.
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| is_alnum(c) || c == '-')
        && s.chars().next().is_some_and(is_alnum)
        && s.chars().last().is_some_and(is_alnum)
}

/// DNS-1123 subdomain: at most 253 characters, dot-separated DNS-1123 labels.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// A label value or the name part of a qualified name: at most 63 characters of `[A-Za-z0-9-_.]`, alphanumeric at
/// both ends (empty allowed for values only).
fn is_label_name_part(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric();
    s.len() <= 63
        && s.chars().all(|c| ok(c) || c == '-' || c == '_' || c == '.')
        && s.chars().next().is_none_or(ok)
        && s.chars().last().is_none_or(ok)
}

/// A qualified name (label or annotation key): `[prefix/]name`.
pub fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns1123_subdomain) && !name.is_empty() && is_label_name_part(name)
}

/// A valid label value.
pub fn is_label_value(s: &str) -> bool {
    is_label_name_part(s)
}

/// Validation problems of `metadata.labels` and `metadata.annotations` keys, as `(field, message)` pairs.
pub fn validate_labels(obj: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(labels) = obj.pointer("/metadata/labels") {
        match labels.as_object() {
            Some(m) => {
                for (k, v) in m {
                    if !is_qualified_name(k) {
                        out.push(("metadata.labels".into(), format!("Invalid value: \"{k}\": name part must consist of alphanumeric characters, '-', '_' or '.'")));
                    }
                    match v.as_str() {
                        Some(s) if is_label_value(s) => {}
                        _ => out.push(("metadata.labels".into(), format!("Invalid value: {v}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (at most 63)"))),
                    }
                }
            }
            None if labels.is_null() => {}
            None => out.push((
                "metadata.labels".into(),
                "Invalid value: must be a map of strings".into(),
            )),
        }
    }
    if let Some(ann) = obj.pointer("/metadata/annotations") {
        match ann.as_object() {
            Some(m) => {
                for (k, v) in m {
                    if !is_qualified_name(k) {
                        out.push((
                            "metadata.annotations".into(),
                            format!("Invalid value: \"{k}\": not a qualified name"),
                        ));
                    }
                    if !v.is_string() {
                        out.push((
                            "metadata.annotations".into(),
                            format!("Invalid value: {v}: must be a string"),
                        ));
                    }
                }
            }
            None if ann.is_null() => {}
            None => out.push((
                "metadata.annotations".into(),
                "Invalid value: must be a map of strings".into(),
            )),
        }
    }
    out
}

/// The map inside `v`, replacing `v` by an empty object first when it is not an object.
pub fn ensure_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("replaced by an object just above"),
    }
}

/// `metadata` of an object, created when missing.
pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    let o = ensure_object(obj);
    ensure_object(
        o.entry("metadata")
            .or_insert_with(|| Value::Object(Map::new())),
    )
}

/// A string at a JSON pointer.
pub fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

/// `metadata.name`.
pub fn name(obj: &Value) -> &str {
    str_at(obj, "/metadata/name").unwrap_or("")
}

/// `metadata.namespace`.
pub fn namespace(obj: &Value) -> &str {
    str_at(obj, "/metadata/namespace").unwrap_or("")
}

/// `metadata.uid`.
pub fn uid(obj: &Value) -> &str {
    str_at(obj, "/metadata/uid").unwrap_or("")
}

/// `metadata.labels` as a map, when present.
pub fn labels(obj: &Value) -> Option<&Map<String, Value>> {
    obj.pointer("/metadata/labels").and_then(Value::as_object)
}

/// `metadata.finalizers` as strings.
pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// uids of `metadata.ownerReferences`.
pub fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// True while `metadata.deletionTimestamp` is set.
pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// `metadata.generation` (0 when absent).
pub fn generation(obj: &Value) -> i64 {
    obj.pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

const NOT_SPEC: &[&str] = &["metadata", "status", "apiVersion", "kind"];

/// Do two objects differ outside `metadata` and `status` (what bumps `metadata.generation`)?
pub fn spec_differs(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a != b;
    };
    let keep = |k: &&String| !NOT_SPEC.contains(&k.as_str());
    a.iter()
        .filter(|(k, _)| keep(k))
        .any(|(k, v)| b.get(k) != Some(v))
        || b.keys().filter(keep).any(|k| !a.contains_key(k))
}

/// Are two objects equal apart from `metadata.resourceVersion` (a no-op write)?
pub fn same_except_rv(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    if a.len() != b.len() {
        return false;
    }
    a.iter().all(|(k, v)| {
        match (
            k.as_str(),
            v.as_object(),
            b.get(k).and_then(Value::as_object),
        ) {
            ("metadata", Some(ma), Some(mb)) => {
                let rest =
                    |m: &Map<String, Value>| m.keys().filter(|k| *k != "resourceVersion").count();
                rest(ma) == rest(mb)
                    && ma
                        .iter()
                        .filter(|(k, _)| *k != "resourceVersion")
                        .all(|(k, v)| mb.get(k) == Some(v))
            }
            _ => b.get(k) == Some(v),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_dns1123_label("es-1"));
        assert!(!is_dns1123_label("Es"));
        assert!(!is_dns1123_label("a.b"));
        assert!(is_dns1123_subdomain("a.b-c"));
        assert!(!is_dns1123_subdomain("-a"));
        assert!(is_qualified_name("app.kubernetes.io/name"));
        assert!(!is_qualified_name("bad key"));
        assert!(is_label_value(""));
        assert!(!is_label_value("-x"));
    }
}
