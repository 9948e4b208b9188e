//! What every HTML page's base layout shows: the signed-in user, the tenant switcher, the CSRF token for
//! forms in the navigation (logout, switch tenant) and flash messages. Page structs hold a `Layout` field
//! named `layout`; `templates/base.html` reads it.

/// Kind of a flash message (drives its colour and ARIA role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    /// Something worked.
    Success,
    /// Something failed.
    Error,
    /// Neutral information.
    Info,
}

impl FlashKind {
    /// CSS class suffix and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlashKind::Success => "success",
            FlashKind::Error => "error",
            FlashKind::Info => "info",
        }
    }
}

/// A one-time message shown on the next page.
#[derive(Debug, Clone)]
pub struct Flash {
    /// Kind.
    pub kind: FlashKind,
    /// Text (escaped by the template).
    pub message: String,
}

/// The signed-in user as the navigation shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    /// Email address.
    pub email: String,
    /// Display name (may be empty).
    pub display_name: String,
    /// Platform admins see the admin menu.
    pub is_platform_admin: bool,
}

/// A tenant in the switcher.
#[derive(Debug, Clone)]
pub struct NavTenant {
    /// URL slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The user's role in it (`owner`, `admin`, `member`, `viewer`; `platform-admin` when not a member).
    pub role: String,
}

impl NavTenant {
    /// The tenant's audit page opens for this user (owners, admins, platform admins): the menu offers no
    /// page that would answer 403.
    pub fn can_see_audit(&self) -> bool {
        matches!(
            self.role.as_str(),
            "owner" | "admin" | crate::tenants::role::PLATFORM_ADMIN_ROLE
        )
    }
}

/// The base layout's data.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// `<title>` and page heading.
    pub title: String,
    /// Signed-in user, if any.
    pub user: Option<NavUser>,
    /// CSRF token of the session (empty when anonymous).
    pub csrf_token: String,
    /// Flash messages to show once.
    pub flashes: Vec<Flash>,
    /// Tenants the user belongs to (switcher).
    pub tenants: Vec<NavTenant>,
    /// The tenant being viewed or last switched to.
    pub active_tenant: Option<NavTenant>,
}

impl Layout {
    /// A layout for pages shown without a session (login, errors).
    pub fn anonymous(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Add a flash message to this page.
    pub fn with_flash(mut self, kind: FlashKind, message: impl Into<String>) -> Self {
        self.flashes.push(Flash {
            kind,
            message: message.into(),
        });
        self
    }

    /// True when the slug is the active tenant (for `aria-current`).
    pub fn is_active_tenant(&self, slug: &str) -> bool {
        self.active_tenant.as_ref().is_some_and(|t| t.slug == slug)
    }
}
