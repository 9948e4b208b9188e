//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) and field selectors (`metadata.name`,
//! `metadata.namespace`, `status.phase`, any dotted path) as the API server parses and applies them.

use serde_json::Value;

use super::meta;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<Req>);

/// Split on commas that are not inside parentheses.
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn check_key(k: &str) -> Result<String, String> {
    if meta::is_qualified_name(k) {
        Ok(k.to_string())
    } else {
        Err(format!("invalid label key \"{k}\""))
    }
}

fn check_value(v: &str) -> Result<String, String> {
    if meta::is_label_value(v) {
        Ok(v.to_string())
    } else {
        Err(format!("invalid label value: \"{v}\""))
    }
}

/// Parse `key in (a, b)` / `key notin (a)`; `None` when the term is not a set-based requirement.
fn parse_set(term: &str) -> Option<Result<Req, String>> {
    let open = term.find('(')?;
    let head = term[..open].trim();
    let (key, negated) = if let Some(k) = head.strip_suffix(" notin") {
        (k.trim(), true)
    } else if let Some(k) = head.strip_suffix(" in") {
        (k.trim(), false)
    } else {
        return Some(Err(format!("unable to parse requirement: \"{term}\"")));
    };
    let Some(inner) = term[open + 1..].strip_suffix(')') else {
        return Some(Err(format!(
            "unable to parse requirement: missing ')' in \"{term}\""
        )));
    };
    let parsed = (|| {
        let key = check_key(key)?;
        let values = inner
            .split(',')
            .map(|v| check_value(v.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(if negated {
            Req::NotIn(key, values)
        } else {
            Req::In(key, values)
        })
    })();
    Some(parsed)
}

impl LabelSelector {
    /// Parse a selector string; errors become 400 BadRequest.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(LabelSelector(reqs));
        }
        for raw in split_terms(s) {
            let term = raw.trim();
            if term.is_empty() {
                return Err(format!(
                    "unable to parse requirement: empty term in \"{s}\""
                ));
            }
            if let Some(r) = parse_set(term) {
                reqs.push(r?);
            } else if let Some(k) = term.strip_prefix('!') {
                reqs.push(Req::NotExists(check_key(k.trim())?));
            } else if let Some((k, v)) = term.split_once("!=") {
                reqs.push(Req::NotEq(check_key(k.trim())?, check_value(v.trim())?));
            } else if let Some((k, v)) = term.split_once("==") {
                reqs.push(Req::Eq(check_key(k.trim())?, check_value(v.trim())?));
            } else if let Some((k, v)) = term.split_once('=') {
                reqs.push(Req::Eq(check_key(k.trim())?, check_value(v.trim())?));
            } else {
                reqs.push(Req::Exists(check_key(term)?));
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// True when the selector has no requirement.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Does a label lookup satisfy every requirement?
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::NotEq(k, v) => get(k) != Some(v.as_str()),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
        })
    }

    /// Equality requirements usable with a label index: each entry is a key with the values it may take.
    pub fn index_candidates(&self) -> Vec<(&str, Vec<&str>)> {
        self.0
            .iter()
            .filter_map(|r| match r {
                Req::Eq(k, v) => Some((k.as_str(), vec![v.as_str()])),
                Req::In(k, vs) => Some((k.as_str(), vs.iter().map(String::as_str).collect())),
                _ => None,
            })
            .collect()
    }
}

/// One `path=value` / `path!=value` term of a field selector.
#[derive(Debug, Clone, PartialEq)]
struct FieldReq {
    path: Vec<String>,
    value: String,
    negated: bool,
}

/// A parsed field selector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<FieldReq>);

impl FieldSelector {
    /// Parse `metadata.name=x,status.phase!=Running`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(FieldSelector(reqs));
        }
        for term in s.split(',') {
            let term = term.trim();
            let (k, v, negated) = if let Some((k, v)) = term.split_once("!=") {
                (k, v, true)
            } else if let Some((k, v)) = term.split_once("==") {
                (k, v, false)
            } else if let Some((k, v)) = term.split_once('=') {
                (k, v, false)
            } else {
                return Err(format!("invalid field selector: \"{term}\""));
            };
            let k = k.trim();
            if k.is_empty() || k.split('.').any(str::is_empty) {
                return Err(format!("invalid field selector: \"{term}\""));
            }
            reqs.push(FieldReq {
                path: k.split('.').map(String::from).collect(),
                value: v.trim().to_string(),
                negated,
            });
        }
        Ok(FieldSelector(reqs))
    }

    /// True when the selector has no requirement.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `metadata.name=<x>` value, when the selector pins one name (lets lists skip scanning).
    pub fn pinned_name(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|r| !r.negated && r.path == ["metadata", "name"])
            .map(|r| r.value.as_str())
    }

    /// The answer for an object with this name and namespace when every requirement is on `metadata.name` or
    /// `metadata.namespace`; None when another field is involved.
    pub fn match_name_ns(&self, name: &str, namespace: &str) -> Option<bool> {
        let mut ok = true;
        for r in &self.0 {
            let actual = match (
                r.path.first().map(String::as_str),
                r.path.get(1).map(String::as_str),
                r.path.len(),
            ) {
                (Some("metadata"), Some("name"), 2) => name,
                (Some("metadata"), Some("namespace"), 2) => namespace,
                _ => return None,
            };
            ok &= (actual == r.value) != r.negated;
        }
        Some(ok)
    }

    /// Does the object match? Missing fields compare as the empty string; numbers and booleans as their text.
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|r| {
            let mut cur = Some(obj);
            for seg in &r.path {
                cur = cur.and_then(|v| v.get(seg));
            }
            let text = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (text == r.value) != r.negated
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let obj = json!({"metadata": {"labels": {"app": "es", "tier": "hot"}}});
        let labels = meta::labels(&obj);
        let get = |k: &str| labels.and_then(|m| m.get(k)).and_then(Value::as_str);
        let t = |s: &str| LabelSelector::parse(s).map(|sel| sel.matches_with(get));
        assert_eq!(t("app=es"), Ok(true));
        assert_eq!(t("app==es,tier!=warm"), Ok(true));
        assert_eq!(t("tier in (warm, hot)"), Ok(true));
        assert_eq!(t("tier notin (hot)"), Ok(false));
        assert_eq!(t("app,!missing"), Ok(true));
        assert_eq!(t("missing"), Ok(false));
        assert_eq!(t("missing!=x"), Ok(true));
        assert!(t("a in (b").is_err());
        assert!(t("bad key=1").is_err());
    }

    #[test]
    fn field_selectors() {
        let obj = json!({"metadata": {"name": "p"}, "status": {"phase": "Running"}});
        let f = FieldSelector::parse("metadata.name=p,status.phase!=Pending").unwrap_or_default();
        assert!(f.matches(&obj));
        assert!(FieldSelector::parse("nonsense").is_err());
    }
}
