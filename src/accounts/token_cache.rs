//! The cache of resolved API tokens: a token's owner is trusted for [`CACHE_TTL`] without asking Postgres
//! again, so the API's hot path does not query for the token. Revoking a token or disabling a user through
//! this process drops the entries at once ([`TokenCache::forget`], [`TokenCache::forget_user`]); a change
//! made elsewhere (CLI, another replica) takes effect within `CACHE_TTL`. Expiry is checked on every
//! resolve. `last_used_at` is written at most once a minute per token, off the request path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::PgPool;
use uuid::Uuid;

use super::tokens::{self, TokenOwner};
use crate::error::AppResult;

/// How long a resolved token is trusted without asking the database again.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// Entries kept before the cache is swept.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone)]
struct Entry {
    owner: Arc<TokenOwner>,
    fetched: Instant,
}

/// Recently resolved tokens by hash.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The owner of a live token, from the cache or the database.
    pub async fn resolve(&self, db: &PgPool, token: &str) -> AppResult<Option<Arc<TokenOwner>>> {
        if !tokens::is_well_formed(token) {
            return Ok(None);
        }
        let hash = tokens::hash(token);
        let now = Instant::now();
        let cached = self
            .lock()
            .get(&hash)
            .filter(|e| now.duration_since(e.fetched) < CACHE_TTL)
            .map(|e| e.owner.clone());
        let owner = match cached {
            Some(owner) => owner,
            None => {
                let Some((owner, stale)) = tokens::lookup(db, &hash).await? else {
                    self.lock().remove(&hash);
                    return Ok(None);
                };
                if stale {
                    let db = db.clone();
                    let id = owner.token_id;
                    tokio::spawn(async move {
                        if let Err(e) = tokens::touch(&db, id).await {
                            tracing::warn!(error = %e, "could not record the token's last use");
                        }
                    });
                }
                let owner = Arc::new(owner);
                let mut entries = self.lock();
                if entries.len() > SWEEP_ABOVE {
                    entries.retain(|_, e| now.duration_since(e.fetched) < CACHE_TTL);
                }
                entries.insert(
                    hash,
                    Entry {
                        owner: owner.clone(),
                        fetched: now,
                    },
                );
                owner
            }
        };
        if owner.expires_at <= Utc::now() {
            return Ok(None);
        }
        Ok(Some(owner))
    }

    /// Drop a token from the cache (after it was revoked here).
    pub fn forget(&self, token_id: Uuid) {
        self.lock().retain(|_, e| e.owner.token_id != token_id);
    }

    /// Drop every token of a user from the cache (after the user was disabled here).
    pub fn forget_user(&self, user_id: Uuid) {
        self.lock().retain(|_, e| e.owner.user_id != user_id);
    }
}
