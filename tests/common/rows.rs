//! Reading the database back: how many rows a table has (to prove a request wrote nothing, or one row).

use sqlx::PgPool;

/// Number of rows in `table` (a plain table name: lowercase letters and `_`, as the tests write them).
pub async fn count_rows(pool: &PgPool, table: &str) -> i64 {
    assert!(
        table.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "not a table name: {table}"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(pool)
        .await
        .unwrap()
}
