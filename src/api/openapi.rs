//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' `#[utoipa::path]` attributes and the
//! schemas of their types (routes are registered with `utoipa_axum::routes!`, so a route cannot exist
//! without its documentation). [`finish`] then adds what every operation shares, derived from its shape:
//! the `Idempotency-Key` header on changes, and the problem+json error answers the middleware and
//! extractors can give (400 and 500 everywhere, 401/429/503 for authenticated routes, 413/415/422 for
//! bodies, 404 for paths with parameters, 403/409/422 for changes).

use utoipa::openapi::path::{HttpMethod, Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Header, OpenApi, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

use super::error::{PROBLEM_JSON, Problem, ProblemItem};

/// Name of the security scheme.
pub const BEARER: &str = "bearer";

/// The document's fixed parts.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "ESaaS Portal API",
        version = "1",
        description = "Self-service Elasticsearch clusters for automation.\n\n\
            Authenticate with an API token: `Authorization: Bearer esaas_...` (create one on the account \
            page, with `POST /api/v1/tokens`, or with `esaas admin create-token`).\n\n\
            Changes that take time answer `202 Accepted` with an operation and its `Location`; poll it \
            until `done`. Every `POST`, `PUT`, `PATCH` and `DELETE` accepts an `Idempotency-Key` header \
            (retries with the same key and body replay the first answer for 24 hours). Cluster answers \
            carry `ETag: \"<generation>\"`; send it back as `If-Match` to refuse stale changes (412). \
            Errors are `application/problem+json` with JSON pointers to the invalid fields. Each token \
            is rate limited (429 with `Retry-After`)."
    ),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    components(schemas(Problem, ProblemItem)),
    tags(
        (name = "tenants", description = "Tenants you belong to; platform admins create them and set quotas"),
        (name = "members", description = "Members of a tenant and their roles"),
        (name = "clusters", description = "Elasticsearch clusters"),
        (name = "actions", description = "Scale, resize, restart, upgrade, deletion protection"),
        (name = "elasticsearch", description = "Nodes, indices, shards and health inside a cluster, as last polled"),
        (name = "operations", description = "Requested changes and their progress"),
        (name = "tokens", description = "Your API tokens"),
        (name = "meta", description = "Templates, versions and storage classes"),
        (name = "audit", description = "Who did what"),
        (name = "documentation", description = "This document"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("esaas_<43 base62 characters>")
                    .description(Some(
                        "An API token. Read-only tokens may only GET; tenant-limited tokens see one tenant.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document with the fixed parts.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

/// Shared error answers: (status, component name, description).
const ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Malformed JSON, or an invalid parameter or header",
    ),
    (
        "401",
        "Unauthorized",
        "Missing, unknown, expired or revoked token",
    ),
    (
        "403",
        "Forbidden",
        "Your role or token does not allow this (read-only tokens may only GET)",
    ),
    ("404", "NotFound", "No such resource, or you cannot see it"),
    (
        "409",
        "Conflict",
        "Conflicts with the current state, or the same Idempotency-Key is still running",
    ),
    ("413", "PayloadTooLarge", "The body is too large"),
    ("415", "UnsupportedMediaType", "The body is not JSON"),
    (
        "422",
        "UnprocessableEntity",
        "Invalid input (JSON pointers in `errors`), or an Idempotency-Key reused with another request",
    ),
    (
        "429",
        "TooManyRequests",
        "The token's rate limit is exceeded; see Retry-After",
    ),
    ("500", "InternalError", "Unexpected failure (logged)"),
    (
        "503",
        "Unavailable",
        "A dependency is unavailable; retry later",
    ),
];

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn error_response(status: &str, description: &str) -> utoipa::openapi::Response {
    let mut builder = ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    match status {
        "401" => {
            builder = builder.header(
                "WWW-Authenticate",
                Header::builder()
                    .schema(Some(string_schema()))
                    .description(Some("`Bearer realm=\"esaas\"`"))
                    .build(),
            );
        }
        "409" | "429" | "503" => {
            builder = builder.header(
                "Retry-After",
                Header::builder()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                    .description(Some("Seconds to wait before retrying"))
                    .build(),
            );
        }
        _ => {}
    }
    builder.build()
}

fn idempotency_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "1 to 255 visible ASCII characters (e.g. a UUID). A retry with the same key and request \
             replays the first answer (with `Idempotent-Replayed: true`) for 24 hours; the same key with \
             another request is refused (422).",
        ))
        .schema(Some(
            string_schema()
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[!-~]+$")),
        ))
        .build()
}

fn add(op: &mut Operation, status: &str) {
    if op.responses.responses.contains_key(status) {
        return;
    }
    if let Some((_, name, _)) = ERRORS.iter().find(|(s, _, _)| *s == status) {
        op.responses.responses.insert(
            status.to_owned(),
            RefOr::Ref(Ref::from_response_name(*name)),
        );
    }
}

/// Every (method, path template) the document declares, e.g. (`POST`, `/api/v1/tenants/{tenant}/clusters`):
/// the operations the router serves. Middleware that runs before routing decides (such as idempotency
/// keys) consults it, so a method a route does not have is answered 405 by the router and nothing else.
pub fn declared_operations(doc: &OpenApi) -> std::collections::HashSet<(http::Method, String)> {
    let mut set = std::collections::HashSet::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            (http::Method::GET, item.get.is_some()),
            (http::Method::POST, item.post.is_some()),
            (http::Method::PUT, item.put.is_some()),
            (http::Method::PATCH, item.patch.is_some()),
            (http::Method::DELETE, item.delete.is_some()),
        ];
        for (method, present) in methods {
            if present {
                set.insert((method, path.clone()));
            }
        }
    }
    set
}

/// Who may call each operation (by `operationId`), appended to its description; the ones that do not
/// start with "any" name a role and answer 403 to everyone else (read-only tokens: every change is 403 as well).
const WHO_MAY_CALL: &[(&str, &str)] = &[
    ("openapi", "anyone, without a token"),
    ("listTemplates", "any token"),
    ("listVersions", "any token"),
    ("listStorageClasses", "any token"),
    ("listTokens", "any token (your own tokens)"),
    (
        "createToken",
        "any writable token (for yourself; a token cannot outlive the one making it)",
    ),
    ("revokeToken", "any writable token (your own tokens)"),
    (
        "listTenants",
        "any token (the tenants you belong to; every tenant for a platform admin)",
    ),
    ("createTenant", "a platform admin"),
    (
        "getTenant",
        "a member of the tenant (any role) or a platform admin",
    ),
    ("updateTenant", "a platform admin"),
    (
        "getQuota",
        "a member of the tenant (any role) or a platform admin",
    ),
    ("setQuota", "a platform admin"),
    (
        "listMembers",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "addMember",
        "an owner or admin of the tenant (only owners may add owners)",
    ),
    (
        "updateMember",
        "an owner or admin of the tenant (only owners may give or change the owner role)",
    ),
    (
        "removeMember",
        "an owner or admin of the tenant (only owners may remove owners)",
    ),
    (
        "listClusters",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "getCluster",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "getClusterStatus",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "listClusterPods",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "listClusterNodes",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "listClusterIndices",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "listClusterShards",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "getClusterHealthReport",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "setIndexReplicas",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "createCluster",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "updateCluster",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "deleteCluster",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "revealClusterCredentials",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "scaleCluster",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "resizeCluster",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "restartCluster",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "upgradeCluster",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "setDeletionProtection",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "listOperations",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "getOperation",
        "a member of the tenant (any role) or a platform admin",
    ),
    (
        "cancelOperation",
        "an owner, admin or member of the tenant (not a viewer, not a platform admin who is not a member)",
    ),
    (
        "tenantAuditLog",
        "an owner or admin of the tenant, or a platform admin",
    ),
    ("platformAuditLog", "a platform admin"),
    ("putStorageClass", "a platform admin"),
    ("removeStorageClass", "a platform admin"),
];

/// Constraints of shared parameters the handlers check themselves: (name, where, required, schema).
fn parameter_rules(name: &str, at: &ParameterIn) -> Option<(bool, ObjectBuilder)> {
    match (name, at) {
        ("If-Match", ParameterIn::Header) => Some((
            false,
            string_schema()
                .min_length(Some(1))
                .pattern(Some(super::clusters::IF_MATCH_PATTERN)),
        )),
        ("cursor", ParameterIn::Query) => Some((
            false,
            string_schema()
                .min_length(Some(1))
                .max_length(Some(super::cursor::MAX_LEN))
                .pattern(Some("^[A-Za-z0-9_-]+$")),
        )),
        ("confirm_name", ParameterIn::Query) => Some((true, string_schema())),
        _ => None,
    }
}

/// Apply [`parameter_rules`] to the parameters of `op`.
fn constrain_parameters(op: &mut Operation) {
    for parameter in op.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if let Some((required, schema)) = parameter_rules(&parameter.name, &parameter.parameter_in)
        {
            if required {
                parameter.required = Required::True;
            }
            parameter.schema = Some(RefOr::T(schema.build().into()));
        }
    }
}

/// Who may call `op` (see [`WHO_MAY_CALL`]).
fn who_may_call(op: &Operation) -> Option<&'static str> {
    let id = op.operation_id.as_deref()?;
    WHO_MAY_CALL
        .iter()
        .find(|(o, _)| *o == id)
        .map(|(_, who)| *who)
}

/// Complete the generated document (see the module docs).
pub fn finish(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    for (status, name, description) in ERRORS {
        components.responses.insert(
            (*name).to_owned(),
            RefOr::T(error_response(status, description)),
        );
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = path.ends_with("/openapi.json");
        let with_path_params = path.contains('{');
        let methods = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ];
        for (method, op) in methods {
            let Some(op) = op.as_mut() else { continue };
            let mutating = !matches!(method, HttpMethod::Get);
            let with_body = op.request_body.is_some();
            constrain_parameters(op);
            if let Some(who) = who_may_call(op) {
                let description = op.description.take().unwrap_or_default();
                let sep = if description.is_empty() { "" } else { "\n\n" };
                op.description = Some(format!("{description}{sep}Who may call it: {who}."));
                if !who.starts_with("any") {
                    add(op, "403");
                }
            }
            if mutating {
                op.parameters
                    .get_or_insert_with(Vec::new)
                    .push(RefOr::T(idempotency_parameter()));
            }
            // Any URL can be malformed (a NUL byte, an unparsable parameter).
            add(op, "400");
            if !public {
                add(op, "401");
                add(op, "429");
                add(op, "503");
            }
            if mutating {
                add(op, "403");
                add(op, "409");
                add(op, "422");
            }
            if with_path_params {
                add(op, "404");
            }
            if with_body || mutating {
                add(op, "413");
            }
            if with_body {
                add(op, "415");
                add(op, "422");
            }
            add(op, "500");
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_says_who_may_call_it() {
        let doc = crate::api::openapi_document();
        let mut seen = 0;
        for item in doc.paths.paths.values() {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let id = op.operation_id.clone().unwrap_or_default();
                let description = op.description.clone().unwrap_or_default();
                assert!(
                    description.contains("Who may call it: "),
                    "{id}: {description}"
                );
                let restricted = who_may_call(op).is_some_and(|w| !w.starts_with("any"));
                assert_eq!(
                    restricted,
                    op.responses.responses.contains_key("403")
                        && !matches!(id.as_str(), "createToken" | "revokeToken"),
                    "{id}: a role requirement and a 403 go together"
                );
                seen += 1;
            }
        }
        assert_eq!(seen, WHO_MAY_CALL.len(), "one entry per operation");
    }

    #[test]
    fn shared_parameters_declare_what_the_server_checks() {
        let json = serde_json::to_value(crate::api::openapi_document()).unwrap();
        let delete =
            &json["paths"]["/api/v1/tenants/{tenant}/clusters/{name}"]["delete"]["parameters"];
        let find = |name: &str| {
            delete
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .cloned()
                .unwrap_or_else(|| panic!("no {name}: {delete}"))
        };
        assert_eq!(find("confirm_name")["required"], true);
        let pattern = find("If-Match")["schema"]["pattern"]
            .as_str()
            .unwrap()
            .to_owned();
        let re = regex::Regex::new(&pattern).unwrap();
        for ok in ["*", "\"3\"", "\"1\", \"2\"", "W/\"x\""] {
            assert!(re.is_match(ok), "{ok}");
            assert!(
                crate::api::clusters::if_match_is_well_formed(ok.as_bytes()),
                "{ok}"
            );
        }
        for bad in ["", " ", "null", "3", "\"3", "{H-s"] {
            assert!(!re.is_match(bad), "{bad}");
            assert!(
                !crate::api::clusters::if_match_is_well_formed(bad.as_bytes()),
                "{bad}"
            );
        }
    }

    #[test]
    fn base_document_has_the_bearer_scheme() {
        let doc = finish(base());
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
        assert_eq!(
            json["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        assert_eq!(
            json["components"]["responses"]["Unauthorized"]["content"][PROBLEM_JSON]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
    }
}
