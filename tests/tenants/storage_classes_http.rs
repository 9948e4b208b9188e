//! The admin page of storage classes: hidden from non-admins, add (with a field message for an invalid name),
//! make default, remove; every change audited.

use sqlx::PgPool;

use super::audit_count;
use super::common::TestApp;

#[sqlx::test]
async fn platform_admins_manage_the_offered_storage_classes(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.sign_in("ann@example.com", false).await;
    assert_eq!(ann.get(&app, "/admin/storage-classes").await.0, 404);
    assert_eq!(
        ann.post_text(&app, "/admin/storage-classes", &[("name", "mine")])
            .await
            .0,
        404
    );
    let root = app.sign_in("root@example.com", true).await;
    let (status, html) = root.get(&app, "/admin/storage-classes").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<code>standard</code>") && html.contains("badge-green\">default"),
        "{html}"
    );
    assert!(
        html.contains("href=\"/admin/storage-classes\""),
        "the admin menu links the page"
    );

    let (status, html) = root
        .post_text(&app, "/admin/storage-classes", &[("name", "Fast SSD")])
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"name-error\""), "{html}");
    assert!(html.contains("value=\"Fast SSD\""), "the value is kept");

    let (status, to) = root
        .post_text(
            &app,
            "/admin/storage-classes",
            &[("name", "fast-ssd"), ("make_default", "on")],
        )
        .await;
    assert_eq!((status, to.as_str()), (303, "/admin/storage-classes"));
    let (_, html) = root.get(&app, "/admin/storage-classes").await;
    assert!(
        html.contains("fast-ssd is offered and is the default"),
        "{html}"
    );
    let defaults: Vec<String> =
        sqlx::query_scalar("SELECT name FROM storage_classes WHERE is_default")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(defaults, ["fast-ssd"]);

    assert_eq!(
        root.post_text(&app, "/admin/storage-classes/standard/default", &[])
            .await
            .0,
        303
    );
    assert_eq!(
        root.post_text(&app, "/admin/storage-classes/fast-ssd/remove", &[])
            .await
            .0,
        303
    );
    assert_eq!(
        root.post_text(&app, "/admin/storage-classes/fast-ssd/remove", &[])
            .await
            .0,
        404
    );
    let left: Vec<(String, bool)> =
        sqlx::query_as("SELECT name, is_default FROM storage_classes ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(left, [("standard".to_owned(), true)]);
    assert_eq!(audit_count(&pool, "storage_class.put").await, 2);
    assert_eq!(audit_count(&pool, "storage_class.remove").await, 1);
}
