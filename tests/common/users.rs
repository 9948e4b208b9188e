//! Users made directly through the accounts repository (the password hashed as at sign-up).

use esaas::accounts::email::Email;
use secrecy::SecretString;
use sqlx::PgPool;
use uuid::Uuid;

/// Create a user with `email` and `password` (a platform admin or not); returns the id.
pub async fn create_user(pool: &PgPool, email: &str, password: &str, platform_admin: bool) -> Uuid {
    let mut conn = pool.acquire().await.unwrap();
    esaas::accounts::users::create(
        &mut conn,
        &Email::parse(email).unwrap(),
        "",
        SecretString::from(password.to_owned()),
        platform_admin,
    )
    .await
    .unwrap()
    .id
}
