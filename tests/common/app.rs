//! [`TestApp`]: the portal served on 127.0.0.1:0 over the test's own database, and its builder.
//!
//! ```ignore
//! let app = TestApp::init(pool)
//!     .config(|c| c.sim_kubelet_delay = Duration::ZERO)
//!     .background() // watches, observer, reconciler, resync, as `esaas serve` runs them
//!     .with_tenant("acme", ROOMY)
//!     .with_member("member@acme.test", Role::Member) // a member of the tenant added last
//!     .with_platform_admin("root@example.com")
//!     .spawn()
//!     .await;
//! let member = app.session("member@acme.test"); // signed in, with its CSRF token
//! let acme = app.tenant("acme");
//! ```
//!
//! `TestApp::spawn(pool)` and `TestApp::spawn_with(pool, tweak)` are shorthands for a bare portal.
//! Everything else a test needs later is made on the running app: [`TestApp::sign_in`],
//! [`TestApp::sign_in_member`], [`TestApp::create_user`], or the functions of [`super::tenants`].

use std::net::SocketAddr;

use esaas::config::Config;
use esaas::state::AppState;
use esaas::tenants::quota::Resources;
use esaas::tenants::{Role, Tenant};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::session::Session;
use super::{PASSWORD, tenants, users};

/// A running portal for one test.
pub struct TestApp {
    /// The test's own database.
    pub pool: PgPool,
    /// The application state the server runs with.
    pub state: AppState,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Stops the background tasks (if the builder started them); cancelled when the app is dropped.
    pub shutdown: CancellationToken,
    /// The tenants the builder made, in order.
    pub tenants: Vec<Tenant>,
    /// The users the builder made, signed in, in order.
    pub sessions: Vec<Session>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A user the builder makes: member of the tenant at `tenant` (an index into the builder's tenants).
struct NewUser {
    email: String,
    platform_admin: bool,
    membership: Option<(usize, Role)>,
}

/// What [`TestApp::init`] returns: the portal to start and the rows to make first.
pub struct TestAppBuilder {
    pool: PgPool,
    config: Config,
    background: bool,
    tenants: Vec<(String, Resources)>,
    users: Vec<NewUser>,
}

impl TestAppBuilder {
    /// Adjust the configuration (the test configuration, `Config::for_tests`); may be called more than once.
    pub fn config(mut self, tweak: impl FnOnce(&mut Config)) -> Self {
        tweak(&mut self.config);
        self
    }

    /// Also start the portal's background tasks (watches, observer, reconciler, resync) against its
    /// simulated Kubernetes, as `esaas serve` does. They stop when the app is dropped or
    /// [`TestApp::shutdown`] is cancelled.
    pub fn background(mut self) -> Self {
        self.background = true;
        self
    }

    /// Make tenant `slug` (named "Team {slug}") with `limits` once the portal runs.
    pub fn with_tenant(mut self, slug: &str, limits: Resources) -> Self {
        self.tenants.push((slug.to_owned(), limits));
        self
    }

    /// Make a user with `role` in the tenant added last, and sign them in ([`TestApp::session`]).
    pub fn with_member(mut self, email: &str, role: Role) -> Self {
        let tenant = self
            .tenants
            .len()
            .checked_sub(1)
            .expect("with_member needs a with_tenant before it");
        self.users.push(NewUser {
            email: email.to_owned(),
            platform_admin: false,
            membership: Some((tenant, role)),
        });
        self
    }

    /// Make a platform admin (a member of no tenant) and sign them in ([`TestApp::session`]).
    pub fn with_platform_admin(mut self, email: &str) -> Self {
        self.users.push(NewUser {
            email: email.to_owned(),
            platform_admin: true,
            membership: None,
        });
        self
    }

    /// Serve the portal, then make the tenants and users asked for (each user: created, added to their
    /// tenant, signed in through the login form).
    pub async fn spawn(self) -> TestApp {
        let state = AppState::new(self.config, self.pool.clone());
        let router = esaas::build_app(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = esaas::run(listener, router, std::future::pending()).await;
        });
        let shutdown = CancellationToken::new();
        if self.background {
            esaas::controller::spawn_background(&state, shutdown.clone());
        }
        let mut app = TestApp {
            pool: self.pool,
            state,
            addr,
            shutdown,
            tenants: Vec::new(),
            sessions: Vec::new(),
        };
        for (slug, limits) in &self.tenants {
            let tenant = tenants::create_tenant_with_limits(&app.pool, slug, *limits).await;
            app.tenants.push(tenant);
        }
        for user in &self.users {
            let session = match user.membership {
                Some((tenant, role)) => {
                    let tenant_id = app.tenants[tenant].id;
                    app.sign_in_member(tenant_id, &user.email, role).await
                }
                None => app.sign_in(&user.email, user.platform_admin).await,
            };
            app.sessions.push(session);
        }
        app
    }
}

impl TestApp {
    /// A portal to build over `pool` (see the module docs).
    pub fn init(pool: PgPool) -> TestAppBuilder {
        TestAppBuilder {
            pool,
            config: Config::for_tests("postgres://unused"),
            background: false,
            tenants: Vec::new(),
            users: Vec::new(),
        }
    }

    /// Serve the portal over `pool` with the test configuration.
    pub async fn spawn(pool: PgPool) -> Self {
        Self::init(pool).spawn().await
    }

    /// Like `spawn`, letting the test adjust the configuration first.
    pub async fn spawn_with(pool: PgPool, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::init(pool).config(tweak).spawn().await
    }

    /// Like [`TestApp::spawn_with`], with the background tasks running; returns the token that stops them
    /// (also [`TestApp::shutdown`]).
    pub async fn spawn_with_background(
        pool: PgPool,
        tweak: impl FnOnce(&mut Config),
    ) -> (Self, CancellationToken) {
        let app = Self::init(pool).config(tweak).background().spawn().await;
        let shutdown = app.shutdown.clone();
        (app, shutdown)
    }

    /// Absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client with its own cookie jar that does not follow redirects (tests assert them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// The tenant `slug` the builder made.
    pub fn tenant(&self, slug: &str) -> &Tenant {
        self.tenants
            .iter()
            .find(|t| t.slug.as_str() == slug)
            .unwrap_or_else(|| panic!("the builder made no tenant {slug}"))
    }

    /// The signed-in session of the user `email` the builder made.
    pub fn session(&self, email: &str) -> Session {
        self.sessions
            .iter()
            .find(|s| s.email == email)
            .unwrap_or_else(|| panic!("the builder made no user {email}"))
            .clone()
    }

    /// Create a user directly in the database.
    pub async fn create_user(&self, email: &str, password: &str, platform_admin: bool) -> Uuid {
        users::create_user(&self.pool, email, password, platform_admin).await
    }

    /// Create a user (password [`PASSWORD`], a platform admin or not) and sign them in.
    pub async fn sign_in(&self, email: &str, platform_admin: bool) -> Session {
        let user_id = self.create_user(email, PASSWORD, platform_admin).await;
        self.session_of(user_id, email).await
    }

    /// Create a user (password [`PASSWORD`]), make them a member of `tenant_id` with `role`, and sign them
    /// in.
    pub async fn sign_in_member(&self, tenant_id: Uuid, email: &str, role: Role) -> Session {
        let user_id = self.create_user(email, PASSWORD, false).await;
        tenants::add_member(&self.pool, tenant_id, user_id, role).await;
        self.session_of(user_id, email).await
    }

    /// Sign in the existing user `user_id` with `email` and [`PASSWORD`] on a new client.
    pub async fn session_of(&self, user_id: Uuid, email: &str) -> Session {
        let client = self.client();
        let token = self.login(&client, email, PASSWORD).await;
        Session::new(client, token, user_id, email)
    }
}
