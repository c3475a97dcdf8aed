//! The audit log: one JSON line per write and per refused request, with
//! who, what, on which subject, the outcome and when. Off unless asked for
//! (`--audit-log stderr` or a file, appended to).

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// Where audit lines go.
#[derive(Default)]
pub struct Audit {
    sink: Option<Mutex<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("on", &self.sink.is_some())
            .finish()
    }
}

/// The address a request came from, as the servers put it in the request's
/// extensions for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub std::net::SocketAddr);

/// How a request ended, as the audit log says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    /// Refused: no valid credentials, or no permission.
    Denied,
    /// Allowed, and failed (the registry's error).
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }
}

/// One audited request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event<'a> {
    /// Who: a principal's name, or empty when none was proved.
    pub(crate) principal: &'a str,
    /// How they proved it (`basic`, `bearer`, `certificate`), if they did.
    pub(crate) auth: Option<&'a str>,
    /// The API operation (`RegisterSchema`), or the HTTP method and path
    /// of a request refused before it reached one.
    pub(crate) operation: &'a str,
    pub(crate) subject: Option<&'a str>,
    pub(crate) outcome: Outcome,
    pub(crate) error_code: Option<i32>,
    pub(crate) message: Option<&'a str>,
    pub(crate) peer: Option<std::net::SocketAddr>,
}

impl Audit {
    /// No audit log.
    pub fn off() -> Self {
        Self::default()
    }

    /// `stderr`, or a file appended to (created readable by its owner only).
    pub fn open(target: &str) -> std::io::Result<Self> {
        let sink: Box<dyn Write + Send> = if target == "stderr" || target == "-" {
            Box::new(std::io::stderr())
        } else {
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            Box::new(options.open(Path::new(target))?)
        };
        Ok(Self {
            sink: Some(Mutex::new(sink)),
        })
    }

    pub(crate) fn is_on(&self) -> bool {
        self.sink.is_some()
    }

    /// Writes the event's line. A line that cannot be written is logged,
    /// and the request goes on: the audit log is a record, not a gate.
    pub(crate) fn record(&self, event: Event<'_>) {
        let Some(sink) = &self.sink else {
            return;
        };
        let mut line = event.to_json().to_string();
        line.push('\n');
        let written = match sink.lock() {
            Ok(mut sink) => sink.write_all(line.as_bytes()).and_then(|()| sink.flush()),
            Err(_) => Ok(()),
        };
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot write the audit log");
        }
    }
}

impl Event<'_> {
    fn to_json(self) -> Value {
        let mut line = Map::new();
        line.insert("time".into(), json!(rfc3339(SystemTime::now())));
        line.insert("principal".into(), json!(self.principal));
        if let Some(auth) = self.auth {
            line.insert("auth".into(), json!(auth));
        }
        line.insert("operation".into(), json!(self.operation));
        if let Some(subject) = self.subject {
            line.insert("subject".into(), json!(subject));
        }
        line.insert("outcome".into(), json!(self.outcome.as_str()));
        if let Some(code) = self.error_code {
            line.insert("error_code".into(), json!(code));
        }
        if let Some(message) = self.message {
            line.insert("message".into(), json!(message));
        }
        if let Some(peer) = self.peer {
            line.insert("peer".into(), json!(peer.to_string()));
        }
        Value::Object(line)
    }
}

/// `register_schema` as the API names it: `RegisterSchema`.
pub(crate) fn operation_name(method: &str) -> String {
    method
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// UTC time as `2026-12-07T12:14:16.123Z`.
fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// well-known algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_utc_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_796_645_656_123);
        assert_eq!(rfc3339(t), "2026-12-07T12:14:16.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn lines_are_json_with_what_was_done() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let audit = Audit::open(path.to_str().unwrap()).unwrap();
        audit.record(Event {
            principal: "alice",
            auth: Some("basic"),
            operation: &operation_name("register_schema"),
            subject: Some("orders-value"),
            outcome: Outcome::Denied,
            error_code: Some(40301),
            message: Some("User is denied operation Write on Subject:orders-value"),
            peer: None,
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let line: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(line["principal"], "alice");
        assert_eq!(line["operation"], "RegisterSchema");
        assert_eq!(line["subject"], "orders-value");
        assert_eq!(line["outcome"], "denied");
        assert_eq!(line["error_code"], 40301);
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
    }
}
