//! Accounts: users (email + argon2id password), platform admins, disabling, and the CLI actions that
//! create the first admin. Sessions and the HTTP side of logging in live in `crate::auth`.

pub mod email;
pub mod users;
