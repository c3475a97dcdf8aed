//! The registry's vocabulary: compatibility levels, modes, version selectors.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A schema id: shared by every subject version that holds the same schema.
pub type SchemaId = i32;
/// A subject's version number, from 1.
pub type Version = i32;

/// Which previously registered versions a new schema must be compatible with,
/// and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompatibilityLevel {
    None,
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl CompatibilityLevel {
    /// The registry's default, as Confluent's.
    pub const DEFAULT: Self = Self::Backward;

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether the new schema must read data written with the old ones.
    pub fn backward(self) -> bool {
        matches!(
            self,
            Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    /// Whether the old schemas must read data written with the new one.
    pub fn forward(self) -> bool {
        matches!(
            self,
            Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive
        )
    }

    /// Whether every earlier version is checked, not only the latest.
    pub fn transitive(self) -> bool {
        matches!(
            self,
            Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive
        )
    }
}

impl FromStr for CompatibilityLevel {
    type Err = Error;

    /// Any case, as Confluent accepts.
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "NONE" => Self::None,
            "BACKWARD" => Self::Backward,
            "BACKWARD_TRANSITIVE" => Self::BackwardTransitive,
            "FORWARD" => Self::Forward,
            "FORWARD_TRANSITIVE" => Self::ForwardTransitive,
            "FULL" => Self::Full,
            "FULL_TRANSITIVE" => Self::FullTransitive,
            _ => return Err(Error::InvalidCompatibilityLevel),
        })
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What writes a subject (or the whole registry) accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    ReadWrite,
    ReadOnly,
    ReadOnlyOverride,
    Import,
    /// Confluent 8's mode for a registry that others' schemas are forwarded
    /// to: registrations carry their ids, as in IMPORT; global only.
    Forward,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadWrite => "READWRITE",
            Self::ReadOnly => "READONLY",
            Self::ReadOnlyOverride => "READONLY_OVERRIDE",
            Self::Import => "IMPORT",
            Self::Forward => "FORWARD",
        }
    }

    /// Registrations carry their own ids and versions and skip the
    /// compatibility check.
    pub fn takes_ids(self) -> bool {
        matches!(self, Self::Import | Self::Forward)
    }

    pub fn read_only(self) -> bool {
        matches!(self, Self::ReadOnly | Self::ReadOnlyOverride)
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "READWRITE" => Self::ReadWrite,
            "READONLY" => Self::ReadOnly,
            "READONLY_OVERRIDE" => Self::ReadOnlyOverride,
            "IMPORT" => Self::Import,
            "FORWARD" => Self::Forward,
            _ => return Err(Error::InvalidMode),
        })
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version as a request names it: a number or the latest one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSelector {
    Latest,
    Number(Version),
}

impl VersionSelector {
    /// Parses as Confluent's `VersionId`: "latest" (trimmed, any case) and
    /// -1 mean the latest; otherwise 1..=2^31-1.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let trimmed = s.trim();
        if trimmed.eq_ignore_ascii_case("latest") {
            return Ok(Self::Latest);
        }
        match trimmed.parse::<i32>() {
            Ok(-1) => Ok(Self::Latest),
            Ok(n) if n >= 1 => Ok(Self::Number(n)),
            _ => Err(Error::InvalidVersion(s.to_owned())),
        }
    }
}

/// Confluent rejects subjects with control characters and its reserved
/// context names.
pub fn validate_subject(subject: &str) -> Result<(), Error> {
    let reserved = subject == "__GLOBAL" || subject == "__EMPTY" || subject == ":.__GLOBAL:";
    if reserved || subject.chars().any(char::is_control) {
        return Err(Error::InvalidSubject(subject.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_confluent() {
        assert_eq!(
            VersionSelector::parse("latest").unwrap(),
            VersionSelector::Latest
        );
        assert_eq!(
            VersionSelector::parse(" LaTeSt ").unwrap(),
            VersionSelector::Latest
        );
        assert_eq!(
            VersionSelector::parse("-1").unwrap(),
            VersionSelector::Latest
        );
        assert_eq!(
            VersionSelector::parse("7").unwrap(),
            VersionSelector::Number(7)
        );
        for bad in ["0", "-2", "abc", "2147483648", ""] {
            assert!(
                matches!(VersionSelector::parse(bad), Err(Error::InvalidVersion(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn levels_any_case() {
        assert_eq!(
            "full_transitive".parse::<CompatibilityLevel>().unwrap(),
            CompatibilityLevel::FullTransitive
        );
        assert!("sideways".parse::<CompatibilityLevel>().is_err());
        let full = CompatibilityLevel::Full;
        assert!(full.backward() && full.forward() && !full.transitive());
    }

    #[test]
    fn subjects() {
        assert!(validate_subject("orders-value").is_ok());
        assert!(validate_subject("a/b c ü").is_ok());
        assert!(validate_subject("").is_ok());
        assert!(validate_subject("bad\u{7}").is_err());
        assert!(validate_subject("__GLOBAL").is_err());
    }
}
