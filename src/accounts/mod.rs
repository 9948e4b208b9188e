//! Accounts: users (email + argon2id password), platform admins, disabling, API tokens (`tokens`, and the
//! cache of resolved ones, `token_cache`); `service` is the door for changes (one transaction each, the
//! cache kept in step). Sessions and the HTTP side of logging in live in `crate::auth`.

pub mod email;
pub mod password;
pub mod service;
pub mod token_cache;
pub mod tokens;
pub mod users;
