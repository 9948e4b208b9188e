//! Tests of the simulated Kubernetes (`esaas::k8s::sim`): the API contract through the real kube-rs client and
//! raw HTTP, kubectl over a loopback port, and the simulated controllers.

mod apply;
mod common;
mod controllers;
mod crud;
mod discovery;
mod errors;
mod gc;
mod kubectl;
mod patch;
mod selectors;
mod watch;
