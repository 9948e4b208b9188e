//! The JSON shapes of the API (answers and the cluster spec in requests), with their OpenAPI schemas, one
//! file per resource. Domain types stay free of API concerns; these modules map them to stable wire types, so
//! a change inside the domain does not silently change the API.

mod clusters;
mod operations;
mod spec;
mod tenants;

pub use clusters::*;
pub use operations::*;
pub use spec::*;
pub use tenants::*;
