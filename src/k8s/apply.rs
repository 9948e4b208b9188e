//! Server-side apply of rendered objects (field manager `esaas`), generic over kinds: every rendered object
//! is turned into JSON with `apiVersion`/`kind`/`metadata`, so one code path applies, deletes and compares
//! namespaces, quotas, network policies and ECK custom resources alike.

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;

/// The field manager the portal applies with.
pub const FIELD_MANAGER: &str = "esaas";

/// A rendered object ready to apply: its identity and its full JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredObject {
    /// `apiVersion` and `kind`, resolved to an API resource.
    pub resource: ApiResource,
    /// Namespace (None for cluster-scoped kinds).
    pub namespace: Option<String>,
    /// Object name.
    pub name: String,
    /// The body sent with server-side apply.
    pub body: Value,
}

impl DesiredObject {
    /// Build from any serialisable Kubernetes object with `apiVersion`, `kind` and `metadata.name`.
    pub fn from_object<T: serde::Serialize>(object: &T, plural: &str) -> anyhow::Result<Self> {
        let body = serde_json::to_value(object)?;
        let api_version = body["apiVersion"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("rendered object without apiVersion"))?;
        let kind = body["kind"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("rendered object without kind"))?;
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
        let name = body["metadata"]["name"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("rendered {kind} without a name"))?
            .to_owned();
        let namespace = body["metadata"]["namespace"].as_str().map(str::to_owned);
        Ok(Self {
            resource,
            namespace,
            name,
            body,
        })
    }

    /// A key identifying the object: `kind/namespace/name`.
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            kind: self.resource.kind.clone(),
            namespace: self.namespace.clone().unwrap_or_default(),
            name: self.name.clone(),
        }
    }

    fn api(&self, client: &kube::Client) -> Api<DynamicObject> {
        match &self.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &self.resource),
            None => Api::all_with(client.clone(), &self.resource),
        }
    }

    /// Server-side apply (forced: the portal owns these fields). Returns the object as the server stored it.
    pub async fn apply(&self, client: &kube::Client) -> Result<DynamicObject, kube::Error> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        self.api(client)
            .patch(&self.name, &params, &Patch::Apply(&self.body))
            .await
    }

    /// Delete the object (absent is fine). Background propagation: dependents go too.
    pub async fn delete(&self, client: &kube::Client) -> Result<(), kube::Error> {
        match self
            .api(client)
            .delete(&self.name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Identity of an object in the watched cache.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Kind (`Elasticsearch`, `Namespace`, ...).
    pub kind: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// True when every field of `desired` is present with the same value in `actual` (objects compared key by
/// key, arrays element by element with equal length). The API server and controllers add defaults and
/// status, so equality would always fail; a subset check finds real drift only.
pub fn is_subset(desired: &Value, actual: &Value) -> bool {
    match (desired, actual) {
        (Value::Object(d), Value::Object(a)) => d
            .iter()
            .all(|(k, dv)| a.get(k).is_some_and(|av| is_subset(dv, av)) || dv.is_null()),
        (Value::Array(d), Value::Array(a)) => {
            d.len() == a.len() && d.iter().zip(a).all(|(dv, av)| is_subset(dv, av))
        }
        (d, a) => d == a,
    }
}

/// A short, safe description of a Kubernetes error for operation logs and the UI.
pub fn describe_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_subset;
    use serde_json::json;

    #[test]
    fn subset_ignores_added_fields_but_not_changes() {
        let desired =
            json!({"spec": {"count": 3, "roles": ["master"]}, "metadata": {"labels": {"a": "1"}}});
        let actual = json!({"spec": {"count": 3, "roles": ["master"], "extra": 1},
                            "metadata": {"labels": {"a": "1", "b": "2"}, "uid": "x"}, "status": {}});
        assert!(is_subset(&desired, &actual));
        let changed =
            json!({"spec": {"count": 5, "roles": ["master"]}, "metadata": {"labels": {"a": "1"}}});
        assert!(!is_subset(&changed, &actual));
        let missing =
            json!({"spec": {"count": 3, "roles": ["master"]}, "metadata": {"labels": {"c": "1"}}});
        assert!(!is_subset(&missing, &actual));
        assert!(!is_subset(&json!({"a": [1, 2]}), &json!({"a": [1]})));
    }
}
