//! Authorization: what each API call needs of its caller, decided here for
//! REST and gRPC alike. The REST facade reaches the registry through the
//! same API and hands on the caller the same way (as the call's
//! extensions), so there is no second path to guard.
//!
//! Permissions are Karapace's: Read or Write (which implies Read) on
//! `Subject:<name>` or on `Config:` (the global config and mode). A schema
//! read by id or guid is allowed when some subject holding it is readable;
//! lists show only what the caller may read. `calls` says what each call
//! needs.

mod calls;

use std::sync::Arc;

use scute_security::Principal;
use scute_security::acl::{self, Grants, Operation};
use scute_security::users::UserFile;
use scute_security::watch::Watched;

pub(crate) use calls::{Needs, Shown};

use crate::error::Error;

/// Who may call, and where permissions come from.
#[derive(Debug, Clone, Default)]
pub enum Policy {
    /// Security off: no caller is asked who they are.
    #[default]
    Open,
    /// Callers must authenticate; once they have, they may do anything
    /// (authentication without a permissions file).
    Authenticated,
    /// Callers must authenticate, and the user file's permissions decide.
    Permissions(Arc<Watched<UserFile>>),
}

impl Policy {
    /// Who is calling, from a call's extensions (where the servers put the
    /// principal they authenticated).
    pub(crate) fn caller(&self, extensions: &http::Extensions) -> Result<Caller, Error> {
        let principal = extensions.get::<Principal>().cloned();
        let peer = extensions.get::<crate::audit::Peer>().map(|p| p.0);
        let file = match self {
            Self::Open => None,
            Self::Authenticated => {
                principal.as_ref().ok_or(Error::Unauthenticated)?;
                None
            }
            Self::Permissions(file) => {
                principal.as_ref().ok_or(Error::Unauthenticated)?;
                Some(file.get())
            }
        };
        Ok(Caller {
            principal,
            file,
            peer,
        })
    }
}

/// What a call is about, for permissions and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Subject(String),
    /// The global config and mode, contexts, associations.
    Config,
}

impl Target {
    /// A subject's target; none (the global one) for no subject or an
    /// empty one, as the API reads a missing subject.
    pub(crate) fn subject_or_config(subject: Option<&str>) -> Self {
        match subject {
            Some(s) if !s.is_empty() => Self::subject(s),
            _ => Self::Config,
        }
    }

    pub(crate) fn subject(subject: &str) -> Self {
        Self::Subject(crate::context::normalize(subject.to_owned()))
    }

    /// The resource name permissions match.
    pub(crate) fn resource(&self) -> String {
        match self {
            Self::Subject(s) => acl::subject(s),
            Self::Config => acl::CONFIG.to_owned(),
        }
    }

    /// The subject, for the audit log.
    pub(crate) fn subject_name(&self) -> Option<&str> {
        match self {
            Self::Subject(s) => Some(s),
            Self::Config => None,
        }
    }
}

/// What a call needs: an operation on a target, or nothing beyond being
/// authenticated (reads of server metadata, and lists, which are filtered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Need {
    pub(crate) operation: Option<Operation>,
    pub(crate) target: Option<Target>,
}

impl Need {
    pub(crate) const NOTHING: Self = Self {
        operation: None,
        target: None,
    };

    pub(crate) fn read(target: Target) -> Self {
        Self {
            operation: Some(Operation::Read),
            target: Some(target),
        }
    }

    pub(crate) fn write(target: Target) -> Self {
        Self {
            operation: Some(Operation::Write),
            target: Some(target),
        }
    }

    /// Whether the call changes the registry (and so is audited).
    pub(crate) fn writes(&self) -> bool {
        self.operation == Some(Operation::Write)
    }
}

/// An identified caller and the permissions in force for the call.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) principal: Option<Principal>,
    /// `None`: the caller may do anything.
    file: Option<Arc<UserFile>>,
    /// Where the call came from, when a server saw it.
    pub(crate) peer: Option<std::net::SocketAddr>,
}

impl Caller {
    /// A caller who may do anything (in-process use, security off).
    pub(crate) fn anyone() -> Self {
        Self {
            principal: None,
            file: None,
            peer: None,
        }
    }

    /// Refuses the call unless the caller may do what it needs.
    pub(crate) fn require(&self, need: &Need) -> Result<(), Error> {
        let (Some(operation), Some(target)) = (need.operation, need.target.as_ref()) else {
            return Ok(());
        };
        let resource = target.resource();
        match self.view() {
            Some(view) if !view.grants.allows(operation, &resource) => Err(Error::Forbidden {
                operation: operation.as_str(),
                resource,
            }),
            _ => Ok(()),
        }
    }

    /// What the caller may see, or `None` when they may see everything.
    pub(crate) fn view(&self) -> Option<View<'_>> {
        let (file, principal) = (self.file.as_ref()?, self.principal.as_ref()?);
        Some(View {
            grants: file.acl.grants(principal),
        })
    }

    /// The principal's name, for logs.
    pub(crate) fn name(&self) -> &str {
        self.principal.as_ref().map_or("", |p| &p.name)
    }
}

/// One caller's permissions, gathered once to filter a list.
#[derive(Debug)]
pub(crate) struct View<'a> {
    grants: Grants<'a>,
}

impl View<'_> {
    /// Whether the caller may read the subject.
    pub(crate) fn reads(&self, subject: &str) -> bool {
        self.grants.allows_subject(Operation::Read, subject)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use scute_security::Source;

    fn policy(text: &str) -> (Policy, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.json");
        std::fs::write(&path, text).unwrap();
        let file = {
            let path = path.clone();
            Watched::load("the user file", vec![path.clone()], move || {
                scute_security::users::UserFile::read(&path)
            })
            .unwrap()
        };
        (Policy::Permissions(file), dir)
    }

    fn as_user(name: &str) -> http::Extensions {
        let mut ext = http::Extensions::new();
        ext.insert(Principal::new(name, Source::Basic));
        ext
    }

    #[test]
    fn permissions_decide_and_a_missing_principal_is_unauthenticated() {
        let (policy, _dir) = policy(
            r#"{"users": [], "permissions": [
                {"username": "cave", "operation": "Write", "resource": "Subject:cave-.*"},
                {"username": "cave", "operation": "Read", "resource": "Config:"}]}"#,
        );
        assert!(matches!(
            policy.caller(&http::Extensions::new()),
            Err(Error::Unauthenticated)
        ));
        let cave = policy.caller(&as_user("cave")).unwrap();
        cave.require(&Need::write(Target::subject("cave-value")))
            .unwrap();
        cave.require(&Need::read(Target::Config)).unwrap();
        cave.require(&Need::NOTHING).unwrap();
        let denied = cave
            .require(&Need::write(Target::subject("other")))
            .unwrap_err();
        assert_eq!(
            denied.to_string(),
            "User is denied operation Write on Subject:other"
        );
        assert_eq!(denied.error_code(), 40301);
        let denied = cave.require(&Need::write(Target::Config)).unwrap_err();
        assert_eq!(
            denied.to_string(),
            "User is denied operation Write on Config:"
        );
        // `:.:name` is the default context's `name`.
        cave.require(&Need::write(Target::subject(":.:cave-x")))
            .unwrap();
        let view = cave.view().unwrap();
        assert!(view.reads("cave-key") && !view.reads("other"));
    }

    #[test]
    fn open_and_authenticated_policies_allow_everything() {
        let anyone = Policy::Open.caller(&http::Extensions::new()).unwrap();
        anyone.require(&Need::write(Target::Config)).unwrap();
        assert!(anyone.view().is_none());
        assert!(
            Policy::Authenticated
                .caller(&http::Extensions::new())
                .is_err()
        );
        let user = Policy::Authenticated.caller(&as_user("u")).unwrap();
        user.require(&Need::write(Target::Config)).unwrap();
        assert_eq!(user.name(), "u");
    }
}
