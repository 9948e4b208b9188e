//! Basic authentication against the cluster's users and what their roles allow, as Elasticsearch's role
//! model has it: a role grants cluster privileges and, per index pattern, index privileges; a privilege is a
//! named one (`monitor`, `manage`, `view_index_metadata`, `all`, ...) or an action pattern
//! (`indices:admin/settings/update`, `indices:admin/*`). Built-in roles: `superuser` (everything),
//! `monitoring_user` and `remote_monitoring_collector` (cluster `monitor`); custom roles come from the
//! `roles.yml` of the Secrets in `spec.auth.roles` (ECK), and an unknown role grants nothing, as in
//! Elasticsearch. Failures answer as Elasticsearch does: 401 `security_exception` with `WWW-Authenticate`,
//! 403 `security_exception` naming the action and the privileges that grant it.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::model::Users;

/// `WWW-Authenticate` values of a cluster with the native, file and token realms.
pub const WWW_AUTHENTICATE: [&str; 3] = [
    "Basic realm=\"security\", charset=\"UTF-8\"",
    "Bearer realm=\"security\"",
    "ApiKey",
];

/// A role's privileges (a `roles.yml` entry).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RoleDef {
    /// Cluster privileges.
    #[serde(default)]
    pub cluster: Vec<String>,
    /// Index privileges per index pattern.
    #[serde(default)]
    pub indices: Vec<IndexGrant>,
}

/// Index privileges on the indices matching `names`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct IndexGrant {
    /// Index names or patterns (`*`, `logs-*`).
    pub names: Vec<String>,
    /// Privileges.
    pub privileges: Vec<String>,
}

impl RoleDef {
    /// A built-in role, by name.
    pub fn builtin(name: &str) -> Option<RoleDef> {
        let grant = |names: &[&str], privileges: &[&str]| IndexGrant {
            names: names.iter().map(|s| s.to_string()).collect(),
            privileges: privileges.iter().map(|s| s.to_string()).collect(),
        };
        match name {
            "superuser" => Some(RoleDef {
                cluster: vec!["all".into()],
                indices: vec![grant(&["*"], &["all"])],
            }),
            "monitoring_user" | "remote_monitoring_collector" => Some(RoleDef {
                cluster: vec!["monitor".into()],
                indices: vec![grant(&[".monitoring-*"], &["read"])],
            }),
            _ => None,
        }
    }

    /// Parse a `roles.yml` (role name -> definition).
    pub fn parse_file(yaml: &str) -> Result<BTreeMap<String, RoleDef>, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }
}

/// The caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// Username.
    pub user: String,
    /// Role names.
    pub roles: Vec<String>,
    /// What those roles grant (unknown roles left out).
    pub grants: Vec<RoleDef>,
}

impl Caller {
    /// May do everything?
    pub fn superuser(&self) -> bool {
        self.roles.iter().any(|r| r == "superuser")
    }

    /// May call `action`: a cluster privilege for a cluster action; for an index action, an index privilege
    /// on a pattern matching every index the request names.
    pub fn may(&self, action: &Action) -> bool {
        let granted_by: Vec<&str> = action.granted_by.split(',').collect();
        let grants = |privileges: &[String]| {
            privileges.iter().any(|p| {
                p == "all" || granted_by.contains(&p.as_str()) || action_matches(p, action.name)
            })
        };
        match &action.index {
            None => self.grants.iter().any(|r| grants(&r.cluster)),
            Some(indices) => indices.split(',').all(|index| {
                self.grants.iter().any(|r| {
                    r.indices.iter().any(|g| {
                        g.names.iter().any(|n| name_matches(n, index)) && grants(&g.privileges)
                    })
                })
            }),
        }
    }
}

/// A privilege given as an action pattern (`indices:admin/settings/update`, `indices:admin/*`) matches
/// `action`.
fn action_matches(privilege: &str, action: &str) -> bool {
    if !privilege.contains(':') {
        return false;
    }
    match privilege.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => privilege == action,
    }
}

/// An index pattern of a role (`*`, `logs-*`, `events`) covers the index expression `index`.
fn name_matches(pattern: &str, index: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => index.starts_with(prefix) && (prefix.is_empty() || !index.contains('*')),
        None => pattern == index,
    }
}

/// Why authentication failed.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthFailure {
    /// No (Basic) credentials.
    Missing,
    /// Unknown user or wrong password.
    Wrong(String),
}

/// Check `Authorization: Basic ...` against the users.
pub fn authenticate(users: &Users, authorization: Option<&str>) -> Result<Caller, AuthFailure> {
    let header = authorization.ok_or(AuthFailure::Missing)?.trim();
    let (scheme, value) = header.split_once(' ').ok_or(AuthFailure::Missing)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(AuthFailure::Missing);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(AuthFailure::Missing)?;
    let (user, password) = decoded.split_once(':').ok_or(AuthFailure::Missing)?;
    match users.users.get(user) {
        Some((expected, roles)) if bool::from(expected.as_bytes().ct_eq(password.as_bytes())) => {
            let grants = roles
                .iter()
                .filter_map(|r| users.roles.get(r).cloned().or_else(|| RoleDef::builtin(r)))
                .collect();
            Ok(Caller {
                user: user.to_string(),
                roles: roles.clone(),
                grants,
            })
        }
        _ => Err(AuthFailure::Wrong(user.to_string())),
    }
}

/// The action name and the privileges granting it, for a request (used in the 403 text).
pub struct Action {
    /// `cluster:monitor/health`, `indices:admin/create`, ...
    pub name: &'static str,
    /// Index the action is on, for index actions.
    pub index: Option<String>,
    /// Privileges that grant it.
    pub granted_by: &'static str,
    /// Read-only monitoring action?
    pub monitoring: bool,
}

/// The 403 reason.
pub fn forbidden_reason(a: &Action, c: &Caller) -> String {
    let roles = c.roles.join(",");
    match &a.index {
        Some(i) => format!(
            "action [{}] is unauthorized for user [{}] with effective roles [{roles}] on indices [{i}], this action is granted by the index privileges [{}]",
            a.name, c.user, a.granted_by
        ),
        None => format!(
            "action [{}] is unauthorized for user [{}] with effective roles [{roles}], this action is granted by the cluster privileges [{}]",
            a.name, c.user, a.granted_by
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::portal_user;

    fn action(name: &'static str, index: Option<&str>, granted_by: &'static str) -> Action {
        Action {
            name,
            index: index.map(str::to_owned),
            granted_by,
            monitoring: false,
        }
    }

    fn caller(roles: &[&str], defined: &BTreeMap<String, RoleDef>) -> Caller {
        let mut users = Users::default();
        users.users.insert(
            "u".into(),
            ("pw".into(), roles.iter().map(|r| r.to_string()).collect()),
        );
        users.roles = defined.clone();
        let basic = base64::engine::general_purpose::STANDARD.encode("u:pw");
        authenticate(&users, Some(&format!("Basic {basic}"))).unwrap()
    }

    #[test]
    fn the_portal_role_reads_and_sets_replicas_and_nothing_else() {
        let defined = RoleDef::parse_file(portal_user::ROLE_DEFINITION).unwrap();
        let portal = caller(&[portal_user::ROLES], &defined);
        let allowed = [
            action("cluster:monitor/health", None, "monitor,manage,all"),
            action(
                "cluster:monitor/allocation/explain",
                None,
                "monitor,manage,all",
            ),
            action("cluster:monitor/settings", None, "monitor,manage,all"),
            action(
                "indices:monitor/settings/get",
                Some("logs"),
                "view_index_metadata,manage,all",
            ),
            action(
                "indices:admin/settings/update",
                Some("logs,events"),
                "manage,all",
            ),
        ];
        for a in &allowed {
            assert!(portal.may(a), "{} should be allowed", a.name);
        }
        let refused = [
            action("cluster:admin/settings/update", None, "manage,all"),
            action("indices:admin/create", Some("x"), "create_index,manage,all"),
            action(
                "indices:admin/delete",
                Some("logs"),
                "delete_index,manage,all",
            ),
            action("indices:data/write/bulk", None, "all"),
            action("indices:data/read/search", Some("logs"), "read,all"),
        ];
        for a in &refused {
            assert!(!portal.may(a), "{} should be refused", a.name);
        }
    }

    #[test]
    fn unknown_roles_grant_nothing_and_patterns_match_as_in_elasticsearch() {
        let none = caller(&["monitor"], &BTreeMap::new());
        assert!(
            !none.may(&action(
                "cluster:monitor/health",
                None,
                "monitor,manage,all"
            )),
            "`monitor` is a privilege, not a built-in role"
        );
        assert!(caller(&["monitoring_user"], &BTreeMap::new()).may(&action(
            "cluster:monitor/health",
            None,
            "monitor,manage,all"
        )));
        let defined = RoleDef::parse_file(
            "logs_admin:\n  indices:\n    - names: [\"logs-*\"]\n      privileges: [\"indices:admin/*\"]\n",
        )
        .unwrap();
        let logs = caller(&["logs_admin"], &defined);
        let delete = |i: &str| action("indices:admin/delete", Some(i), "delete_index,manage,all");
        assert!(logs.may(&delete("logs-2026")));
        assert!(!logs.may(&delete("metrics")));
        assert!(
            !logs.may(&delete("*")),
            "a pattern does not cover every index"
        );
        assert!(!logs.may(&action(
            "indices:data/read/search",
            Some("logs-1"),
            "read,all"
        )));
        assert!(RoleDef::parse_file("not: [valid").is_err());
    }
}
