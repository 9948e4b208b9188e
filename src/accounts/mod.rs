//! Accounts: users (email + argon2id password), platform admins, disabling, API tokens (`tokens`, and the
//! cache of resolved ones, `token_cache`), and the CLI actions that
//! create the first admin. Sessions and the HTTP side of logging in live in `crate::auth`.

pub mod email;
pub mod token_cache;
pub mod tokens;
pub mod users;
