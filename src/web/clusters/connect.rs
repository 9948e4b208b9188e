//! The dashboard's "Connect" card: the cluster's endpoints inside Kubernetes and, when the platform exposes
//! clusters (`ESAAS_EXPOSE`), from outside, each with a Copy button (`static/js/clusters.js`; without
//! JavaScript the text stays selectable), "Open Kibana" when Kibana has an external URL, and a plain
//! sentence when the cluster is internal only. It also shows the cluster's IP allow-list and lets the roles
//! that may change clusters edit it (`POST /t/{tenant}/clusters/{name}/allow-list`: a reconfigure
//! operation, audited by the request service; errors at the field, success redirects to the dashboard).

use crate::web::form::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;

use crate::auth::TenantAccess;
use crate::clusters::endpoints;
use crate::clusters::repo::Cluster;
use crate::clusters::service;
use crate::error::{AppError, AppResult};
use crate::k8s::expose::Exposure;
use crate::request_meta::RequestMeta;
use crate::spec::SpecPatch;
use crate::spec::allow_list;
use crate::state::AppState;
use crate::web::clusters::dashboard;
use crate::web::clusters::elasticsearch::EsQuery;
use crate::web::clusters::{caller, cluster_path, conflict_to_flash, require_change};
use crate::web::flash::{self, FlashKind};

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectionView {
    /// HTTPS (or HTTP) endpoint inside the Kubernetes cluster.
    pub endpoint: String,
    /// The endpoint from outside Kubernetes (empty: internal only, or no load balancer address yet).
    pub external_endpoint: String,
    /// The user.
    pub username: String,
    /// A curl line using `$ELASTIC_PASSWORD` (against the external endpoint when there is one).
    pub curl: String,
    /// Where the curl line works.
    pub curl_where: &'static str,
    /// Kibana's endpoint inside Kubernetes (empty without Kibana).
    pub kibana: String,
    /// Kibana's URL from outside (empty when there is none).
    pub kibana_external: String,
    /// `internal`, `ingress` or `loadbalancer`.
    pub exposure: &'static str,
    /// Exposed through a load balancer that has no address yet.
    pub waiting_for_address: bool,
    /// The caller may reveal the password.
    pub can_reveal: bool,
    /// The revealed password (only on the page answering the reveal).
    pub password: String,
    /// The IP allow-list as stored.
    pub allow_list: Vec<String>,
    /// The caller may edit the allow-list.
    pub can_edit_allow_list: bool,
    /// The allow-list text in the form (as typed, after a refused submit).
    pub allow_list_text: String,
    /// Why the submitted allow-list was refused.
    pub allow_list_error: String,
}

impl ConnectionView {
    /// The connection info of `cluster` in tenant `slug` under the platform's `exposure`.
    pub fn of(
        cluster: &Cluster,
        slug: &str,
        exposure: &Exposure,
        can_reveal: bool,
        can_edit: bool,
    ) -> Self {
        let tls = cluster.spec.http_tls;
        let ends = endpoints::of(exposure, slug, cluster);
        let external = ends.elasticsearch.external.clone().unwrap_or_default();
        let (curl, curl_where) = match exposure {
            Exposure::Ingress(_) => (
                format!(
                    "curl -u \"elastic:$ELASTIC_PASSWORD\" \"{external}/_cluster/health?pretty\""
                ),
                "from anywhere the allow-list admits",
            ),
            _ => {
                let cacert = if tls { "--cacert ca.crt " } else { "" };
                (
                    format!(
                        "curl {cacert}-u \"elastic:$ELASTIC_PASSWORD\" \"{}/_cluster/health?pretty\"",
                        ends.elasticsearch.internal
                    ),
                    "inside the Kubernetes cluster",
                )
            }
        };
        let allow_list: Vec<String> = cluster
            .spec
            .ip_allow_list
            .iter()
            .map(ToString::to_string)
            .collect();
        Self {
            waiting_for_address: *exposure == Exposure::LoadBalancer && external.is_empty(),
            endpoint: ends.elasticsearch.internal,
            external_endpoint: external,
            username: "elastic".into(),
            curl,
            curl_where,
            kibana: ends
                .kibana
                .as_ref()
                .map(|k| k.internal.clone())
                .unwrap_or_default(),
            kibana_external: ends.kibana.and_then(|k| k.external).unwrap_or_default(),
            exposure: exposure.as_str(),
            can_reveal,
            password: String::new(),
            allow_list_text: allow_list.join("\n"),
            allow_list,
            can_edit_allow_list: can_edit && !cluster.deleting,
            allow_list_error: String::new(),
        }
    }
}

/// The allow-list form.
#[derive(Debug, Deserialize)]
pub struct AllowListForm {
    /// One network per line (commas and spaces separate too).
    #[serde(default)]
    pub ip_allow_list: String,
}

/// `POST /t/{tenant}/clusters/{name}/allow-list`.
#[tracing::instrument(skip_all, fields(tenant = %access.tenant.slug, cluster = %name))]
pub async fn update_allow_list(
    State(state): State<AppState>,
    access: TenantAccess,
    meta: RequestMeta,
    Path((_tenant, name)): Path<(String, String)>,
    Form(form): Form<AllowListForm>,
) -> AppResult<Response> {
    require_change(&access)?;
    let slug = access.tenant.slug.to_string();
    let entries = allow_list::split_text(&form.ip_allow_list);
    let count = entries.len();
    let patch = SpecPatch {
        ip_allow_list: Some(entries.clone()),
        ..SpecPatch::default()
    };
    let result = match service::reconfigure(&state, &caller(&access, meta), &name, &patch).await {
        Ok(_) => Ok(flash::redirect(
            &cluster_path(&slug, &name),
            FlashKind::Success,
            if count == 0 {
                "The IP allow-list is now empty: the endpoints are open to anyone who can reach them."
                    .to_owned()
            } else {
                format!(
                    "The IP allow-list now has {count} network{}; the change is being applied.",
                    if count == 1 { "" } else { "s" }
                )
            },
        )),
        Err(AppError::Validation(errors)) => {
            let message = errors
                .0
                .iter()
                .find_map(|e| {
                    let index = e.field.strip_prefix("ip_allow_list")?;
                    Some(
                        match index
                            .strip_prefix('.')
                            .and_then(|i| i.parse::<usize>().ok())
                        {
                            Some(i) => format!("Line {}: {}", i + 1, e.message),
                            None => e.message.clone(),
                        },
                    )
                })
                .or_else(|| errors.get("spec").map(str::to_owned))
                .unwrap_or_else(|| errors.to_string());
            let mut page = dashboard::page(&state, &access, &name, &EsQuery::default()).await?;
            page.conn.allow_list_text = form.ip_allow_list;
            page.conn.allow_list_error = message;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    };
    conflict_to_flash(result, &slug, &name)
}
