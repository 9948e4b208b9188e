//! The cluster request form as the browser sends it: flat `application/x-www-form-urlencoded` pairs with
//! dotted names (`node_sets.0.count`, `kibana.memory_gib`), kept as the user typed them so a re-rendered form
//! shows their input unchanged. CPU is typed in cores and memory in GiB, like every page shows them
//! ([`crate::tenants::quota::units`]). [`ClusterForm::to_input`] turns the form into the [`ClusterSpecInput`]
//! the spec validation takes (millicores, MiB, like the API); the field names match the validation's error
//! names once [`super::size_fields::merge`] has renamed `cpu_millis`/`memory_mib` to `cpu_cores`/`memory_gib`,
//! so messages land beside the inputs.
//!
//! The form works without JavaScript: submit buttons named `action` add a node set (`add_node_set`), remove
//! one (`remove_node_set:<index>`), fill one with a preset size (`preset:<index>:<s|m|l|xl>`), preview the
//! quota (`preview`) or send the request (`create`).

use std::collections::BTreeMap;

use crate::clusters::presets::SizePreset;
use crate::clusters::templates::Template;
use crate::error::FieldErrors;
use crate::spec::{
    ClusterSpec, ClusterSpecInput, KibanaInput, NodeRole, NodeSetInput, NumberInput, SizeBounds,
    SpecRules,
};
use crate::tenants::quota::{Resources, units};
use crate::web::clusters::size_fields::{self, Reading};

/// Node set indices above this are ignored (the rules allow far fewer sets; this bounds the parsing).
const MAX_INDEX: usize = 64;

/// What the submit button asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormAction {
    /// Send the request.
    Create,
    /// Re-render with the quota preview for the current values.
    Preview,
    /// Append a node set.
    AddNodeSet,
    /// Remove the node set at this index.
    RemoveNodeSet(usize),
    /// Fill the node set at this index with a preset size (`s`, `m`, `l`, `xl`).
    Preset(usize, &'static str),
}

impl FormAction {
    fn parse(raw: &str) -> Self {
        match raw {
            "preview" => FormAction::Preview,
            "add_node_set" => FormAction::AddNodeSet,
            other => {
                if let Some((i, id)) = other
                    .strip_prefix("preset:")
                    .and_then(|rest| rest.split_once(':'))
                    && let (Ok(i), Some(id)) = (
                        i.parse::<usize>(),
                        ["s", "m", "l", "xl"].into_iter().find(|p| *p == id),
                    )
                {
                    return FormAction::Preset(i, id);
                }
                other
                    .strip_prefix("remove_node_set:")
                    .and_then(|i| i.parse().ok())
                    .map_or(FormAction::Create, FormAction::RemoveNodeSet)
            }
        }
    }
}

/// One node set's fields, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSetFields {
    /// Node set name.
    pub name: String,
    /// Checked role names.
    pub roles: Vec<String>,
    /// Number of nodes.
    pub count: String,
    /// CPU per node, cores (`1.5`).
    pub cpu_cores: String,
    /// Memory per node, GiB (`2`).
    pub memory_gib: String,
    /// Storage per node, GiB.
    pub storage_gib: String,
    /// Storage class (blank: the default class).
    pub storage_class: String,
    /// Node attributes as `key=value, key=value`.
    pub attributes: String,
}

/// The whole form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterForm {
    /// Cluster name.
    pub name: String,
    /// Template id the form started from.
    pub template: String,
    /// Elasticsearch version.
    pub version: String,
    /// Node sets.
    pub node_sets: Vec<NodeSetFields>,
    /// Kibana wanted.
    pub kibana_enabled: bool,
    /// Kibana instances.
    pub kibana_count: String,
    /// CPU per Kibana instance, cores.
    pub kibana_cpu_cores: String,
    /// Memory per Kibana instance, GiB.
    pub kibana_memory_gib: String,
    /// HTTPS on the endpoints.
    pub http_tls: bool,
}

impl ClusterForm {
    /// The form pre-filled from a template, on the version the request service gives a create from that
    /// template ([`Template::spec_for`]).
    pub fn from_template(template: &Template, rules: &SpecRules) -> Self {
        Self {
            template: template.id.to_owned(),
            ..Self::from_spec("", &template.spec_for(rules))
        }
    }

    /// The form pre-filled with a cluster's spec (the topology form of an existing cluster).
    pub fn from_spec(name: &str, spec: &ClusterSpec) -> Self {
        let kibana = spec.kibana.as_ref();
        Self {
            name: name.to_owned(),
            template: String::new(),
            version: spec.version.to_string(),
            node_sets: spec
                .node_sets
                .iter()
                .map(|s| NodeSetFields {
                    name: s.name.to_string(),
                    roles: s.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                    count: s.count.to_string(),
                    cpu_cores: units::cores_input(i64::from(s.cpu_millis)),
                    memory_gib: units::gib_input(i64::from(s.memory_mib)),
                    storage_gib: s.storage_gib.to_string(),
                    storage_class: s
                        .storage_class
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    attributes: s
                        .attributes
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            kibana_enabled: kibana.is_some(),
            kibana_count: kibana.map_or("1".into(), |k| k.count.to_string()),
            kibana_cpu_cores: kibana.map_or("0.5".into(), |k| {
                units::cores_input(i64::from(k.cpu_millis))
            }),
            kibana_memory_gib: kibana
                .map_or("1".into(), |k| units::gib_input(i64::from(k.memory_mib))),
            http_tls: spec.http_tls,
        }
    }

    /// Read the submitted pairs. Unknown names are ignored; node sets are ordered by their index.
    pub fn parse(pairs: &[(String, String)]) -> (Self, FormAction) {
        let mut form = ClusterForm::default();
        let mut action = FormAction::Create;
        let mut sets: BTreeMap<usize, NodeSetFields> = BTreeMap::new();
        for (key, value) in pairs {
            match key.as_str() {
                "name" => form.name = value.trim().to_owned(),
                "template" => form.template = value.clone(),
                "version" => form.version = value.clone(),
                "http_tls" => form.http_tls = true,
                "kibana.enabled" => form.kibana_enabled = true,
                "kibana.count" => form.kibana_count = value.clone(),
                "kibana.cpu_cores" => form.kibana_cpu_cores = value.clone(),
                "kibana.memory_gib" => form.kibana_memory_gib = value.clone(),
                "action" => action = FormAction::parse(value),
                other => {
                    let Some(rest) = other.strip_prefix("node_sets.") else {
                        continue;
                    };
                    let Some((index, field)) = rest.split_once('.') else {
                        continue;
                    };
                    let Some(index) = index.parse::<usize>().ok().filter(|i| *i <= MAX_INDEX)
                    else {
                        continue;
                    };
                    let set = sets.entry(index).or_default();
                    match field {
                        "name" => set.name = value.clone(),
                        "roles" => set.roles.push(value.clone()),
                        "count" => set.count = value.clone(),
                        "cpu_cores" => set.cpu_cores = value.clone(),
                        "memory_gib" => set.memory_gib = value.clone(),
                        "storage_gib" => set.storage_gib = value.clone(),
                        "storage_class" => set.storage_class = value.clone(),
                        "attributes" => set.attributes = value.clone(),
                        _ => {}
                    }
                }
            }
        }
        form.node_sets = sets.into_values().collect();
        (form, action)
    }

    /// Append a node set: a copy of the last one's sizes with a fresh name and the data role, or a small
    /// default when there is none.
    pub fn add_node_set(&mut self) {
        let base = self.node_sets.last().cloned().unwrap_or(NodeSetFields {
            count: "1".into(),
            cpu_cores: "1".into(),
            memory_gib: "2".into(),
            storage_gib: "10".into(),
            ..NodeSetFields::default()
        });
        let mut n = self.node_sets.len() + 1;
        let taken = |name: &str| self.node_sets.iter().any(|s| s.name == name);
        while taken(&format!("set-{n}")) {
            n += 1;
        }
        self.node_sets.push(NodeSetFields {
            name: format!("set-{n}"),
            roles: vec![NodeRole::Data.as_str().to_owned()],
            attributes: String::new(),
            storage_class: base.storage_class.clone(),
            ..base
        });
    }

    /// Give the node set at `index` a preset's CPU, memory and storage (no-op when out of range).
    pub fn apply_preset(&mut self, index: usize, preset: &SizePreset) {
        if let Some(set) = self.node_sets.get_mut(index) {
            set.cpu_cores = units::cores_input(i64::from(preset.cpu_millis));
            set.memory_gib = units::gib_input(i64::from(preset.memory_mib));
            set.storage_gib = preset.storage_gib.to_string();
        }
    }

    /// Remove the node set at `index` (no-op when out of range).
    pub fn remove_node_set(&mut self, index: usize) {
        if index < self.node_sets.len() {
            self.node_sets.remove(index);
        }
    }

    /// The spec input the validation takes (CPU and memory converted to millicores and MiB), plus the errors
    /// only the form can find: malformed attributes, and CPU or memory that is not a number of cores or GiB
    /// or is outside `bounds`, said in cores or GiB. Combine them with the validation's errors through
    /// [`size_fields::merge`].
    pub fn to_input(&self, bounds: &SizeBounds) -> (ClusterSpecInput, FieldErrors) {
        let mut errors = FieldErrors::new();
        let mut size = |field: String, raw: &str, reading: Reading| {
            if let Some(message) = reading.error {
                errors.add(field, message);
            }
            // What the validation gets when the form refused the value does not matter: the form's message
            // replaces the validation's for this field.
            Some(reading.value.map_or_else(
                || NumberInput::from(raw),
                |v| NumberInput::from(i64::from(v)),
            ))
        };
        let mut sets = Vec::new();
        for (i, s) in self.node_sets.iter().enumerate() {
            let cpu = size(
                format!("node_sets.{i}.cpu_cores"),
                &s.cpu_cores,
                size_fields::read_cpu(&s.cpu_cores, bounds),
            );
            let memory = size(
                format!("node_sets.{i}.memory_gib"),
                &s.memory_gib,
                size_fields::read_memory(&s.memory_gib, bounds),
            );
            sets.push((cpu, memory));
        }
        let kibana_sizes = self.kibana_enabled.then(|| {
            (
                size(
                    "kibana.cpu_cores".into(),
                    &self.kibana_cpu_cores,
                    size_fields::read_cpu(&self.kibana_cpu_cores, bounds),
                ),
                size(
                    "kibana.memory_gib".into(),
                    &self.kibana_memory_gib,
                    size_fields::read_memory(&self.kibana_memory_gib, bounds),
                ),
            )
        });
        let node_sets = self
            .node_sets
            .iter()
            .zip(sets)
            .enumerate()
            .map(|(i, (s, (cpu, memory)))| NodeSetInput {
                name: s.name.trim().to_owned(),
                roles: s.roles.clone(),
                count: Some(NumberInput::from(s.count.as_str())),
                cpu_millis: cpu,
                memory_mib: memory,
                storage_gib: Some(NumberInput::from(s.storage_gib.as_str())),
                storage_class: Some(s.storage_class.trim().to_owned()).filter(|c| !c.is_empty()),
                attributes: match parse_attributes(&s.attributes) {
                    Ok(map) => map,
                    Err(message) => {
                        errors.add(format!("node_sets.{i}.attributes"), message);
                        BTreeMap::new()
                    }
                },
            })
            .collect();
        let input = ClusterSpecInput {
            version: self.version.trim().to_owned(),
            node_sets,
            kibana: kibana_sizes.map(|(cpu, memory)| KibanaInput {
                count: Some(NumberInput::from(self.kibana_count.as_str())),
                cpu_millis: cpu,
                memory_mib: memory,
            }),
            http_tls: Some(self.http_tls),
            ip_allow_list: None,
        };
        (input, errors)
    }

    /// What the cluster would take from the quota, read leniently (a number that does not parse counts as
    /// 0), so the preview shows even while some field is still invalid.
    pub fn lenient_totals(&self) -> Resources {
        let n = |s: &str| s.trim().parse::<i64>().unwrap_or(0).clamp(0, 1_000_000);
        let cores = |s: &str| units::parse_cores(s).unwrap_or(0).clamp(0, 1_000_000_000);
        let gib = |s: &str| units::parse_gib(s).unwrap_or(0).clamp(0, 1_000_000_000);
        let mut total = Resources {
            clusters: 1,
            ..Resources::default()
        };
        for s in &self.node_sets {
            let count = n(&s.count);
            total.nodes += count;
            total.cpu_millis += count * cores(&s.cpu_cores);
            total.memory_mib += count * gib(&s.memory_gib);
            total.storage_gib += count * n(&s.storage_gib);
        }
        if self.kibana_enabled {
            let count = n(&self.kibana_count);
            total.cpu_millis += count * cores(&self.kibana_cpu_cores);
            total.memory_mib += count * gib(&self.kibana_memory_gib);
        }
        total
    }
}

/// `key=value, key=value` (commas or new lines between pairs; `key: value` also accepted).
pub fn parse_attributes(raw: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for part in raw
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((k, v)) = part.split_once('=').or_else(|| part.split_once(':')) else {
            return Err(format!(
                "`{part}` is not an attribute: write key=value pairs separated by commas, e.g. data=hot"
            ));
        };
        if map
            .insert(k.trim().to_owned(), v.trim().to_owned())
            .is_some()
        {
            return Err(format!("attribute `{}` is given twice", k.trim()));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::templates;
    use crate::spec::validate;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_dotted_fields_in_index_order() {
        let (form, action) = ClusterForm::parse(&pairs(&[
            ("name", " logs "),
            ("version", "9.2.1"),
            ("node_sets.1.name", "data"),
            ("node_sets.1.roles", "data"),
            ("node_sets.0.name", "master"),
            ("node_sets.0.roles", "master"),
            ("node_sets.0.roles", "ingest"),
            ("node_sets.0.count", "3"),
            ("node_sets.999.name", "ignored"),
            ("kibana.enabled", "on"),
            ("kibana.count", "2"),
            ("action", "remove_node_set:1"),
        ]));
        assert_eq!(form.name, "logs");
        assert_eq!(form.node_sets.len(), 2);
        assert_eq!(form.node_sets[0].name, "master");
        assert_eq!(form.node_sets[0].roles, ["master", "ingest"]);
        assert!(form.kibana_enabled);
        assert!(!form.http_tls, "an unchecked checkbox is absent");
        assert_eq!(action, FormAction::RemoveNodeSet(1));
        assert_eq!(FormAction::parse("add_node_set"), FormAction::AddNodeSet);
        assert_eq!(FormAction::parse("anything"), FormAction::Create);
    }

    #[test]
    fn template_round_trips_through_the_form() {
        let rules = SpecRules::default();
        for t in templates::templates() {
            let form = ClusterForm::from_template(&t, &rules);
            let (input, errors) = form.to_input(&rules.bounds);
            assert!(errors.is_empty());
            let spec = validate(&input, &t.rules(&rules), None).unwrap();
            assert_eq!(spec, t.spec, "{}", t.id);
            assert_eq!(form.lenient_totals(), t.spec.resources(), "{}", t.id);
        }
    }

    /// The form pre-filled from a template and a create naming only the template (the API's) are accepted or
    /// refused together, and give the same spec, whichever versions the platform offers.
    #[test]
    fn the_form_and_a_template_create_agree_on_the_version() {
        use crate::clusters::service::{CreateRequest, resolve_create};
        use crate::spec::EsVersion;
        let v = EsVersion::new;
        let offers = [
            vec![v(8, 19, 7), v(9, 2, 1)],
            vec![v(9, 1, 0), v(8, 19, 7)],
            vec![v(8, 19, 7)],
            vec![v(8, 18, 0), v(8, 19, 7)],
        ];
        for offered in offers {
            let rules = SpecRules {
                allowed_versions: offered.clone(),
                ..SpecRules::default()
            };
            for t in templates::templates() {
                let form = ClusterForm::from_template(&t, &rules);
                let (input, errors) = form.to_input(&rules.bounds);
                assert!(errors.is_empty(), "{}: {errors}", t.id);
                let request = |spec| CreateRequest {
                    name: "logs".into(),
                    template: Some(t.id.to_owned()),
                    spec,
                };
                let from_form = resolve_create(&request(Some(input)), &rules);
                let from_template = resolve_create(&request(None), &rules);
                let (form_spec, template_spec) = match (from_form, from_template) {
                    (Ok(a), Ok(b)) => (a.1, b.1),
                    (a, b) => panic!("{} with {offered:?}: form {a:?}, template {b:?}", t.id),
                };
                assert_eq!(form_spec, template_spec, "{} with {offered:?}", t.id);
                assert!(offered.contains(&form_spec.version));
            }
        }
    }

    #[test]
    fn sizes_are_typed_in_cores_and_gib() {
        let rules = SpecRules::default();
        let mut form =
            ClusterForm::from_template(&templates::template("three-nodes").unwrap(), &rules);
        assert_eq!(
            (
                form.node_sets[0].cpu_cores.as_str(),
                form.node_sets[0].memory_gib.as_str()
            ),
            ("1", "2")
        );
        assert_eq!(
            (
                form.kibana_cpu_cores.as_str(),
                form.kibana_memory_gib.as_str()
            ),
            ("0.5", "1")
        );
        form.node_sets[0].cpu_cores = "1.5".into();
        form.node_sets[0].memory_gib = "2.5".into();
        let (input, errors) = form.to_input(&rules.bounds);
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(
            input.node_sets[0].cpu_millis,
            Some(NumberInput::Number(1500))
        );
        assert_eq!(
            input.node_sets[0].memory_mib,
            Some(NumberInput::Number(2560))
        );
        assert_eq!(form.lenient_totals().cpu_millis, 3 * 1500 + 500);
        assert_eq!(form.lenient_totals().memory_mib, 3 * 2560 + 1024);

        form.node_sets[0].cpu_cores = "32".into();
        form.kibana_memory_gib = "lots".into();
        let (_, errors) = form.to_input(&rules.bounds);
        assert_eq!(
            errors.get("node_sets.0.cpu_cores"),
            Some("Choose from 0.25 to 16 cores.")
        );
        assert_eq!(
            errors.get("kibana.memory_gib"),
            Some("Enter a number of GiB, such as 1.5.")
        );
        assert_eq!(
            form.lenient_totals().cpu_millis,
            3 * 32_000 + 500,
            "the preview counts it"
        );
    }

    #[test]
    fn attributes_parse_or_explain() {
        let map = parse_attributes("data=hot, zone: a\nrack = r1").unwrap();
        assert_eq!(map["data"], "hot");
        assert_eq!(map["zone"], "a");
        assert_eq!(map["rack"], "r1");
        assert!(parse_attributes("").unwrap().is_empty());
        assert!(parse_attributes("hot").unwrap_err().contains("key=value"));
        assert!(parse_attributes("a=1,a=2").unwrap_err().contains("twice"));
    }

    #[test]
    fn add_and_remove_node_sets() {
        let mut form = ClusterForm::default();
        form.add_node_set();
        form.add_node_set();
        assert_eq!(form.node_sets[1].name, "set-2");
        assert_eq!(form.node_sets[1].roles, ["data"]);
        form.remove_node_set(0);
        form.remove_node_set(7);
        assert_eq!(form.node_sets.len(), 1);
        form.add_node_set();
        assert_eq!(form.node_sets[1].name, "set-3");
    }

    #[test]
    fn lenient_totals_ignore_garbage() {
        let mut form = ClusterForm::default();
        form.add_node_set();
        form.node_sets[0].count = "two".into();
        assert_eq!(form.lenient_totals().nodes, 0);
        form.node_sets[0].count = "-4".into();
        assert_eq!(form.lenient_totals().nodes, 0);
        form.node_sets[0].count = "4".into();
        assert_eq!(form.lenient_totals().cpu_millis, 4000);
    }
}
