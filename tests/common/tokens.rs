//! API tokens made directly through the token store as the system actor; the secret is returned, for
//! `bearer_auth`.

use esaas::accounts::tokens::{self, NewToken};
use esaas::audit::Actor;
use esaas::request_meta::RequestMeta;
use sqlx::PgPool;
use uuid::Uuid;

/// A new token of `user_id` as described by `new`; returns its secret.
pub async fn create_token(pool: &PgPool, user_id: Uuid, new: NewToken) -> String {
    let mut conn = pool.acquire().await.unwrap();
    tokens::create(
        &mut conn,
        user_id,
        &Actor::system(),
        &RequestMeta::default(),
        &new,
    )
    .await
    .unwrap()
    .1
}

/// A new token of `user_id` named "test", living 90 days, limited to `tenant` if given and read-only if
/// asked; returns its secret.
pub async fn api_token(
    pool: &PgPool,
    user_id: Uuid,
    tenant: Option<Uuid>,
    read_only: bool,
) -> String {
    create_token(
        pool,
        user_id,
        NewToken {
            name: "test".into(),
            tenant_id: tenant,
            read_only,
            expires_in_days: 90,
        },
    )
    .await
}
