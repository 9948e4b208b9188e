//! The portal's own Elasticsearch user: `esaas-portal` with the role `esaas_portal`, declared to ECK through
//! `spec.auth.fileRealm` (Secret `<cluster>-esaas-portal-user`, type `kubernetes.io/basic-auth`, keys
//! `username`, `password`, `roles`) and the role itself through `spec.auth.roles` (the same Secret's
//! `roles.yml` key). Revoking the portal never touches the tenant's `elastic` user.
//!
//! Least privilege: the role grants the cluster privilege `monitor` (health, nodes, stats, allocation
//! explain, cluster settings read) and, on every index, `monitor` and `view_index_metadata` (reading) plus the
//! one change the portal makes itself, the action `indices:admin/settings/update` (the replicas fix). It
//! cannot create, delete, read or write documents, change cluster settings or manage security. Issues that
//! need more widen [`ROLE_DEFINITION`], and the reconciler re-applies it to every cluster.
//!
//! Decision: the password is *derived*, not stored: HMAC-SHA256 of the portal's key
//! (`ESAAS_ES_USER_KEY`) and the cluster id, base64url. It is stable across re-applies and portal restarts
//! (same key, same id), differs per cluster, needs no Postgres column holding a credential (a database dump
//! reveals nothing), and the inspector computes it without reading a Secret. Rotating the key rotates every
//! portal password: the reconciler re-applies the Secrets, and the inspector re-applies a cluster's Secret
//! itself when Elasticsearch refuses the derived password. Without a configured key a random one is made at
//! start-up (fine for the simulated Kubernetes, which lives as long as the process).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

/// The user name.
pub const USERNAME: &str = "esaas-portal";
/// Its roles (comma-separated, as the file-realm Secret's `roles` key holds them).
pub const ROLES: &str = "esaas_portal";

/// The `roles.yml` defining [`ROLES`] (the Secret's `roles.yml` key, named in `spec.auth.roles`).
pub const ROLE_DEFINITION: &str = "\
esaas_portal:
  cluster: [\"monitor\"]
  indices:
    - names: [\"*\"]
      privileges: [\"monitor\", \"view_index_metadata\", \"indices:admin/settings/update\"]
      allow_restricted_indices: false
";

/// The Secret holding the portal user of a cluster.
pub fn secret_name(cluster_name: &str) -> String {
    format!("{cluster_name}-esaas-portal-user")
}

/// The key the passwords are derived from.
#[derive(Clone)]
pub struct PortalUserKey(SecretString);

impl std::fmt::Debug for PortalUserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortalUserKey(<redacted>)")
    }
}

impl PortalUserKey {
    /// A configured key (at least 32 characters).
    pub fn new(key: SecretString) -> Result<Self, String> {
        if key.expose_secret().len() < 32 {
            return Err("must be at least 32 characters".into());
        }
        Ok(Self(key))
    }

    /// A random key for this process.
    pub fn random() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The portal user's password of cluster `cluster_id`.
    pub fn password(&self, cluster_id: Uuid) -> PortalPassword {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"esaas-portal-user:");
        mac.update(cluster_id.as_bytes());
        PortalPassword(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }
}

/// A portal user password (never printed by `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct PortalPassword(String);

impl PortalPassword {
    /// A fixed password (render tests).
    pub fn from_static(password: &str) -> Self {
        Self(password.to_owned())
    }

    /// The password.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PortalPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortalPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_stable_per_cluster_and_key() {
        let key = PortalUserKey::new(SecretString::from("k".repeat(32))).unwrap();
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        assert_eq!(key.password(a), key.password(a), "stable across re-applies");
        assert_ne!(key.password(a), key.password(b), "different per cluster");
        assert_ne!(
            PortalUserKey::random().password(a),
            key.password(a),
            "different per key"
        );
        assert_eq!(key.password(a).expose().len(), 43, "256 bits, base64url");
        assert!(!format!("{:?}", key.password(a)).contains(key.password(a).expose()));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(PortalUserKey::new(SecretString::from("short".to_owned())).is_err());
        assert_eq!(secret_name("logs"), "logs-esaas-portal-user");
    }
}
