//! Who a caller is, however they proved it.

use std::sync::Arc;

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// HTTP Basic against the user file.
    Basic,
    /// A bearer token signed by a key of the JWKS.
    Bearer,
    /// A client certificate the listener's CA verified.
    Certificate,
}

impl Source {
    /// How the audit log and messages name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::Bearer => "bearer",
            Self::Certificate => "certificate",
        }
    }
}

/// An authenticated caller: a name the permissions' `username` matches,
/// and the roles (from a token's claim) their `role` entries match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: Arc<str>,
    pub roles: Arc<[String]>,
    pub source: Source,
}

impl Principal {
    /// A principal without roles.
    pub fn new(name: impl Into<Arc<str>>, source: Source) -> Self {
        Self {
            name: name.into(),
            roles: Arc::from(Vec::new()),
            source,
        }
    }

    /// A principal with the roles a token granted.
    pub fn with_roles(mut self, roles: Vec<String>) -> Self {
        self.roles = Arc::from(roles);
        self
    }
}
