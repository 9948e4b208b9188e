//! `POST /t/{tenant}/clusters/{name}/credentials`: reveal the `elastic` user's password. The service reads
//! it from the Kubernetes Secret and audits the reveal; then the browser is redirected (303) to the dashboard,
//! which shows the password once (POST-redirect-GET: a reload of the dashboard neither reveals nor audits
//! again, and the browser never offers to re-send the POST).
//!
//! The one view travels in a cookie of its own, `esaas_reveal`: `HttpOnly`, `SameSite=Strict`, `Max-Age=60`,
//! `Secure` over HTTPS, and scoped to the cluster's dashboard path, so it reaches no other page and lives at
//! most a minute. The dashboard takes it and clears it in the same response (`Cache-Control: no-store`), so
//! the password is in the browser exactly as long as the first page that shows it. The password is never in
//! a URL, never in the flash messages and never stored on the server. When Kubernetes cannot be reached, does
//! not answer in time, or the Secret does not exist yet, the dashboard says so instead.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderValue, header};
use serde::{Deserialize, Serialize};

use crate::auth::TenantAccess;
use crate::clusters::credentials;
use crate::error::{AppError, AppResult};
use crate::request_meta::RequestMeta;
use crate::state::AppState;
use crate::web::clusters::{caller, cluster_path};
use crate::web::flash::{self, FlashKind};

/// Name of the one-view cookie.
pub const REVEAL_COOKIE: &str = "esaas_reveal";

/// What the one-view cookie carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revealed {
    /// The cluster it belongs to.
    pub cluster: String,
    /// The user.
    pub username: String,
    /// The password.
    pub password: String,
}

fn cookie(slug: &str, name: &str, value: String, https: bool) -> Option<HeaderValue> {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{REVEAL_COOKIE}={value}; Path={}; HttpOnly; SameSite=Strict; Max-Age=60{secure}",
        cluster_path(slug, name)
    ))
    .ok()
}

/// The revealed credentials for cluster `name` carried by this request, if any, and the `Set-Cookie` that
/// clears them (to send with the page that shows them).
pub fn take(
    jar: &CookieJar,
    slug: &str,
    name: &str,
    https: bool,
) -> Option<(Revealed, HeaderValue)> {
    let raw = jar.get(REVEAL_COOKIE)?.value().to_owned();
    let revealed: Revealed = URL_SAFE_NO_PAD
        .decode(raw.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())?;
    let clear = format!(
        "{}; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        cookie(slug, name, String::new(), https)?
            .to_str()
            .ok()?
            .replace("Max-Age=60", "Max-Age=0")
    );
    let clear = HeaderValue::from_str(&clear).ok()?;
    (revealed.cluster == name).then_some((revealed, clear))
}

/// `POST /t/{tenant}/clusters/{name}/credentials`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn reveal(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let slug = access.tenant.slug.to_string();
    let creds = match credentials::reveal(&state, &caller(&access, meta), &slug, &name).await {
        Ok(c) => c,
        Err(AppError::Conflict(message) | AppError::GatewayTimeout(message)) => {
            return Ok(flash::redirect(
                &cluster_path(&slug, &name),
                FlashKind::Error,
                message,
            ));
        }
        Err(AppError::Unavailable(e)) => {
            tracing::warn!(error = %e, "credentials reveal: Kubernetes unavailable");
            return Ok(flash::redirect(
                &cluster_path(&slug, &name),
                FlashKind::Error,
                "The password could not be read: Kubernetes cannot be reached right now. Try again later.",
            ));
        }
        Err(e) => return Err(e),
    };
    let revealed = Revealed {
        cluster: name.clone(),
        username: creds.username,
        password: creds.password,
    };
    let value = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&revealed).map_err(anyhow::Error::from)?);
    let mut response = Redirect::to(&cluster_path(&slug, &name)).into_response();
    if let Some(v) = cookie(&slug, &name, value, state.config.is_https()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use axum_extra::extract::cookie::Cookie;

    use super::*;

    fn jar_with(value: &str) -> CookieJar {
        CookieJar::new().add(Cookie::new(REVEAL_COOKIE, value.to_owned()))
    }

    #[test]
    fn the_cookie_is_scoped_short_and_strict() {
        let c = cookie("acme", "logs", "x".into(), true).unwrap();
        let c = c.to_str().unwrap();
        for part in [
            "esaas_reveal=x",
            "Path=/t/acme/clusters/logs",
            "HttpOnly",
            "SameSite=Strict",
            "Max-Age=60",
            "Secure",
        ] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
    }

    #[test]
    fn take_reads_its_cluster_only_and_clears() {
        let r = Revealed {
            cluster: "logs".into(),
            username: "elastic".into(),
            password: "s3cr;et=".into(),
        };
        let value = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&r).unwrap());
        let (got, clear) = take(&jar_with(&value), "acme", "logs", false).unwrap();
        assert_eq!(got, r);
        let clear = clear.to_str().unwrap();
        assert!(
            clear.starts_with("esaas_reveal=;") && clear.contains("Max-Age=0"),
            "{clear}"
        );
        assert!(take(&jar_with(&value), "acme", "other", false).is_none());
        assert!(take(&jar_with("%%%"), "acme", "logs", false).is_none());
        assert!(take(&CookieJar::new(), "acme", "logs", false).is_none());
    }
}
