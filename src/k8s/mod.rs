//! Kubernetes: the engines that render clusters into objects, the apply/watch plumbing and the simulated API
//! server. This module owns every call to a Kubernetes API; request handlers never call Kubernetes for
//! changes (reading a Secret for a credentials reveal is the one direct read).

pub mod apply;
pub mod eck;
pub mod engine;
pub mod expose;
pub mod labels;
pub mod portal_user;
pub mod sim;
pub mod sim_kubeconfig;
pub mod target;
pub mod watch;
