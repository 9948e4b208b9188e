//! `esaas admin ...`: create users (non-interactively, password from stdin), reset passwords (revoking
//! sessions and API tokens), disable users, add tenant members, and `bootstrap`, which creates the first
//! platform admin on a fresh database. Every change writes its audit row with the actor `cli`.

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use secrecy::SecretString;

use crate::accounts::email::Email;
use crate::accounts::password;
use crate::accounts::token_cache::TokenCache;
use crate::accounts::tokens::NewToken;
use crate::accounts::{service, users};
use crate::audit::Actor;
use crate::config::Config;
use crate::error::AppError;
use crate::request_meta::RequestMeta;
use crate::tenants::{self, Role};

/// Administrative actions.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user; the password is read from standard input (first line).
    CreateUser {
        /// Email address (the login name).
        #[arg(long)]
        email: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long)]
        password_stdin: bool,
        /// Make the user a platform admin.
        #[arg(long)]
        platform_admin: bool,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Set a new password (read from standard input) and revoke the user's sessions and API tokens.
    ResetPassword {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable (or with --enable, re-enable) a user; disabling revokes their sessions.
    DisableUser {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Re-enable instead.
        #[arg(long)]
        enable: bool,
    },
    /// Add an existing account to a tenant with a role (a tenant created without an owner gets one here).
    AddMember {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Email of the account.
        #[arg(long)]
        email: String,
        /// owner, admin, member or viewer.
        #[arg(long, default_value = "owner")]
        role: String,
    },
    /// Create an API token for a user and print it on standard output (shown once; only its hash is kept).
    CreateToken {
        /// Email of the token's user.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// Limit the token to this tenant (slug).
        #[arg(long)]
        tenant: Option<String>,
        /// Allow only GET requests.
        #[arg(long)]
        read_only: bool,
        /// Lifetime in days (1 to 365).
        #[arg(long, default_value_t = crate::accounts::tokens::DEFAULT_TTL_DAYS)]
        expires_in_days: i64,
    },
    /// On a database without users, create a platform admin with a random password and write it to a file
    /// readable only by you; otherwise do nothing. Prints how to log in either way.
    Bootstrap {
        /// Email of the first admin.
        #[arg(long, default_value = "admin@esaas.local")]
        email: String,
        /// Where the generated password is written.
        #[arg(long, default_value = ".esaas/initial-admin-password")]
        password_file: PathBuf,
    },
}

fn read_password_stdin(flag: bool) -> anyhow::Result<SecretString> {
    if !flag {
        anyhow::bail!("pass --password-stdin and write the password to standard input");
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let line = input.lines().next().unwrap_or("").to_owned();
    password::check_strength(&line).map_err(|m| anyhow::anyhow!("password refused: {m}"))?;
    Ok(SecretString::from(line))
}

/// Run one admin action.
pub async fn run(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    let pool = crate::db::connect_lazy(&config)?;
    crate::wait_and_migrate(&pool, std::time::Duration::from_secs(30)).await?;
    let mut conn = pool.acquire().await?;
    match command {
        AdminCommand::CreateUser {
            email,
            password_stdin,
            platform_admin,
            name,
        } => {
            let email = Email::parse(&email).map_err(|m| anyhow::anyhow!("email refused: {m}"))?;
            let pw = read_password_stdin(password_stdin)?;
            let user = users::create(&mut conn, &email, &name, pw, platform_admin)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created user {} ({}){}",
                user.email,
                user.id,
                if platform_admin {
                    " as platform admin"
                } else {
                    ""
                }
            );
        }
        AdminCommand::ResetPassword {
            email,
            password_stdin,
        } => {
            let pw = read_password_stdin(password_stdin)?;
            let (user, revoked) = reset_password(&pool, &email, pw).await?;
            println!(
                "password of {} replaced; their sessions and {revoked} API token(s) were revoked",
                user.email
            );
        }
        AdminCommand::DisableUser { email, enable } => {
            let user = user_by_email(&mut conn, &email).await?;
            // This process keeps no token cache: the server's drops the user's tokens within its lifetime.
            service::set_disabled(
                &pool,
                &TokenCache::default(),
                &Actor::cli(),
                &RequestMeta::default(),
                user.id,
                !enable,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{} is now {}",
                user.email,
                if enable { "enabled" } else { "disabled" }
            );
        }
        AdminCommand::AddMember {
            tenant,
            email,
            role,
        } => {
            let role = Role::parse(&role).map_err(|m| anyhow::anyhow!("role refused: {m}"))?;
            let by = tenants::service::By {
                actor: &Actor::cli(),
                meta: &RequestMeta::default(),
            };
            let (_, member) =
                tenants::service::add_member_as_platform(&pool, by, &tenant, &email, role)
                    .await
                    .map_err(|e| match e {
                        AppError::NotFound => anyhow::anyhow!("no tenant with slug {tenant}"),
                        other => anyhow::anyhow!("{other}"),
                    })?;
            println!("added {} to {tenant} as {}", member.email, member.role);
        }
        AdminCommand::CreateToken {
            email,
            name,
            tenant,
            read_only,
            expires_in_days,
        } => {
            let token = create_token(
                &pool,
                &email,
                &name,
                tenant.as_deref(),
                read_only,
                expires_in_days,
            )
            .await?;
            println!("{token}");
        }
        AdminCommand::Bootstrap {
            email,
            password_file,
        } => bootstrap(&mut conn, &config, &email, &password_file).await?,
    }
    Ok(())
}

/// `esaas admin create-token`: create a token for the user with `email` (limited to the tenant with slug
/// `tenant`, which the user must be a member of unless they are a platform admin) and return the secret.
/// The audit row names the actor `cli`.
pub async fn create_token(
    db: &sqlx::PgPool,
    email: &str,
    name: &str,
    tenant: Option<&str>,
    read_only: bool,
    expires_in_days: i64,
) -> anyhow::Result<String> {
    let mut conn = db.acquire().await?;
    let conn = &mut *conn;
    let user = crate::accounts::users::by_email(conn, email)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))?;
    if user.disabled_at.is_some() {
        anyhow::bail!("the account {email} is disabled");
    }
    let tenant_id = match tenant {
        None => None,
        Some(slug) => {
            let t = crate::tenants::repo::by_slug(conn, slug)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| anyhow::anyhow!("no tenant {slug}"))?;
            let member = crate::tenants::members::role_of(conn, t.id, user.id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .is_some();
            if !member && !user.is_platform_admin {
                anyhow::bail!("{email} is not a member of {slug}");
            }
            Some(t.id)
        }
    };
    let actor = Actor {
        user_id: None,
        label: "cli".into(),
    };
    let new = NewToken {
        name: name.to_owned(),
        tenant_id,
        read_only,
        expires_in_days,
    };
    let meta = RequestMeta::default();
    let (_, secret) = service::issue_token(db, &actor, &meta, user.id, &new, None)
        .await
        .map_err(|e| match e {
            AppError::Validation(fields) => anyhow::anyhow!("token refused: {fields}"),
            other => anyhow::anyhow!("{other}"),
        })?;
    Ok(secret)
}

async fn user_by_email(conn: &mut sqlx::PgConnection, email: &str) -> anyhow::Result<users::User> {
    users::by_email(conn, email)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))
}

/// Replace a user's password, revoke their sessions and every API token, and audit it
/// (`user.password_reset`), in one transaction. Returns the user and how many tokens were revoked.
pub async fn reset_password(
    db: &sqlx::PgPool,
    email: &str,
    password: SecretString,
) -> anyhow::Result<(users::User, usize)> {
    let user = {
        let mut conn = db.acquire().await?;
        user_by_email(&mut conn, email).await?
    };
    let revoked =
        service::reset_password(db, &Actor::cli(), &RequestMeta::default(), &user, password)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((user, revoked))
}

async fn bootstrap(
    conn: &mut sqlx::PgConnection,
    config: &Config,
    email: &str,
    password_file: &std::path::Path,
) -> anyhow::Result<()> {
    let url = &config.public_url;
    if users::count(conn)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        > 0
    {
        if password_file.exists() {
            println!(
                "Log in at {url} as {email} with the password in {}",
                password_file.display()
            );
        } else {
            println!("Users exist already; log in at {url} with your account.");
        }
        return Ok(());
    }
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("email refused: {m}"))?;
    let generated: String = {
        use rand::Rng;
        rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(20)
            .map(char::from)
            .collect()
    };
    if let Some(dir) = password_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_private(password_file, &generated)?;
    users::create(
        conn,
        &email,
        "Platform admin",
        SecretString::from(generated.clone()),
        true,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("Created the first platform admin.");
    println!("Log in at {url} as {email} with password: {generated}");
    println!(
        "(the password is also in {}, readable only by you)",
        password_file.display()
    );
    Ok(())
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.write_all(b"\n")
}
