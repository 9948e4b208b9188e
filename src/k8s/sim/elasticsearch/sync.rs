//! What a simulated Elasticsearch learns from the simulated Kubernetes store, read directly under its lock (no
//! API round trip, so polling thousands of clusters stays cheap): the Elasticsearch resource (uid, version, node
//! sets), its Ready pods as nodes (name, roles from the node set's `config.node.roles`, `node.attr.*`, heap half
//! the memory limit, disk the data claim's size, IP, version label) and its users (the `elastic` password from
//! `<name>-es-elastic-user`, file-realm users from `kubernetes.io/basic-auth` Secrets named in
//! `spec.auth.fileRealm[].secretName`). Pods are found through the store's label index and Secrets by name, and
//! an observation records the resourceVersions it was read from ([`Inputs`]), so a cluster whose objects did not
//! change is not parsed again.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

use super::super::Shared;
use super::super::controllers::eck::{CLUSTER_LABEL, STS_LABEL, VERSION_LABEL};
use super::super::quantity;
use super::super::stored::Stored;
use super::auth::RoleDef;
use super::model::{ALL_ROLES, Node, Users, short_id};

/// The resource, its Ready pods and Secrets, as found in the store.
#[derive(Debug, Clone)]
pub struct Observed {
    /// metadata.uid of the Elasticsearch resource.
    pub uid: String,
    /// spec.version.
    pub version: String,
    /// Nodes (Ready pods).
    pub nodes: Vec<Node>,
    /// Users.
    pub users: Users,
}

/// The stored object `ns/name` of a kind (no parsing).
fn stored(sh: &Shared, plural: (&str, &str), ns: &str, name: &str) -> Option<Arc<Stored>> {
    let kind = sh.registry.find(plural.0, "v1", plural.1)?;
    let st = sh.lock();
    st.get(kind, &(ns.to_string(), name.to_string())).cloned()
}

pub(in crate::k8s::sim) fn object(
    sh: &Shared,
    plural: (&str, &str),
    ns: &str,
    name: &str,
) -> Option<Value> {
    stored(sh, plural, ns, name).map(|o| o.value())
}

/// The stored pods of the cluster `ns/name`, found through the store's label index.
fn pods_of(sh: &Shared, ns: &str, name: &str) -> Vec<Arc<Stored>> {
    let Some(kind) = sh.registry.find("", "v1", "pods") else {
        return vec![];
    };
    let st = sh.lock();
    st.kinds[kind]
        .labelled(ns, CLUSTER_LABEL, name)
        .cloned()
        .collect()
}

fn is_ready(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_none()
        && pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
}

fn decode(secret: &Value, key: &str) -> Option<String> {
    if let Some(s) = secret
        .pointer(&format!("/stringData/{key}"))
        .and_then(Value::as_str)
    {
        return Some(s.to_string());
    }
    let b64 = secret.pointer(&format!("/data/{key}"))?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    String::from_utf8(bytes).ok()
}

/// `node.roles` of a node set config (flat or nested); all roles when absent.
pub fn roles(config: &Value) -> Vec<String> {
    let list = config
        .get("node.roles")
        .or_else(|| config.pointer("/node/roles"));
    let mut roles: Vec<String> = match list.and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .filter_map(|r| r.as_str().map(String::from))
            .collect(),
        None => ALL_ROLES.iter().map(|r| r.to_string()).collect(),
    };
    roles.sort();
    roles.dedup();
    roles
}

/// `node.attr.*` of a node set config (flat or nested).
pub fn attributes(config: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(m) = config.as_object() {
        for (k, v) in m {
            if let Some(attr) = k.strip_prefix("node.attr.") {
                out.insert(
                    attr.to_string(),
                    v.as_str().map_or_else(|| v.to_string(), String::from),
                );
            }
        }
    }
    if let Some(m) = config.pointer("/node/attr").and_then(Value::as_object) {
        for (k, v) in m {
            out.insert(
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), String::from),
            );
        }
    }
    out
}

fn claim_bytes(nodeset: &Value) -> u64 {
    let claims = nodeset
        .get("volumeClaimTemplates")
        .and_then(Value::as_array);
    let claim = claims.and_then(|cs| {
        cs.iter()
            .find(|c| {
                c.pointer("/metadata/name").and_then(Value::as_str) == Some("elasticsearch-data")
            })
            .or_else(|| cs.first())
    });
    claim
        .and_then(|c| c.pointer("/spec/resources/requests/storage"))
        .and_then(Value::as_str)
        .and_then(quantity::parse)
        .map_or(1 << 30, |b| b as u64)
}

fn node_of(sh: &Shared, es: &Value, uid: &str, version: &str, pod: &Value) -> Node {
    let pod_name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sts = pod
        .pointer(&format!(
            "/metadata/labels/{}",
            STS_LABEL.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let es_name = es
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let nodeset = es
        .pointer("/spec/nodeSets")
        .and_then(Value::as_array)
        .and_then(|sets| {
            sets.iter().find(|s| {
                s.get("name")
                    .and_then(Value::as_str)
                    .map(|n| format!("{es_name}-es-{n}"))
                    .as_deref()
                    == Some(sts)
            })
        })
        .cloned()
        .unwrap_or(Value::Null);
    let config = nodeset.get("config").cloned().unwrap_or(Value::Null);
    let container = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["name"] == "elasticsearch")
                .or_else(|| cs.first())
        })
        .cloned()
        .unwrap_or(Value::Null);
    let resource = |kind: &str, what: &str| {
        container
            .pointer(&format!("/resources/{kind}/{what}"))
            .and_then(Value::as_str)
            .and_then(quantity::parse)
    };
    let memory = resource("limits", "memory")
        .or_else(|| resource("requests", "memory"))
        .map_or(2u64 << 30, |b| b as u64);
    let processors = resource("limits", "cpu")
        .or_else(|| resource("requests", "cpu"))
        .map_or((sh.nodes.cpu_millis / 1000).max(1) as u32, |c| {
            c.ceil().max(1.0) as u32
        });
    let pod_version = pod
        .pointer(&format!(
            "/metadata/labels/{}",
            VERSION_LABEL.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .unwrap_or(version);
    Node {
        id: short_id(&format!("{uid}/{pod_name}")),
        name: pod_name.to_string(),
        roles: roles(&config),
        attributes: attributes(&config),
        ip: pod
            .pointer("/status/podIP")
            .and_then(Value::as_str)
            .unwrap_or("127.0.0.1")
            .to_string(),
        version: pod_version.to_string(),
        heap_max_bytes: memory / 2,
        memory_bytes: memory,
        disk_total_bytes: claim_bytes(&nodeset),
        processors,
        started_ms: super::now_ms(),
    }
}

/// What an observation was read from: the resourceVersion of the resource, of each of its pods, and of each
/// Secret it looked up (None: missing). Every write gives an object a new resourceVersion, so while these are
/// unchanged, observing again would read the same objects and give the same answer; the simulated
/// Elasticsearch reuses its last observation until then ([`Inputs::current`]) instead of parsing the objects
/// again on every request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inputs {
    resource: String,
    pods: Vec<(String, String)>,
    secrets: Vec<(String, Option<String>)>,
}

impl Inputs {
    /// Are these still the objects in the store (one lock, no parsing)?
    pub(crate) fn current(&self, sh: &Shared, ns: &str, name: &str) -> bool {
        let find = |group: &str, plural: &str| sh.registry.find(group, "v1", plural);
        let (Some(es_kind), Some(pod_kind), Some(secret_kind)) = (
            find(ES_PLURAL.0, ES_PLURAL.1),
            find(POD_PLURAL.0, POD_PLURAL.1),
            find(SECRET_PLURAL.0, SECRET_PLURAL.1),
        ) else {
            return false;
        };
        let st = sh.lock();
        let key = |n: &str| (ns.to_string(), n.to_string());
        if st.get(es_kind, &key(name)).map(|o| o.rv.as_str()) != Some(self.resource.as_str()) {
            return false;
        }
        let mut pods = st.kinds[pod_kind].labelled(ns, CLUSTER_LABEL, name);
        for (pod, rv) in &self.pods {
            match pods.next() {
                Some(o) if o.name == *pod && o.rv == *rv => {}
                _ => return false,
            }
        }
        if pods.next().is_some() {
            return false;
        }
        self.secrets
            .iter()
            .all(|(secret, rv)| st.get(secret_kind, &key(secret)).map(|o| &o.rv) == rv.as_ref())
    }

    fn secret(&mut self, sh: &Shared, ns: &str, name: &str) -> Option<Value> {
        let found = stored(sh, SECRET_PLURAL, ns, name);
        self.secrets
            .push((name.to_string(), found.as_ref().map(|o| o.rv.clone())));
        found.map(|o| o.value())
    }
}

const ES_PLURAL: (&str, &str) = ("elasticsearch.k8s.elastic.co", "elasticsearches");
const POD_PLURAL: (&str, &str) = ("", "pods");
const SECRET_PLURAL: (&str, &str) = ("", "secrets");

/// Read the resource `ns/name`, its Ready pods and its users, and what they were read from; None when the
/// resource does not exist (or is being deleted).
pub(crate) fn observe(sh: &Shared, ns: &str, name: &str) -> Option<(Observed, Inputs)> {
    let es_stored = stored(sh, ES_PLURAL, ns, name)?;
    if es_stored.deleting {
        return None;
    }
    let es = es_stored.value();
    if es.pointer("/metadata/deletionTimestamp").is_some() {
        return None;
    }
    let pods = pods_of(sh, ns, name);
    let mut inputs = Inputs {
        resource: es_stored.rv.clone(),
        pods: pods
            .iter()
            .map(|p| (p.name.clone(), p.rv.clone()))
            .collect(),
        secrets: Vec::new(),
    };
    let uid = es
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let version = es
        .pointer("/spec/version")
        .and_then(Value::as_str)
        .unwrap_or("8.15.0")
        .to_string();
    let mut nodes: Vec<Node> = pods
        .iter()
        .map(|p| p.value())
        .filter(is_ready)
        .map(|p| node_of(sh, &es, &uid, &version, &p))
        .collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut users = Users::default();
    if let Some(secret) = inputs.secret(sh, ns, &format!("{name}-es-elastic-user"))
        && let Some(pw) = decode(&secret, "elastic")
    {
        users
            .users
            .insert("elastic".into(), (pw, vec!["superuser".into()]));
    }
    let realm = es
        .pointer("/spec/auth/fileRealm")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for entry in realm {
        let Some(secret_name) = entry.get("secretName").and_then(Value::as_str) else {
            continue;
        };
        let Some(secret) = inputs.secret(sh, ns, secret_name) else {
            continue;
        };
        if secret.get("type").and_then(Value::as_str) != Some("kubernetes.io/basic-auth") {
            continue;
        }
        let (Some(user), Some(pw)) = (decode(&secret, "username"), decode(&secret, "password"))
        else {
            continue;
        };
        let roles = decode(&secret, "roles")
            .map(|r| {
                r.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        users.users.insert(user, (pw, roles));
    }
    users.roles = custom_roles(sh, ns, &es, &mut inputs);
    Some((
        Observed {
            uid,
            version,
            nodes,
            users,
        },
        inputs,
    ))
}

/// The custom roles of `spec.auth.roles[].secretName` (key `roles.yml`, as ECK reads it). A Secret that is
/// missing or does not parse adds no role (ECK reports it in events; the users keep their other roles).
fn custom_roles(
    sh: &Shared,
    ns: &str,
    es: &Value,
    inputs: &mut Inputs,
) -> BTreeMap<String, RoleDef> {
    let mut roles = BTreeMap::new();
    let sources = es
        .pointer("/spec/auth/roles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for source in sources {
        let Some(secret_name) = source.get("secretName").and_then(Value::as_str) else {
            continue;
        };
        let Some(yaml) = inputs
            .secret(sh, ns, secret_name)
            .and_then(|secret| decode(&secret, "roles.yml"))
        else {
            continue;
        };
        match RoleDef::parse_file(&yaml) {
            Ok(defined) => roles.extend(defined),
            Err(e) => tracing::warn!(secret = secret_name, error = %e, "roles.yml does not parse"),
        }
    }
    roles
}

/// Every Elasticsearch resource in the store: (namespace, name).
pub(crate) fn all_resources(sh: &Shared) -> Vec<(String, String)> {
    let Some(kind) = sh
        .registry
        .find("elasticsearch.k8s.elastic.co", "v1", "elasticsearches")
    else {
        return vec![];
    };
    let st = sh.lock();
    st.kinds[kind].objects.keys().cloned().collect()
}
