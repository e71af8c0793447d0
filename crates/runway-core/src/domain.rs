//! Domain newtypes. Each is built through `parse`, so a value of the type is
//! valid by construction and handlers never re-check it.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a value was rejected; `code` is stable and reaches API clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            code,
            message: message.into(),
        }
    }
}

/// A normalized email address: trimmed and lower-cased, at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        let normalized = raw.trim().to_lowercase();
        if normalized.is_empty() {
            return Err(Invalid::new("invalid_email", "email is required"));
        }
        if normalized.len() > 254 {
            return Err(Invalid::new("invalid_email", "email is too long"));
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            &normalized,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| Invalid::new("invalid_email", "email is not a valid address"))?;
        if !parsed.domain().contains('.') {
            return Err(Invalid::new(
                "invalid_email",
                "email domain must be fully qualified",
            ));
        }
        Ok(Email(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Password rules, applied at registration.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_chars: usize,
}

/// Upper bound on password length, so hashing cost stays bounded.
pub const MAX_PASSWORD_CHARS: usize = 256;

impl PasswordPolicy {
    pub fn check(&self, password: &str, email: &Email) -> Result<(), Invalid> {
        let chars = password.chars().count();
        if chars < self.min_chars {
            return Err(Invalid::new(
                "weak_password",
                format!("password must be at least {} characters", self.min_chars),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(Invalid::new(
                "weak_password",
                format!("password must be at most {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        let distinct: std::collections::HashSet<char> = password.chars().collect();
        if distinct.len() < 4 {
            return Err(Invalid::new(
                "weak_password",
                "password must use at least 4 different characters",
            ));
        }
        let lower = password.to_lowercase();
        let local = email.as_str().split('@').next().unwrap_or_default();
        if lower == email.as_str() || (local.len() >= 4 && lower.contains(local)) {
            return Err(Invalid::new(
                "weak_password",
                "password must not contain the email address",
            ));
        }
        Ok(())
    }
}

/// A user's id: a UUIDv7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl UserId {
    pub fn new() -> Self {
        UserId(Uuid::now_v7())
    }

    pub fn parse(raw: &str) -> Result<UserId, Invalid> {
        Uuid::parse_str(raw)
            .map(UserId)
            .map_err(|_| Invalid::new("invalid_id", "not a valid id"))
    }
}

impl Default for UserId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Private media are reachable only through expiring signed URLs; public
/// media get stable ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Private,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "private" => Some(Visibility::Private),
            "public" => Some(Visibility::Public),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized() {
        let e = Email::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "alice@example.com");
    }

    #[test]
    fn bad_emails_are_rejected() {
        for raw in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "Alice <alice@example.com>",
            "a@[127.0.0.1]",
        ] {
            assert_eq!(
                Email::parse(raw).unwrap_err().code,
                "invalid_email",
                "{raw}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn password_rules() {
        let policy = PasswordPolicy { min_chars: 10 };
        let email = Email::parse("alice@example.com").unwrap();
        assert!(policy.check("correct horse battery", &email).is_ok());
        assert!(policy.check("short", &email).is_err());
        assert!(policy.check("aaaaaaaaaaaaaaa", &email).is_err());
        assert!(policy.check("ALICE-rocks-2024", &email).is_err());
        assert!(policy.check(&"ab1!".repeat(100), &email).is_err());
    }
}
