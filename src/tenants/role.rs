//! Roles of a tenant member and what each may do. Every permission check in handlers goes through these
//! methods, so the rules live in one place.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Label of the access a platform admin has to a tenant they are not a member of (shown where a role would
/// be).
pub const PLATFORM_ADMIN_ROLE: &str = "platform-admin";

/// A member's role in a tenant, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including managing owners.
    Owner,
    /// Everything except removing or demoting owners.
    Admin,
    /// Requests and changes clusters; sees credentials.
    Member,
    /// Reads only.
    Viewer,
}

impl Role {
    /// All roles, most powerful first.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    /// Parse the wire/database name; the error is the message to show at the field.
    pub fn parse(s: &str) -> Result<Role, String> {
        match s.trim() {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            "viewer" => Ok(Role::Viewer),
            _ => Err("Choose one of owner, admin, member, viewer.".into()),
        }
    }

    /// The wire/database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    /// May add/remove members and change roles (owners only may touch owners: see `can_assign`).
    pub fn can_manage_members(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// May give `target` to someone, or change/remove someone who has `target`.
    pub fn can_assign(self, target: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => target != Role::Owner,
            _ => false,
        }
    }

    /// May request, change and delete clusters.
    pub fn can_change_clusters(self) -> bool {
        matches!(self, Role::Owner | Role::Admin | Role::Member)
    }

    /// May reveal cluster credentials (the elastic user's password).
    pub fn can_view_credentials(self) -> bool {
        matches!(self, Role::Owner | Role::Admin | Role::Member)
    }

    /// May manage the tenant's API tokens and see its audit log.
    pub fn can_administer(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn parse_round_trips() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn permissions() {
        assert!(!Role::Viewer.can_change_clusters());
        assert!(Role::Member.can_change_clusters());
        assert!(!Role::Member.can_manage_members());
        assert!(Role::Admin.can_manage_members());
        assert!(!Role::Admin.can_assign(Role::Owner));
        assert!(Role::Owner.can_assign(Role::Owner));
    }
}
