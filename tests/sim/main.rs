//! Tests of the simulated Kubernetes (`esaas::k8s::sim`): the API contract through the real kube-rs client and
//! raw HTTP, kubectl over a loopback port (with the served API's token and checks), and the simulated
//! controllers.

mod apply;
mod common;
mod controllers;
mod crud;
mod discovery;
mod errors;
mod exposure;
mod gc;
mod ingress;
mod kubectl;
mod patch;
#[path = "../common/poll.rs"]
mod poll;
mod portforward;
#[path = "../common/ready_watch.rs"]
mod ready_watch;
mod selectors;
#[path = "../common/skip.rs"]
mod skip;
mod watch;
