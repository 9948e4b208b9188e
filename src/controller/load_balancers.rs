//! The external addresses of load-balanced clusters (`ESAAS_EXPOSE=loadbalancer`): the observer hands this
//! module every watched HTTP Service of a cluster (of Elasticsearch and of Kibana, labelled by the
//! portal through the engine's Service template), and it keeps the address the load balancer reports in
//! `status.loadBalancer.ingress[0]` (an IP, or a host name on clouds that give names) in
//! `clusters.load_balancer_addresses`, so the API and the dashboard read it from Postgres.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::AppResult;
use crate::k8s::labels;

/// Which endpoint a Service serves (`elasticsearch` or `kibana`), from its `app.kubernetes.io/name` label.
fn component(service: &Value) -> Option<&str> {
    match service["metadata"]["labels"][labels::NAME].as_str() {
        Some(c @ ("elasticsearch" | "kibana")) => Some(c),
        _ => None,
    }
}

/// The address a load balancer reports for `service`, if any.
pub fn address(service: &Value) -> Option<String> {
    let first = &service["status"]["loadBalancer"]["ingress"][0];
    first["ip"]
        .as_str()
        .or_else(|| first["hostname"].as_str())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// Record what `service` says now (`deleted`: it is gone, so is its address).
pub async fn record(
    conn: &mut PgConnection,
    cluster_id: Uuid,
    service: &Value,
    deleted: bool,
) -> AppResult<()> {
    let Some(component) = component(service) else {
        return Ok(());
    };
    let address = if deleted { None } else { address(service) };
    sqlx::query!(
        r#"UPDATE clusters SET load_balancer_addresses = CASE
               WHEN $3::text IS NULL THEN load_balancer_addresses - $2::text
               ELSE load_balancer_addresses || jsonb_build_object($2::text, $3::text) END
           WHERE id = $1"#,
        cluster_id,
        component,
        address
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_ingress_point_is_the_address() {
        let svc = |status: Value| json!({"metadata": {"labels": {"app.kubernetes.io/name": "kibana"}}, "status": status});
        assert_eq!(
            address(&svc(
                json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}})
            )),
            Some("203.0.113.7".into())
        );
        assert_eq!(
            address(&svc(
                json!({"loadBalancer": {"ingress": [{"hostname": "lb.example.net"}]}})
            )),
            Some("lb.example.net".into())
        );
        assert_eq!(address(&svc(json!({"loadBalancer": {}}))), None);
        assert_eq!(component(&svc(json!({}))), Some("kibana"));
        assert_eq!(component(&json!({"metadata": {}})), None);
    }
}
