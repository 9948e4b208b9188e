//! The registry of resource kinds the emulator serves: built-in kinds and custom resources registered the way a
//! CustomResourceDefinition would register them (group, version, kind, plural, scope, status subresource).

/// One served resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceKind {
    /// API group, empty for the core group.
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `StatefulSet`.
    pub kind: String,
    /// Plural resource name used in paths, e.g. `statefulsets`.
    pub plural: String,
    /// Singular name, e.g. `statefulset`.
    pub singular: String,
    /// Short names for kubectl (`sts`).
    pub short_names: Vec<String>,
    /// Categories for kubectl (`all`, `elastic`).
    pub categories: Vec<String>,
    /// Namespaced (true) or cluster-scoped (false).
    pub namespaced: bool,
    /// Has a `/status` subresource: main writes keep `.status`, `/status` writes change only `.status`.
    pub has_status: bool,
    /// Registered as a custom resource (no strategic merge patch, like a real CRD).
    pub custom: bool,
}

impl ResourceKind {
    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `<Kind>List`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// A custom resource definition entry (what applying a CRD registers).
    pub fn custom_resource(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        short_names: &[&str],
        namespaced: bool,
    ) -> Self {
        ResourceKind {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            short_names: short_names.iter().map(|s| s.to_string()).collect(),
            categories: vec!["elastic".into()],
            namespaced,
            has_status: true,
            custom: true,
        }
    }
}

/// Compact constructor for the built-in table.
fn builtin(
    group: &str,
    kind: &str,
    plural: &str,
    short: &[&str],
    namespaced: bool,
    has_status: bool,
) -> ResourceKind {
    ResourceKind {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        short_names: short.iter().map(|s| s.to_string()).collect(),
        categories: if namespaced && kind != "Event" {
            vec!["all".into()]
        } else {
            vec![]
        },
        namespaced,
        has_status,
        custom: false,
    }
}

/// The set of served kinds; indexes into it identify a kind everywhere in the emulator.
#[derive(Debug, Clone)]
pub struct Registry {
    kinds: Vec<ResourceKind>,
}

impl Registry {
    /// The kinds of the contract: core/v1, apps/v1, networking, policy, apiextensions (CustomResourceDefinition),
    /// plus the ECK custom resources when `eck_installed` (a cluster without ECK serves neither its kinds nor
    /// its definitions).
    pub fn standard(eck_installed: bool) -> Self {
        let mut r = Registry {
            kinds: vec![
                builtin("", "Namespace", "namespaces", &["ns"], false, true),
                builtin("", "Node", "nodes", &["no"], false, true),
                builtin("", "Pod", "pods", &["po"], true, true),
                builtin("", "Service", "services", &["svc"], true, true),
                builtin("", "ConfigMap", "configmaps", &["cm"], true, false),
                builtin("", "Secret", "secrets", &[], true, false),
                builtin(
                    "",
                    "PersistentVolumeClaim",
                    "persistentvolumeclaims",
                    &["pvc"],
                    true,
                    true,
                ),
                builtin("", "Event", "events", &["ev"], true, false),
                builtin(
                    "",
                    "ResourceQuota",
                    "resourcequotas",
                    &["quota"],
                    true,
                    true,
                ),
                builtin("apps", "StatefulSet", "statefulsets", &["sts"], true, true),
                builtin("apps", "Deployment", "deployments", &["deploy"], true, true),
                builtin(
                    "networking.k8s.io",
                    "NetworkPolicy",
                    "networkpolicies",
                    &["netpol"],
                    true,
                    false,
                ),
                builtin(
                    "networking.k8s.io",
                    "Ingress",
                    "ingresses",
                    &["ing"],
                    true,
                    true,
                ),
                builtin(
                    "policy",
                    "PodDisruptionBudget",
                    "poddisruptionbudgets",
                    &["pdb"],
                    true,
                    true,
                ),
                builtin(
                    "apiextensions.k8s.io",
                    "CustomResourceDefinition",
                    "customresourcedefinitions",
                    &["crd", "crds"],
                    false,
                    true,
                ),
            ],
        };
        if !eck_installed {
            return r;
        }
        r.register(ResourceKind::custom_resource(
            "elasticsearch.k8s.elastic.co",
            "v1",
            "Elasticsearch",
            "elasticsearches",
            &["es"],
            true,
        ));
        r.register(ResourceKind::custom_resource(
            "kibana.k8s.elastic.co",
            "v1",
            "Kibana",
            "kibanas",
            &["kb"],
            true,
        ));
        r
    }

    /// Add a kind (a CRD registration). Returns its index; registering the same group/version/plural twice
    /// replaces the entry in place.
    pub fn register(&mut self, kind: ResourceKind) -> usize {
        if let Some(i) = self.find(&kind.group, &kind.version, &kind.plural) {
            self.kinds[i] = kind;
            return i;
        }
        self.kinds.push(kind);
        self.kinds.len() - 1
    }

    /// Index of the kind served at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.kinds
            .iter()
            .position(|k| k.group == group && k.version == version && k.plural == plural)
    }

    /// Index of a kind by group and plural (any version).
    pub fn find_plural(&self, group: &str, plural: &str) -> Option<usize> {
        self.kinds
            .iter()
            .position(|k| k.group == group && k.plural == plural)
    }

    /// The kind at an index.
    pub fn get(&self, idx: usize) -> &ResourceKind {
        &self.kinds[idx]
    }

    /// All kinds with their indexes.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &ResourceKind)> {
        self.kinds.iter().enumerate()
    }

    /// Number of kinds.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// True when no kind is registered.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Distinct API groups (without the core group), in registration order, with their versions.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for k in self.kinds.iter().filter(|k| !k.group.is_empty()) {
            match out.iter_mut().find(|(g, _)| *g == k.group) {
                Some((_, vs)) if !vs.contains(&k.version) => vs.push(k.version.clone()),
                Some(_) => {}
                None => out.push((k.group.clone(), vec![k.version.clone()])),
            }
        }
        out
    }
}
