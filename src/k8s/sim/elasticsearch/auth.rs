//! Basic authentication against the cluster's users and what their roles allow: `superuser` (the `elastic`
//! user, or any user with that role) everything; `monitor` (and the built-in `monitoring_user`) the read-only
//! monitoring API (GET of health, nodes, cat, stats, settings, and allocation explain); anyone else nothing.
//! Failures answer as Elasticsearch does: 401 `security_exception` with `WWW-Authenticate`, 403
//! `security_exception` naming the action and the privileges that grant it.

use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::model::Users;

/// `WWW-Authenticate` values of a cluster with the native, file and token realms.
pub const WWW_AUTHENTICATE: [&str; 3] = [
    "Basic realm=\"security\", charset=\"UTF-8\"",
    "Bearer realm=\"security\"",
    "ApiKey",
];

/// The caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// Username.
    pub user: String,
    /// Roles.
    pub roles: Vec<String>,
}

impl Caller {
    /// May do everything?
    pub fn superuser(&self) -> bool {
        self.roles.iter().any(|r| r == "superuser")
    }

    /// May read the monitoring API?
    pub fn monitor(&self) -> bool {
        self.superuser()
            || self.roles.iter().any(|r| {
                matches!(
                    r.as_str(),
                    "monitor" | "monitoring_user" | "remote_monitoring_collector"
                )
            })
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
            Ok(Caller {
                user: user.to_string(),
                roles: roles.clone(),
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
