//! A NUL character in any web form field (or in a page's query string) is refused with 400 and a message,
//! never a 500: Postgres text cannot hold it.

use sqlx::PgPool;

use super::common::TestApp;
use super::{PASSWORD, post_login_with};

const NUL_MESSAGE: &str = "contains a NUL character";

#[sqlx::test]
async fn nul_characters_in_forms_and_query_strings_are_400(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.create_user("root@example.com", PASSWORD, true).await;

    // The login form, without a session.
    let response = post_login_with(
        &app,
        "",
        &[],
        &[("email", "ann\0@example.com"), ("password", "x")],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains(NUL_MESSAGE));

    // Forms of a signed-in user: the account's password form, an admin form (field value and field name).
    let client = app.client();
    let token = app.login(&client, "root@example.com", PASSWORD).await;
    let forms: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/account/password",
            vec![
                ("current_password", PASSWORD),
                ("new_password", "a new\0long passphrase"),
                ("new_password_confirm", "a new\0long passphrase"),
            ],
        ),
        (
            "/admin/tenants/new",
            vec![
                ("slug", "acme"),
                ("name", "Acme\0 Corp"),
                ("owner_email", ""),
            ],
        ),
        ("/admin/users", vec![("email\0", "x@example.com")]),
    ];
    for (path, fields) in forms {
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend(fields);
        let response = client.post(app.url(path)).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 400, "{path}");
        assert!(
            response.text().await.unwrap().contains(NUL_MESSAGE),
            "{path}"
        );
    }
    // The encoded form reaches the same check as the raw byte.
    let response = client
        .post(app.url("/admin/tenants/new"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={token}&slug=acme&name=Acme%00Corp"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // GET forms (the audit log filter) and links.
    for path in ["/admin/audit?actor=ann%00", "/login?next=/%00"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 400, "{path}");
        assert!(
            response.text().await.unwrap().contains(NUL_MESSAGE),
            "{path}"
        );
    }

    // Nothing was written: no tenant, and the password is unchanged.
    let tenants: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tenants, 0);
    let other = app.client();
    app.login(&other, "root@example.com", PASSWORD).await;
}
