//! Karapace's permissions: who may Read or Write which resource.
//!
//! A resource is `Subject:<qualified subject>` or `Config:` (the global
//! config and mode). A permission's `resource` is a regular expression
//! matched at the start of the resource's name, as Python's `re.match`
//! does, and Write implies Read. A permission names a `username`, or (for
//! principals from bearer tokens) a `role` they hold.

use regex::Regex;

use crate::Principal;

/// The resource of the global config and mode.
pub const CONFIG: &str = "Config:";

/// The resource of a subject.
pub fn subject(subject: &str) -> String {
    format!("Subject:{subject}")
}

/// What a permission allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Read,
    Write,
}

impl Operation {
    /// The name the user file and messages use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "Read",
            Self::Write => "Write",
        }
    }
}

/// Whom a permission is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    User(String),
    Role(String),
}

/// One entry of the file's `permissions`.
#[derive(Debug, Clone)]
pub struct Permission {
    pub grantee: Grantee,
    pub operation: Operation,
    /// The pattern anchored at the start, as `re.match` reads it.
    pub resource: Regex,
}

impl Permission {
    /// A permission whose resource pattern is `pattern`, anchored at the
    /// start; `Err` carries the regex crate's reason.
    pub fn new(grantee: Grantee, operation: Operation, pattern: &str) -> Result<Self, String> {
        let resource = Regex::new(&format!("^(?:{pattern})")).map_err(|e| e.to_string())?;
        Ok(Self {
            grantee,
            operation,
            resource,
        })
    }

    fn applies_to(&self, principal: &Principal) -> bool {
        match &self.grantee {
            Grantee::User(name) => **name == *principal.name,
            Grantee::Role(role) => principal.roles.iter().any(|r| r == role),
        }
    }

    fn allows(&self, operation: Operation) -> bool {
        operation == Operation::Read || self.operation == Operation::Write
    }
}

/// The permissions of a user file.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    permissions: Vec<Permission>,
}

impl Acl {
    pub fn new(permissions: Vec<Permission>) -> Self {
        Self { permissions }
    }

    pub fn len(&self) -> usize {
        self.permissions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty()
    }

    /// What `principal` may do, gathered once for deciding many resources
    /// (a list of 100,000 subjects is filtered through one of these).
    pub fn grants(&self, principal: &Principal) -> Grants<'_> {
        Grants {
            permissions: self
                .permissions
                .iter()
                .filter(|p| p.applies_to(principal))
                .collect(),
        }
    }

    /// Whether `principal` may do `operation` on `resource`.
    pub fn allows(&self, principal: &Principal, operation: Operation, resource: &str) -> bool {
        self.grants(principal).allows(operation, resource)
    }
}

/// One principal's permissions.
#[derive(Debug)]
pub struct Grants<'a> {
    permissions: Vec<&'a Permission>,
}

impl Grants<'_> {
    /// Whether these permissions allow `operation` on `resource`.
    pub fn allows(&self, operation: Operation, resource: &str) -> bool {
        self.permissions
            .iter()
            .any(|p| p.allows(operation) && p.resource.is_match(resource))
    }

    /// Whether they allow `operation` on the subject.
    pub fn allows_subject(&self, operation: Operation, name: &str) -> bool {
        self.allows(operation, &subject(name))
    }

    /// Whether they allow nothing at all.
    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Source;

    fn acl() -> Acl {
        let user = |n: &str| Grantee::User(n.into());
        Acl::new(vec![
            Permission::new(user("admin"), Operation::Write, ".*").unwrap(),
            Permission::new(user("cave"), Operation::Write, "Subject:cave-.*").unwrap(),
            Permission::new(user("cave"), Operation::Read, "Subject:shared").unwrap(),
            Permission::new(Grantee::Role("readers".into()), Operation::Read, "Subject:").unwrap(),
        ])
    }

    #[test]
    fn write_implies_read_and_patterns_match_at_the_start() {
        let acl = acl();
        let cave = Principal::new("cave", Source::Basic);
        assert!(acl.allows(&cave, Operation::Write, "Subject:cave-value"));
        assert!(acl.allows(&cave, Operation::Read, "Subject:cave-value"));
        assert!(!acl.allows(&cave, Operation::Read, "Subject:other"));
        assert!(!acl.allows(&cave, Operation::Read, "Subject:x-cave-value"));
        // Anchored at the start only, as re.match: a prefix pattern matches longer names.
        assert!(acl.allows(&cave, Operation::Read, "Subject:shared-too"));
        assert!(!acl.allows(&cave, Operation::Write, "Subject:shared"));
        assert!(!acl.allows(&cave, Operation::Read, CONFIG));
        let admin = Principal::new("admin", Source::Basic);
        assert!(acl.allows(&admin, Operation::Write, CONFIG));
    }

    #[test]
    fn roles_grant_what_their_entries_say() {
        let acl = acl();
        let reader = Principal::new("svc", Source::Bearer).with_roles(vec!["readers".into()]);
        assert!(acl.allows(&reader, Operation::Read, "Subject:anything"));
        assert!(!acl.allows(&reader, Operation::Write, "Subject:anything"));
        let nobody = Principal::new("svc", Source::Bearer);
        assert!(acl.grants(&nobody).is_empty());
    }

    #[test]
    fn an_alternation_stays_anchored() {
        let p = Permission::new(
            Grantee::User("u".into()),
            Operation::Read,
            "Subject:a|Subject:b",
        )
        .unwrap();
        assert!(p.resource.is_match("Subject:b"));
        assert!(!p.resource.is_match("xSubject:b"));
        assert!(Permission::new(Grantee::User("u".into()), Operation::Read, "(").is_err());
    }
}
