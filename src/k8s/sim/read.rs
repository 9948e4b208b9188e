//! The read verbs: get one object, and list with label/field selectors, `limit` and `continue` (tokens point after
//! the last returned key; pages are read from the current state, not from a snapshot).

use std::sync::Arc;

use base64::Engine;

use super::registry::Registry;
use super::selector::{FieldSelector, LabelSelector};
use super::status::{ApiResult, StatusError};
use super::store::{ObjKey, State};
use super::stored::Stored;

/// A list request.
#[derive(Debug, Clone, Default)]
pub struct ListReq {
    /// Kind index.
    pub kind: usize,
    /// Namespace (None = all namespaces or cluster-scoped).
    pub ns: Option<String>,
    /// labelSelector.
    pub labels: LabelSelector,
    /// fieldSelector.
    pub fields: FieldSelector,
    /// limit (0 = no limit).
    pub limit: usize,
    /// continue token.
    pub cont: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// Matching objects in (namespace, name) order.
    pub items: Vec<Arc<Stored>>,
    /// resourceVersion of the list.
    pub rv: u64,
    /// Token for the next page.
    pub cont: Option<String>,
    /// Matching objects after this page (only when a continue token is returned).
    pub remaining: Option<usize>,
}

fn encode_token(key: &ObjKey) -> String {
    let raw = serde_json::json!([key.0, key.1]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_token(token: &str) -> ApiResult<ObjKey> {
    let bad = || StatusError::bad_request(format!("continue key is not valid: {token}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let (ns, name): (String, String) = serde_json::from_slice(&raw).map_err(|_| bad())?;
    Ok((ns, name))
}

/// Does an object match both selectors? Only selectors on fields other than name and namespace parse the object.
pub fn matches(labels: &LabelSelector, fields: &FieldSelector, obj: &Stored) -> bool {
    if !labels.is_empty() && !labels.matches_with(|k| obj.label(k)) {
        return false;
    }
    if fields.is_empty() {
        return true;
    }
    match fields.match_name_ns(&obj.name, &obj.namespace) {
        Some(ok) => ok,
        None => fields.matches(&obj.value()),
    }
}

/// GET one object.
pub fn get(reg: &Registry, st: &State, kind: usize, key: &ObjKey) -> ApiResult<Arc<Stored>> {
    st.get(kind, key).cloned().ok_or_else(|| {
        let k = reg.get(kind);
        StatusError::not_found(&k.group, &k.plural, &key.1)
    })
}

/// List objects.
pub fn list(st: &State, req: &ListReq) -> ApiResult<ListPage> {
    let after = req.cont.as_deref().map(decode_token).transpose()?;
    let store = &st.kinds[req.kind];
    let keys: Vec<ObjKey> = match (req.fields.pinned_name(), &req.ns) {
        (Some(name), Some(ns)) => vec![(ns.clone(), name.to_string())],
        _ => store.candidates(req.ns.as_deref(), &req.labels),
    };
    let mut items = Vec::new();
    let mut cont = None;
    let mut remaining = 0usize;
    let mut last: Option<&ObjKey> = None;
    for key in &keys {
        if after.as_ref().is_some_and(|a| key <= a) {
            continue;
        }
        let Some(obj) = store.objects.get(key) else {
            continue;
        };
        if !matches(&req.labels, &req.fields, obj) {
            continue;
        }
        if req.limit > 0 && items.len() >= req.limit {
            if cont.is_none() {
                cont = last.map(encode_token);
            }
            remaining += 1;
            continue;
        }
        items.push(obj.clone());
        last = Some(key);
    }
    Ok(ListPage {
        items,
        rv: st.rv,
        cont,
        remaining: (remaining > 0).then_some(remaining),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip() {
        let k = ("ns".to_string(), "a-b".to_string());
        assert_eq!(decode_token(&encode_token(&k)).ok(), Some(k));
        assert!(decode_token("%%%").is_err());
    }
}
