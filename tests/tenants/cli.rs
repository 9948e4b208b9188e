//! `esaas admin` commands against a real database (the same `cli::admin::run` the binary calls): adding a
//! member to an ownerless tenant, disabling a user and resetting a password, each with its audit row as
//! the actor `cli`; the reset revokes the user's sessions and API tokens. And the real binary: `migrate` on
//! an empty database (twice), `admin bootstrap` (the password file mode 600, a second run changes nothing),
//! `admin reset-password --password-stdin` and `admin disable-user`, each seen at the login form.

use esaas::cli::admin::{self, AdminCommand};
use esaas::config::Config;
use esaas::tenants::Role;
use esaas::tenants::quota::DEFAULT_LIMITS;
use secrecy::SecretString;
use sqlx::PgPool;

use super::common::TestApp;
use super::common::portal_process::database_url;
use super::{audit_count, create_tenant, role_in};

async fn run(pool: &PgPool, command: AdminCommand) -> anyhow::Result<()> {
    admin::run(Config::for_tests(&database_url(pool)), command).await
}

async fn actor_of(pool: &PgPool, action: &str) -> String {
    sqlx::query_scalar("SELECT actor FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn add_member_gives_an_ownerless_tenant_its_owner(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let t = create_tenant(&pool, "team").await;
    let bob = app
        .create_user("bob@example.com", super::PASSWORD, false)
        .await;
    let command = |tenant: &str, email: &str, role: &str| AdminCommand::AddMember {
        tenant: tenant.into(),
        email: email.into(),
        role: role.into(),
    };
    let e = run(&pool, command("nope", "bob@example.com", "owner"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no tenant with slug nope"), "{e}");
    let e = run(&pool, command("team", "bob@example.com", "boss"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("role refused"), "{e}");
    let e = run(&pool, command("team", "ghost@example.com", "owner"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("No account uses"), "{e}");
    assert_eq!(role_in(&pool, t.id, bob).await, None);

    run(&pool, command("team", "bob@example.com", "owner"))
        .await
        .unwrap();
    assert_eq!(role_in(&pool, t.id, bob).await.as_deref(), Some("owner"));
    assert_eq!(actor_of(&pool, "member.add").await, "cli");
    let e = run(&pool, command("team", "bob@example.com", "admin"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already a member"), "{e}");
    assert_eq!(role_in(&pool, t.id, bob).await.as_deref(), Some("owner"));
}

#[sqlx::test]
async fn disable_user_ends_sessions_and_is_audited(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let s = app.sign_in("ann@example.com", false).await;
    assert_eq!(s.get(&app, "/account").await.0, 200);
    run(
        &pool,
        AdminCommand::DisableUser {
            email: "ann@example.com".into(),
            enable: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(s.get(&app, "/account").await.0, 303, "the session ended");
    assert_eq!(actor_of(&pool, "user.disable").await, "cli");
    run(
        &pool,
        AdminCommand::DisableUser {
            email: "ann@example.com".into(),
            enable: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(actor_of(&pool, "user.enable").await, "cli");
    let disabled: bool = sqlx::query_scalar(
        "SELECT disabled_at IS NOT NULL FROM users WHERE email = 'ann@example.com'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!disabled);
}

#[sqlx::test]
async fn reset_password_revokes_sessions_and_api_tokens(pool: PgPool) {
    let app = TestApp::init(pool.clone())
        .with_tenant("team", DEFAULT_LIMITS)
        .with_member("ann@example.com", Role::Owner)
        .spawn()
        .await;
    let s = app.session("ann@example.com");
    let ann = s.user_id;
    let token = esaas::cli::admin::create_token(&pool, "ann@example.com", "ci", None, false, 30)
        .await
        .unwrap();
    let api_get = |token: String| {
        let client = app.client();
        let url = app.url("/api/v1/tenants");
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(api_get(token.clone()).await, 200);

    let (user, revoked) = admin::reset_password(
        &pool,
        "ann@example.com",
        SecretString::from("another horse battery staple".to_owned()),
    )
    .await
    .unwrap();
    assert_eq!(user.id, ann);
    assert_eq!(revoked, 1);
    // The serving portal caches a token for at most CACHE_TTL: the revocation holds once that has passed.
    let deadline = std::time::Instant::now()
        + esaas::accounts::token_cache::CACHE_TTL
        + std::time::Duration::from_secs(3);
    while api_get(token.clone()).await != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked token still works after the cache lifetime"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(s.get(&app, "/account").await.0, 303, "the session ended");
    assert_eq!(actor_of(&pool, "user.password_reset").await, "cli");
    assert_eq!(audit_count(&pool, "user.password_reset").await, 1);
    // The new password works.
    let client = app.client();
    app.login(&client, "ann@example.com", "another horse battery staple")
        .await;
}

#[sqlx::test]
async fn the_binary_reports_errors_in_one_line_without_a_backtrace(pool: PgPool) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_esaas"))
        .args(["admin", "disable-user", "--email", "ghost@example.com"])
        .env("DATABASE_URL", database_url(&pool))
        .env("RUST_BACKTRACE", "1")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: no user with email ghost@example.com"),
        "{stderr}"
    );
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert!(
        !stderr.contains("\u{1b}["),
        "no colour codes off a terminal: {stderr}"
    );
}

/// Run the real binary with `args` (and `stdin`) over the test's database; returns (exit code, stdout, stderr).
async fn esaas(pool: &PgPool, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_esaas"))
        .args(args)
        .env("DATABASE_URL", database_url(pool))
        .env("ESAAS_KUBE", "sim")
        .env("ESAAS_PUBLIC_URL", "http://portal.test")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("esaas finishes within 60 s")
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The status of a login attempt through the form (303 in, 422 refused).
async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    let client = app.client();
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = super::common::input_value(&page, "csrf_token").unwrap();
    client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test(migrations = false)]
async fn the_binary_migrates_bootstraps_resets_and_disables(pool: PgPool) {
    // migrate: every migration applied to an empty database, and again changes nothing.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count() as i64;
    for round in 0..2 {
        let (code, out, err) = esaas(&pool, &["migrate"], "").await;
        assert_eq!(code, Some(0), "round {round}: {out}{err}");
        assert!(out.contains("migrations applied"), "{out}");
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(applied, files, "round {round}");
    }

    // bootstrap: the first platform admin, its password in a file only its owner may read.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets/initial-admin-password");
    let file_arg = file.to_str().unwrap();
    let bootstrap = [
        "admin",
        "bootstrap",
        "--email",
        "root@example.com",
        "--password-file",
        file_arg,
    ];
    let (code, out, err) = esaas(&pool, &bootstrap, "").await;
    assert_eq!(code, Some(0), "{out}{err}");
    let password = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert_eq!(password.len(), 20);
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(out.contains(&format!(
        "Log in at http://portal.test as root@example.com with password: {password}"
    )));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the password file is readable by its owner only"
        );
    }
    let admin: bool =
        sqlx::query_scalar("SELECT is_platform_admin FROM users WHERE email = 'root@example.com'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(admin);
    // Again: nothing created, nothing overwritten.
    let (code, out, _) = esaas(&pool, &bootstrap, "").await;
    assert_eq!(code, Some(0));
    assert!(out.contains("with the password in"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), password);
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
    let app = TestApp::spawn(pool.clone()).await;
    assert_eq!(login_status(&app, "root@example.com", &password).await, 303);

    // reset-password: from standard input, audited as the CLI; the old password stops working.
    let (code, out, err) = esaas(
        &pool,
        &[
            "admin",
            "reset-password",
            "--email",
            "root@example.com",
            "--password-stdin",
        ],
        "another horse battery staple\n",
    )
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("password of root@example.com replaced"),
        "{out}"
    );
    assert_eq!(actor_of(&pool, "user.password_reset").await, "cli");
    assert_eq!(login_status(&app, "root@example.com", &password).await, 422);
    assert_eq!(
        login_status(&app, "root@example.com", "another horse battery staple").await,
        303
    );

    // disable-user: audited as the CLI; the account no longer logs in.
    let (code, out, err) = esaas(
        &pool,
        &["admin", "disable-user", "--email", "root@example.com"],
        "",
    )
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("root@example.com is now disabled"), "{out}");
    assert_eq!(actor_of(&pool, "user.disable").await, "cli");
    assert_ne!(
        login_status(&app, "root@example.com", "another horse battery staple").await,
        303,
        "a disabled account does not log in"
    );
}
