//! The fields of a cluster's spec as a form, shared by the request form ([`super::new`]) and the topology
//! form of an existing cluster ([`super::topology`]): node sets (name, count, preset or custom sizes, storage
//! class from the platform's list, attributes, roles) and Kibana, each field with its validation message and,
//! once, the message of a quota limit the field moves most; an error summary in the order of the form; the
//! quota fragment htmx swaps in while the user types.

use askama::Template;
use askama_web::WebTemplate;

use crate::auth::TenantAccess;
use crate::clusters::presets::{self, SizePreset};
use crate::clusters::repo::Cluster;
use crate::clusters::templates;
use crate::error::FieldErrors;
use crate::spec::{self, ClusterName, NodeRole, SpecRules, StorageClassPolicy};
use crate::tenants::quota::{QuotaDimension, units};
use crate::web::clusters::form::{ClusterForm, NodeSetFields};
use crate::web::clusters::quota_view::{self, QuotaPanel};
use crate::web::clusters::size_fields;

/// A checkbox of a role.
#[derive(Debug, Clone)]
pub struct RoleOption {
    /// Role name.
    pub value: &'static str,
    /// Checked.
    pub checked: bool,
}

/// One node set of the form with its messages (empty: none).
#[derive(Debug, Clone)]
pub struct NodeSetView {
    /// Index in the form.
    pub index: usize,
    /// The values as typed.
    pub f: NodeSetFields,
    /// Role checkboxes.
    pub roles: Vec<RoleOption>,
    /// Messages by field.
    pub err_name: String,
    /// Roles message.
    pub err_roles: String,
    /// Count message.
    pub err_count: String,
    /// CPU message.
    pub err_cpu: String,
    /// Memory message.
    pub err_memory: String,
    /// Storage message.
    pub err_storage: String,
    /// Storage class message.
    pub err_storage_class: String,
    /// Attributes message.
    pub err_attributes: String,
    /// Quota message at the count.
    pub q_count: String,
    /// Quota message at the CPU.
    pub q_cpu: String,
    /// Quota message at the memory.
    pub q_memory: String,
    /// Quota message at the storage.
    pub q_storage: String,
    /// The preset sizes, the matching one marked.
    pub presets: Vec<PresetOption>,
    /// The sizes match no preset.
    pub custom: bool,
    /// The storage classes to choose from (the platform's list).
    pub storage_classes: Vec<ClassOption>,
}

/// A preset size button of a node set.
#[derive(Debug, Clone)]
pub struct PresetOption {
    /// `m`.
    pub id: &'static str,
    /// `M`.
    pub label: &'static str,
    /// `2 cores · 4 GiB · 128 GiB`.
    pub summary: String,
    /// The node set has exactly these sizes.
    pub current: bool,
}

/// A storage class choice.
#[derive(Debug, Clone)]
pub struct ClassOption {
    /// The value sent (`""`: the default).
    pub value: String,
    /// What the user reads.
    pub label: String,
    /// Selected.
    pub selected: bool,
}

pub(crate) fn preset_options(set: &NodeSetFields, rules: &SpecRules) -> (Vec<PresetOption>, bool) {
    let cpu = units::parse_cores(&set.cpu_cores).unwrap_or(-1);
    let memory = units::parse_gib(&set.memory_gib).unwrap_or(-1);
    let storage = set.storage_gib.trim().parse::<i64>().unwrap_or(-1);
    let current = presets::matching(cpu, memory, storage, &rules.bounds).map(|p| p.id);
    let options = presets::presets(&rules.bounds)
        .into_iter()
        .map(|p: SizePreset| PresetOption {
            id: p.id,
            label: p.label,
            summary: format!(
                "{} · {} · {}",
                units::cpu(i64::from(p.cpu_millis)),
                units::memory(i64::from(p.memory_mib)),
                units::storage(i64::from(p.storage_gib))
            ),
            current: current == Some(p.id),
        })
        .collect();
    (options, current.is_none())
}

/// The storage class select: the default first (what an empty value gets), then the platform's classes, and
/// the typed value when it is none of them (so it stays visible with its error).
pub(crate) fn class_options(typed: &str, policy: Option<&StorageClassPolicy>) -> Vec<ClassOption> {
    let typed = typed.trim();
    let default_label = match policy.and_then(|p| p.default.as_ref()) {
        Some(d) => format!("Platform default ({d})"),
        None => "Kubernetes default class".to_owned(),
    };
    let mut options = vec![ClassOption {
        value: String::new(),
        label: default_label,
        selected: typed.is_empty(),
    }];
    for class in policy.map(|p| p.allowed.as_slice()).unwrap_or_default() {
        options.push(ClassOption {
            value: class.to_string(),
            label: class.to_string(),
            selected: typed == class.as_str(),
        });
    }
    if !typed.is_empty() && !options.iter().any(|o| o.selected) {
        options.push(ClassOption {
            value: typed.to_owned(),
            label: format!("{typed} (not offered)"),
            selected: true,
        });
    }
    options
}

/// A version choice.
#[derive(Debug, Clone)]
pub struct VersionOption {
    /// `9.2.1`.
    pub value: String,
    /// Selected.
    pub selected: bool,
}

/// A quota message slot, for htmx's out-of-band update.
#[derive(Debug, Clone)]
pub struct Slot {
    /// Element id.
    pub id: String,
    /// Message (empty hides it).
    pub message: String,
}

/// One entry of the error summary: a link to the field and its message.
#[derive(Debug, Clone)]
pub struct SummaryItem {
    /// `Node set 1 (data): count`.
    pub label: String,
    /// `#f-node_sets-0-count`.
    pub href: String,
    /// The message.
    pub message: String,
}

/// The element id of a field's input (`f-node_sets-0-count`).
pub fn field_id(field: &str) -> String {
    format!("f-{}", field.replace('.', "-"))
}

pub(crate) fn summary_item(field: &str, message: &str, form: &ClusterForm) -> SummaryItem {
    let label_of = |f: &str| {
        match f {
            "count" => "Nodes",
            "cpu_cores" => "CPU",
            "memory_gib" => "Memory",
            "storage_gib" => "Storage",
            "storage_class" => "Storage class",
            "attributes" => "Node attributes",
            "roles" => "Roles",
            "name" => "Name",
            "enabled" => "Enabled",
            other => other,
        }
        .to_owned()
    };
    let (label, href) = match field.split('.').collect::<Vec<_>>().as_slice() {
        ["node_sets", i, f] => {
            let n = i.parse::<usize>().unwrap_or(0);
            let set_name = form.node_sets.get(n).map(|s| s.name.trim()).unwrap_or("");
            let set = if set_name.is_empty() {
                format!("Node set {}", n + 1)
            } else {
                format!("Node set {} ({set_name})", n + 1)
            };
            let href = if *f == "roles" {
                format!("#roles-{n}")
            } else {
                format!("#{}", field_id(field))
            };
            (format!("{set}: {}", label_of(f)), href)
        }
        ["node_sets"] => ("Node sets".to_owned(), "#node-sets".to_owned()),
        ["kibana", f] => (
            format!("Kibana: {}", label_of(f)),
            format!("#{}", field_id(field)),
        ),
        ["name"] => ("Name".to_owned(), "#f-name".to_owned()),
        ["version"] => ("Version".to_owned(), "#f-version".to_owned()),
        ["template"] => ("Template".to_owned(), "#templates".to_owned()),
        _ => (field.to_owned(), "#cluster-form".to_owned()),
    };
    SummaryItem {
        label,
        href,
        message: message.to_owned(),
    }
}

/// Where a field sits on the form, top to bottom, so the error summary lists the fields in the order the user
/// meets them (the validation finds them in another order).
pub(crate) fn form_position(field: &str) -> (usize, usize, usize) {
    const NODE_SET_FIELDS: [&str; 8] = [
        "name",
        "count",
        "cpu_cores",
        "memory_gib",
        "storage_gib",
        "storage_class",
        "attributes",
        "roles",
    ];
    const KIBANA_FIELDS: [&str; 4] = ["enabled", "count", "cpu_cores", "memory_gib"];
    let rank = |list: &[&str], f: &str| list.iter().position(|x| *x == f).unwrap_or(list.len());
    match field.split('.').collect::<Vec<_>>().as_slice() {
        ["template"] => (0, 0, 0),
        ["name"] => (1, 0, 0),
        ["version"] => (2, 0, 0),
        ["node_sets"] => (3, 0, 0),
        ["node_sets", i, f] => (
            4,
            i.parse().unwrap_or(usize::MAX),
            rank(&NODE_SET_FIELDS, f),
        ),
        ["kibana", f] => (5, 0, rank(&KIBANA_FIELDS, f)),
        _ => (6, 0, 0),
    }
}

/// Everything the form template shows.
#[derive(Debug, Clone)]
pub struct FormView {
    /// Values as typed.
    pub form: ClusterForm,
    /// Offered versions.
    pub versions: Vec<VersionOption>,
    /// Node sets.
    pub node_sets: Vec<NodeSetView>,
    /// Messages at the top-level fields.
    pub err_name: String,
    /// Version message.
    pub err_version: String,
    /// Template message.
    pub err_template: String,
    /// Topology message (`node_sets`).
    pub err_node_sets: String,
    /// Kibana count message.
    pub err_kibana_count: String,
    /// Kibana CPU message.
    pub err_kibana_cpu: String,
    /// Kibana memory message.
    pub err_kibana_memory: String,
    /// Quota message at the name (cluster count).
    pub q_name: String,
    /// Quota message at Kibana's CPU.
    pub q_kibana_cpu: String,
    /// Quota message at Kibana's memory.
    pub q_kibana_memory: String,
    /// Every error, for the summary at the top.
    pub summary: Vec<SummaryItem>,
    /// Another node set may be added.
    pub can_add: bool,
    /// Production rules apply (odd number of masters).
    pub production: bool,
    /// The number of the node sets' section (3 on the request form, after the template and the name; 1 on
    /// the topology form); Kibana's follows.
    pub first_section: usize,
}

/// `templates/clusters/quota_fragment.html`: the panel plus out-of-band field messages.
#[derive(Template, WebTemplate)]
#[template(path = "clusters/quota_fragment.html")]
pub struct QuotaFragment {
    /// The panel.
    pub quota: QuotaPanel,
    /// Field message slots.
    pub slots: Vec<Slot>,
}

/// The one form field that carries a quota dimension's message: the field that moves it most (the node set
/// adding the most nodes, CPU, memory or storage; Kibana when its instances add more CPU or memory than any
/// node set), so a refused limit is said once, where changing the number helps most.
pub(crate) fn quota_fields(form: &ClusterForm) -> impl Fn(QuotaDimension) -> Vec<String> + '_ {
    move |d| {
        if d == QuotaDimension::Clusters {
            return vec!["name".into()];
        }
        let field = match d {
            QuotaDimension::CpuMillis => "cpu_cores",
            QuotaDimension::MemoryMib => "memory_gib",
            QuotaDimension::StorageGib => "storage_gib",
            _ => "count",
        };
        let share = |set: &ClusterForm| set.lenient_totals().get(d);
        let mut best: Option<(i64, String)> = None;
        for i in 0..form.node_sets.len() {
            let mut alone = form.clone();
            alone.kibana_enabled = false;
            alone.node_sets = vec![form.node_sets[i].clone()];
            let amount = share(&alone);
            if best.as_ref().is_none_or(|(b, _)| amount > *b) {
                best = Some((amount, format!("node_sets.{i}.{field}")));
            }
        }
        if form.kibana_enabled && matches!(d, QuotaDimension::CpuMillis | QuotaDimension::MemoryMib)
        {
            let mut kibana = form.clone();
            kibana.node_sets.clear();
            let amount = share(&kibana);
            if best.as_ref().is_none_or(|(b, _)| amount > *b) {
                best = Some((amount, format!("kibana.{field}")));
            }
        }
        best.map(|(_, f)| f).into_iter().collect()
    }
}

/// Every quota slot of the form with its message. A field whose own bound is broken (500 nodes where a node
/// set may have 50) says that first: the quota message follows once the value is within its bounds.
pub(crate) fn slots(form: &ClusterForm, panel: &QuotaPanel, errors: &FieldErrors) -> Vec<Slot> {
    let messages = field_quota_messages(form, panel, errors);
    let mut fields = vec!["name".to_owned()];
    for i in 0..form.node_sets.len() {
        for f in ["count", "cpu_cores", "memory_gib", "storage_gib"] {
            fields.push(format!("node_sets.{i}.{f}"));
        }
    }
    fields.push("kibana.cpu_cores".into());
    fields.push("kibana.memory_gib".into());
    fields
        .into_iter()
        .map(|f| Slot {
            id: slot_id(&f),
            message: errors
                .get(&f)
                .map(str::to_owned)
                .or_else(|| messages.get(&f).cloned())
                .unwrap_or_default(),
        })
        .collect()
}

/// The quota messages by field, leaving out fields whose own bounds are broken (their error comes first).
pub(crate) fn field_quota_messages(
    form: &ClusterForm,
    panel: &QuotaPanel,
    errors: &FieldErrors,
) -> std::collections::BTreeMap<String, String> {
    let mut messages = quota_view::field_messages(panel, quota_fields(form));
    messages.retain(|field, _| errors.get(field).is_none());
    messages
}

/// The element id of a field's quota message.
pub fn slot_id(field: &str) -> String {
    format!("q-{}", field.replace('.', "-"))
}

/// The form's view: the values as typed with each field's message and quota message.
pub(crate) fn build_view(
    form: ClusterForm,
    errors: &FieldErrors,
    panel: &QuotaPanel,
    rules: &SpecRules,
    production: bool,
) -> FormView {
    let messages = field_quota_messages(&form, panel, errors);
    let e = |f: &str| errors.get(f).unwrap_or_default().to_owned();
    let q = |f: &str| messages.get(f).cloned().unwrap_or_default();
    let mut versions: Vec<VersionOption> = rules
        .allowed_versions
        .iter()
        .rev()
        .map(|v| VersionOption {
            value: v.to_string(),
            selected: v.to_string() == form.version.trim(),
        })
        .collect();
    if !form.version.trim().is_empty() && !versions.iter().any(|v| v.selected) {
        // Keep what was sent visible (it will carry an error).
        versions.push(VersionOption {
            value: form.version.trim().to_owned(),
            selected: true,
        });
    }
    let node_sets = form
        .node_sets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let p = |f: &str| format!("node_sets.{i}.{f}");
            let (presets, custom) = preset_options(s, rules);
            NodeSetView {
                presets,
                custom,
                storage_classes: class_options(&s.storage_class, rules.storage_classes.as_ref()),
                index: i,
                roles: NodeRole::ALL
                    .iter()
                    .map(|r| RoleOption {
                        value: r.as_str(),
                        checked: s.roles.iter().any(|x| x == r.as_str()),
                    })
                    .collect(),
                f: s.clone(),
                err_name: e(&p("name")),
                err_roles: e(&p("roles")),
                err_count: e(&p("count")),
                err_cpu: e(&p("cpu_cores")),
                err_memory: e(&p("memory_gib")),
                err_storage: e(&p("storage_gib")),
                err_storage_class: e(&p("storage_class")),
                err_attributes: e(&p("attributes")),
                q_count: q(&p("count")),
                q_cpu: q(&p("cpu_cores")),
                q_memory: q(&p("memory_gib")),
                q_storage: q(&p("storage_gib")),
            }
        })
        .collect();
    let mut in_form_order: Vec<_> = errors.0.iter().collect();
    in_form_order.sort_by_key(|e| form_position(&e.field));
    let summary = in_form_order
        .into_iter()
        .map(|e| summary_item(&e.field, &e.message, &form))
        .collect();
    FormView {
        versions,
        node_sets,
        err_name: e("name"),
        err_version: e("version"),
        err_template: e("template"),
        err_node_sets: e("node_sets"),
        err_kibana_count: e("kibana.count"),
        err_kibana_cpu: e("kibana.cpu_cores"),
        err_kibana_memory: e("kibana.memory_gib"),
        q_name: q("name"),
        q_kibana_cpu: q("kibana.cpu_cores"),
        q_kibana_memory: q("kibana.memory_gib"),
        summary,
        can_add: form.node_sets.len() < rules.bounds.max_node_sets as usize,
        production,
        first_section: 3,
        form,
    }
}

/// What the form edits: a new cluster, or the node sets and Kibana of an existing one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FormTarget<'a> {
    /// The request form (the name is checked, production rules follow the template).
    New,
    /// The topology form of this cluster (validated as a change of its spec).
    Existing(&'a Cluster),
}

impl FormTarget<'_> {
    /// Production rules apply (an odd number of master-eligible nodes).
    pub(crate) fn production(&self, form: &ClusterForm) -> bool {
        match self {
            FormTarget::New => templates::template(&form.template).is_none_or(|t| t.production),
            FormTarget::Existing(cluster) => cluster.production,
        }
    }
}

/// Validation errors the form can find without writing (name, spec, sizes, attributes), on the form's
/// fields. The request service validates again when the form is sent.
pub(crate) fn check(form: &ClusterForm, rules: &SpecRules, target: FormTarget<'_>) -> FieldErrors {
    let (input, own) = form.to_input(&rules.bounds);
    let mut errors = FieldErrors::new();
    let previous = match target {
        FormTarget::New => {
            if let Err(m) = ClusterName::parse(&form.name) {
                errors.add("name", m);
            }
            None
        }
        FormTarget::Existing(cluster) => Some(&cluster.spec),
    };
    let rules = rules.clone().with_production(target.production(form));
    if let Err(e) = spec::validate(&input, &rules, previous) {
        errors.0.extend(e.0);
    }
    size_fields::merge(own, errors, &rules.bounds)
}

/// The errors of the fields that carry quota messages (counts and sizes out of their bounds), for the live
/// preview: the other fields are checked when the user submits.
pub(crate) fn bound_errors(
    form: &ClusterForm,
    rules: &SpecRules,
    target: FormTarget<'_>,
) -> FieldErrors {
    let all = check(form, rules, target);
    let mut errors = FieldErrors::new();
    errors.0 = all
        .0
        .into_iter()
        .filter(|e| {
            ["count", "cpu_cores", "memory_gib", "storage_gib"]
                .iter()
                .any(|f| e.field.ends_with(&format!(".{f}")))
        })
        .collect();
    errors
}

/// Where a platform admin raises this tenant's limits; nothing for anyone else.
pub(crate) fn raise_href(access: &TenantAccess) -> String {
    if access.user.is_platform_admin {
        format!("/admin/tenants/{}/quota", access.tenant.slug)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::form_position;

    #[test]
    fn the_summary_follows_the_form_from_top_to_bottom() {
        let mut fields = vec![
            "kibana.memory_gib",
            "node_sets.1.count",
            "node_sets.0.roles",
            "node_sets",
            "node_sets.0.name",
            "version",
            "name",
            "node_sets.0.cpu_cores",
        ];
        fields.sort_by_key(|f| form_position(f));
        assert_eq!(
            fields,
            [
                "name",
                "version",
                "node_sets",
                "node_sets.0.name",
                "node_sets.0.cpu_cores",
                "node_sets.0.roles",
                "node_sets.1.count",
                "kibana.memory_gib"
            ]
        );
    }
}
