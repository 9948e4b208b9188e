//! The Elasticsearch REST client: typed requests and responses for the APIs the portal uses (shapes of
//! Elasticsearch 8.x/9.x, see `../shared/ES_API_CONTRACT.md`), and the transports that carry them over the
//! last hop to a cluster.
//!
//! - [`api`]: the response types, field names exactly as Elasticsearch writes them (`cat` values are strings
//!   on the wire and are parsed here), so the same code reads a real cluster.
//! - [`client::EsClient`]: one cluster, one user; timeouts, retries on 429/503 with backoff, and errors
//!   ([`EsError`]) in words a user can act on.
//! - [`transport`]: the last hop, chosen by where the portal runs ([`connect::Connector`]): in-process to
//!   the simulated Elasticsearch, HTTPS to the cluster's `-es-http` Service (trusting ECK's CA), or a
//!   port-forward through the Kubernetes API server from outside the cluster.
//! - the portal's own file-realm user (`esaas-portal`, role `esaas_portal`: read plus the replicas fix),
//!   never `elastic`, is [`crate::k8s::portal_user`] (the engines provision it; the connector logs in as it).
//!
//! This module never writes Postgres and never decides anything: the inspector
//! (`crate::monitoring::inspector`) polls with it, and audited service calls change things with it.

pub mod api;
pub mod client;
pub mod connect;
pub mod error;
pub mod transport;

pub use client::{Credentials, EsClient};
pub use connect::{Connector, TransportMode};
pub use error::EsError;
