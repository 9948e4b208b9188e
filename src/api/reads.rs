//! The hot read path: `GET .../clusters/{name}` (and its status) needs the tenant, the caller's
//! membership and the cluster.
//!
//! * [`read::tenant_and_cluster`] reads all three in one query (the web's cluster pages use the same read)
//!   and [`cluster_in_tenant`] applies the same access rule as [`TenantCtx`] (a tenant the caller cannot
//!   see is 404 whether the cluster exists or not).
//! * [`ReadCache`] keeps what that read found per (user, tenant, cluster name) for a short time
//!   (`ESAAS_API_READ_CACHE_MS`, default 250 ms; 0 disables it), so a client polling a cluster, or many
//!   clients reading the same one, cost one query per interval instead of one per request. Every change made
//!   through the API drops the tenant's entries when it completes (read-your-writes for API clients); changes
//!   by other writers (the web UI, the observer's status updates, another replica, a membership change) are
//!   seen within the interval. The access rules run on every request, against the caller of that request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::ApiState;
use super::access::{TenantCtx, tenant_slug};
use super::auth::ApiCaller;
use super::error::{ApiError, ApiResult};
use crate::clusters::read::{self, Found};

/// Entries kept before expired ones are swept.
const SWEEP_ABOVE: usize = 10_000;

type Key = (Uuid, String, String);

/// Recent [`Found`]s by (user, tenant slug, cluster name).
#[derive(Debug)]
pub struct ReadCache {
    ttl: Duration,
    entries: Mutex<HashMap<Key, (Instant, Arc<Found>)>>,
}

impl ReadCache {
    /// A cache keeping entries for `ttl` (zero: nothing is kept).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (Instant, Arc<Found>)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, key: &Key) -> Option<Arc<Found>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.lock();
        let (at, found) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| found.clone())
    }

    fn put(&self, key: Key, found: Arc<Found>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() > SWEEP_ABOVE {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        entries.insert(key, (Instant::now(), found));
    }

    /// Forget everything about a tenant (after a change to it through the API).
    pub fn invalidate_tenant(&self, slug: &str) {
        self.lock().retain(|(_, s, _), _| s != slug);
    }
}

/// The tenant context and a live cluster of it, or 404 (from the cache when fresh).
pub async fn cluster_in_tenant(
    api: &ApiState,
    caller: ApiCaller,
    slug: &str,
    name: &str,
) -> ApiResult<(TenantCtx, Arc<Found>)> {
    tenant_slug(slug)?;
    let key = (caller.user_id(), slug.to_owned(), name.to_owned());
    let found = match api.reads.get(&key) {
        Some(found) => found,
        None => {
            let mut conn = api.app.db.acquire().await?;
            let found = read::tenant_and_cluster(&mut conn, caller.user_id(), slug, name).await?;
            let found = Arc::new(found.ok_or_else(ApiError::not_found)?);
            api.reads.put(key, found.clone());
            found
        }
    };
    let ctx = TenantCtx::authorize(caller, found.tenant.clone(), found.role.as_deref())?;
    if found.cluster.is_none() {
        return Err(ApiError::not_found());
    }
    Ok((ctx, found))
}
