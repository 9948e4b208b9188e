//! ECK engine: renders a cluster spec into Elasticsearch and Kibana custom resources (Elastic Cloud on
//! Kubernetes does the rest), and a tenant into its namespace, resource quota and network policy.
//!
//! Pure code: rendering never talks to Kubernetes; applying and watching the objects belongs to the
//! reconciler and the observer. The custom resource types here model only the fields the portal sets or
//! reads; the engine tests validate every rendered object against the real ECK 3.5 CRD schemas.

pub mod common;
pub mod elasticsearch;
pub mod engine;
pub mod ingress;
pub mod kibana;
pub mod quantity;
pub mod render;
pub mod tenant;
pub mod traffic_filter;

pub use common::{Condition, Health, HttpConfig};
pub use elasticsearch::{
    Elasticsearch, ElasticsearchPhase, ElasticsearchSpec, ElasticsearchStatus,
};
pub use kibana::{Kibana, KibanaStatus};
pub use render::{RESTART_TRIGGER_ANNOTATION, RenderContext, RenderedCluster, render};
pub use tenant::{RenderedTenant, render_tenant};
