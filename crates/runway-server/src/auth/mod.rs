//! Credentials: password hashing and the two kinds of token.

pub mod password;
pub mod tokens;
