//! Cluster templates: named starting topologies a tenant picks from before adjusting node sets.
//! Ids are stable (stored with clusters and used in URLs and the API); titles and descriptions are for people.
//!
//! Sizes are deliberately small (1 CPU, 2 GiB per data node) so that a modest tenant quota holds a couple of
//! clusters; tenants size up in the form. Every template uses the newest offered version and HTTPS, and
//! includes one Kibana. The hot-warm-cold layout follows Elastic's hot-warm example for Kubernetes: dedicated masters plus tiers
//! tagged with `node.attr.data` (`hot`, `warm`, `cold`) for index allocation filters and ILM.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::spec::{
    ClusterSpec, EsVersion, KibanaSpec, NodeAttributeKey, NodeAttributeValue, NodeRole,
    NodeSetName, NodeSetSpec, SpecRules,
};

/// A named starting topology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    /// Stable identifier (`three-nodes`).
    pub id: &'static str,
    /// Short title for cards and menus.
    pub title: &'static str,
    /// One or two sentences on when to use it.
    pub description: &'static str,
    /// Whether clusters from this template are held to production rules ([`SpecRules::production`]).
    pub production: bool,
    /// The spec the form starts from.
    pub spec: ClusterSpec,
}

/// Every template, in the order they are offered.
pub fn templates() -> Vec<Template> {
    use NodeRole::*;
    vec![
        Template {
            id: "single-node",
            title: "Single node",
            description: "One node with the master, data and ingest roles. For development and trials: no \
                          replicas, no high availability.",
            production: false,
            spec: spec(vec![NodeSetBuilder::new(
                "default",
                &[Master, Data, Ingest],
                1,
                1000,
                2048,
                10,
            )]),
        },
        Template {
            id: "three-nodes",
            title: "Three nodes",
            description: "Three identical nodes, each master-eligible, holding data and running ingest \
                          pipelines. Survives the loss of one node.",
            production: true,
            spec: spec(vec![NodeSetBuilder::new(
                "default",
                &[Master, Data, Ingest],
                3,
                1000,
                2048,
                10,
            )]),
        },
        Template {
            id: "dedicated-masters",
            title: "Dedicated masters",
            description: "Three small dedicated master nodes, two data and ingest nodes and two coordinating \
                          nodes that take the client traffic. For steady production workloads.",
            production: true,
            spec: spec(vec![
                NodeSetBuilder::new("master", &[Master], 3, 500, 1024, 2),
                NodeSetBuilder::new("data", &[Data, Ingest], 2, 1000, 2048, 20),
                NodeSetBuilder::new("coordinating", &[Coordinating], 2, 500, 1024, 1),
            ]),
        },
        Template {
            id: "hot-warm-cold",
            title: "Hot-warm-cold",
            description: "Dedicated masters plus hot, warm and cold data tiers tagged with the node attribute \
                          `data` (hot/warm/cold), for time series data moved between tiers by ILM.",
            production: true,
            spec: spec(vec![
                NodeSetBuilder::new("master", &[Master], 3, 500, 1024, 2),
                NodeSetBuilder::new("hot", &[DataHot, DataContent, Ingest], 2, 1000, 2048, 20)
                    .attr("data", "hot"),
                NodeSetBuilder::new("warm", &[DataWarm], 2, 500, 2048, 40).attr("data", "warm"),
                NodeSetBuilder::new("cold", &[DataCold], 1, 500, 2048, 80).attr("data", "cold"),
            ]),
        },
    ]
}

/// The template with id `id`.
pub fn template(id: &str) -> Option<Template> {
    templates().into_iter().find(|t| t.id == id)
}

impl Template {
    /// The validation rules for a cluster made from this template: `base` with this template's production flag.
    pub fn rules(&self, base: &SpecRules) -> SpecRules {
        base.clone().with_production(self.production)
    }

    /// The spec a new cluster from this template starts with under `rules`: the template's spec on
    /// [`starting_version`]. The one rule for both the web form and the request service (API creates).
    pub fn spec_for(&self, rules: &SpecRules) -> ClusterSpec {
        ClusterSpec {
            version: starting_version(&self.spec.version, rules),
            ..self.spec.clone()
        }
    }
}

/// The version a cluster from a template on `version` starts on: that version while it is offered, else
/// the newest offered version of the same major, else the newest offered version (a new cluster has no data
/// to carry across majors); `version` itself when nothing is offered (validation then says so).
pub fn starting_version(version: &EsVersion, rules: &SpecRules) -> EsVersion {
    if rules.allowed_versions.contains(version) {
        return *version;
    }
    let offered = rules.allowed_versions.iter();
    offered
        .clone()
        .filter(|v| v.major == version.major)
        .max()
        .or_else(|| offered.max())
        .copied()
        .unwrap_or(*version)
}

/// The version new clusters start on: the newest offered by default.
fn default_version() -> EsVersion {
    SpecRules::default()
        .latest_version()
        .expect("the default rules offer at least one version")
}

fn spec(node_sets: Vec<NodeSetBuilder>) -> ClusterSpec {
    ClusterSpec {
        version: default_version(),
        node_sets: node_sets.into_iter().map(|b| b.0).collect(),
        kibana: Some(KibanaSpec {
            count: 1,
            cpu_millis: 500,
            memory_mib: 1024,
        }),
        http_tls: true,
        ip_allow_list: Vec::new(),
    }
}

/// Builds the node sets of the templates; names and attributes are literals, checked by the tests.
struct NodeSetBuilder(NodeSetSpec);

impl NodeSetBuilder {
    fn new(
        name: &str,
        roles: &[NodeRole],
        count: u32,
        cpu_millis: u32,
        memory_mib: u32,
        storage_gib: u32,
    ) -> Self {
        Self(NodeSetSpec {
            name: NodeSetName::parse(name).expect("template node set names are valid"),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            count,
            cpu_millis,
            memory_mib,
            storage_gib,
            storage_class: None,
            attributes: BTreeMap::new(),
        })
    }

    fn attr(mut self, key: &str, value: &str) -> Self {
        self.0.attributes.insert(
            NodeAttributeKey::parse(key).expect("template attribute keys are valid"),
            NodeAttributeValue::parse(value).expect("template attribute values are valid"),
        );
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ClusterSpecInput, validate};
    use crate::tenants::quota::Resources;

    #[test]
    fn ids_are_unique_and_stable() {
        let ids: Vec<&str> = templates().iter().map(|t| t.id).collect();
        assert_eq!(
            ids,
            [
                "single-node",
                "three-nodes",
                "dedicated-masters",
                "hot-warm-cold"
            ]
        );
        assert_eq!(template("hot-warm-cold").unwrap().title, "Hot-warm-cold");
        assert!(template("nope").is_none());
    }

    #[test]
    fn every_template_passes_its_own_validation() {
        for t in templates() {
            let rules = t.rules(&SpecRules::default());
            let form = ClusterSpecInput::from_spec(&t.spec);
            let spec = validate(&form, &rules, None).unwrap_or_else(|e| panic!("{}: {e}", t.id));
            assert_eq!(spec, t.spec, "{}", t.id);
        }
    }

    #[test]
    fn a_template_starts_on_its_version_else_the_same_major_else_the_newest() {
        let v = EsVersion::new;
        let rules = |versions: Vec<EsVersion>| SpecRules {
            allowed_versions: versions,
            ..SpecRules::default()
        };
        let own = v(9, 2, 1);
        let cases = [
            (vec![v(8, 19, 7), v(9, 2, 1)], v(9, 2, 1)),
            (vec![v(8, 19, 7), v(9, 1, 0), v(9, 0, 3)], v(9, 1, 0)),
            (vec![v(8, 19, 7), v(8, 18, 2)], v(8, 19, 7)),
            (vec![v(10, 0, 0), v(8, 19, 7)], v(10, 0, 0)),
            (vec![], v(9, 2, 1)),
        ];
        for (offered, expected) in cases {
            let r = rules(offered.clone());
            assert_eq!(starting_version(&own, &r), expected, "{offered:?}");
            let t = template("three-nodes").unwrap();
            assert_eq!(t.spec_for(&r).version, expected);
            assert_eq!(t.spec_for(&r).node_sets, t.spec.node_sets);
        }
    }

    #[test]
    fn only_the_single_node_template_is_not_for_production() {
        for t in templates() {
            assert_eq!(t.production, t.id != "single-node", "{}", t.id);
        }
    }

    #[test]
    fn three_nodes_fits_a_small_quota_twice() {
        let r = template("three-nodes").unwrap().spec.resources();
        assert_eq!(
            r,
            Resources {
                clusters: 1,
                nodes: 3,
                cpu_millis: 3500,
                memory_mib: 7168,
                storage_gib: 30,
            }
        );
    }

    #[test]
    fn hot_warm_cold_tags_its_tiers() {
        let spec = template("hot-warm-cold").unwrap().spec;
        let tiers: Vec<(String, String)> = spec
            .node_sets
            .iter()
            .filter_map(|s| {
                s.attributes
                    .iter()
                    .next()
                    .map(|(k, v)| (format!("{}:{k}", s.name), v.to_string()))
            })
            .collect();
        assert_eq!(
            tiers,
            [
                ("hot:data".to_owned(), "hot".to_owned()),
                ("warm:data".to_owned(), "warm".to_owned()),
                ("cold:data".to_owned(), "cold".to_owned())
            ]
        );
        assert_eq!(spec.master_eligible_nodes(), 3);
    }
}
