//! Karapace's user file (its `registry_authfile`), read as Karapace reads
//! it so that a Karapace user copies the file over unchanged:
//!
//! ```json
//! {"users": [{"username": "u", "algorithm": "sha512", "salt": "s", "password_hash": "<base64>"}],
//!  "permissions": [{"username": "u", "operation": "Write", "resource": "Subject:cave-.*"}]}
//! ```
//!
//! Both lists are required, as Karapace indexes both; `users` may be empty
//! (a file of role permissions for bearer tokens only). Keys Scute does not
//! know are ignored, as Karapace ignores them, and a repeated username
//! keeps its last entry, as Karapace's dict does. Scute adds one thing: a
//! permission may name a `role` instead of a `username`.
//!
//! Scute is stricter in one way: an entry whose hash can never match (not
//! base64, or the wrong length for its algorithm) is an error here, where
//! Karapace would load it and refuse that user forever.
//!
//! [`entry`] and [`add_user`] are `karapace_mkpasswd`'s side: making an
//! entry and putting it in a file.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::SecurityError;
use crate::acl::{Acl, Grantee, Operation, Permission};
use crate::password::{self, Algorithm, PasswordHash};

/// The largest user file read: far beyond any real one, it keeps a wrong
/// path (a disk image, a log) from being read whole into memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The users and permissions of a user file.
#[derive(Debug, Clone)]
pub struct UserFile {
    users: HashMap<String, PasswordHash>,
    pub acl: Acl,
}

impl UserFile {
    /// Reads and parses the file at `path`.
    pub fn read(path: &Path) -> Result<UserFile, SecurityError> {
        let bytes = read_bounded(path).map_err(|e| users_file(path, read_error(&e)))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| users_file(path, format!("not UTF-8 text: {}", e.utf8_error())))?;
        Self::parse(path, &text)
    }

    /// Parses a user file's text; `path_for_messages` names it in errors,
    /// which also say where in the file the problem is.
    pub fn parse(path_for_messages: &Path, text: &str) -> Result<UserFile, SecurityError> {
        let fail = |reason: String| users_file(path_for_messages, reason);
        // Windows editors start files with a byte-order mark; it is not content.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let document: Value =
            serde_json::from_str(text).map_err(|e| fail(format!("not valid JSON: {e}")))?;
        let Value::Object(top) = &document else {
            return Err(fail(format!(
                "expected a JSON object with \"users\" and \"permissions\", found {}",
                kind(&document)
            )));
        };
        let users = list(top, "users").map_err(fail)?;
        let permissions = list(top, "permissions").map_err(fail)?;

        let mut by_name = HashMap::with_capacity(users.len());
        for (index, user) in users.iter().enumerate() {
            let (username, hash) = parse_user(index, user).map_err(fail)?;
            if by_name.insert(username.to_owned(), hash).is_some() {
                tracing::warn!(
                    file = %path_for_messages.display(),
                    username,
                    "users[{index}] repeats a username; its last entry is used, as Karapace does"
                );
            }
        }

        let mut acl = Vec::with_capacity(permissions.len());
        for (index, permission) in permissions.iter().enumerate() {
            acl.push(parse_permission(index, permission).map_err(|e| match e {
                PermissionError::File(reason) => fail(reason),
                PermissionError::Resource(e) => e,
            })?);
        }

        Ok(UserFile {
            users: by_name,
            acl: Acl::new(acl),
        })
    }

    /// The stored hash of the user `name`, if the file has one.
    pub fn user(&self, name: &str) -> Option<&PasswordHash> {
        self.users.get(name)
    }

    /// How many distinct users the file has.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }
}

/// One entry of `users`: its username and hash.
fn parse_user(index: usize, user: &Value) -> Result<(&str, PasswordHash), String> {
    let place = format!("users[{index}]");
    let user = object(&place, user)?;
    let username = string(&place, user, "username")?;
    let algorithm: Algorithm = string(&place, user, "algorithm")?
        .parse()
        .map_err(|e| format!("{place}: {e}"))?;
    let salt = string(&place, user, "salt")?;
    let encoded = string(&place, user, "password_hash")?;
    let hash = STANDARD
        .decode(encoded)
        .map_err(|e| format!("{place}.password_hash: not base64 ({e})"))?;
    if hash.len() != algorithm.hash_len() {
        return Err(format!(
            "{place}.password_hash: {} bytes, but a {algorithm} hash is {} bytes",
            hash.len(),
            algorithm.hash_len()
        ));
    }
    Ok((
        username,
        PasswordHash::new(algorithm, salt.to_owned(), hash),
    ))
}

enum PermissionError {
    File(String),
    Resource(SecurityError),
}

/// One entry of `permissions`.
fn parse_permission(index: usize, permission: &Value) -> Result<Permission, PermissionError> {
    let place = format!("permissions[{index}]");
    let entry = object(&place, permission).map_err(PermissionError::File)?;
    let grantee = match (entry.contains_key("username"), entry.contains_key("role")) {
        (true, true) => {
            return Err(PermissionError::File(format!(
                "{place}: names both \"username\" and \"role\"; give one"
            )));
        }
        (false, false) => {
            return Err(PermissionError::File(format!(
                "{place}: missing \"username\" (or \"role\", for principals from bearer tokens)"
            )));
        }
        (true, false) => Grantee::User(
            string(&place, entry, "username")
                .map_err(PermissionError::File)?
                .to_owned(),
        ),
        (false, true) => Grantee::Role(
            string(&place, entry, "role")
                .map_err(PermissionError::File)?
                .to_owned(),
        ),
    };
    let operation = match entry.get("operation") {
        None => {
            return Err(PermissionError::File(format!(
                "{place}: missing \"operation\""
            )));
        }
        Some(Value::String(s)) if s == "Read" => Operation::Read,
        Some(Value::String(s)) if s == "Write" => Operation::Write,
        // Shown as JSON: a string in quotes, anything else as written.
        Some(other) => {
            return Err(PermissionError::File(format!(
                "{place}: operation must be Read or Write, not {other}"
            )));
        }
    };
    let resource = string(&place, entry, "resource").map_err(PermissionError::File)?;
    Permission::new(grantee.clone(), operation, resource).map_err(|reason| {
        PermissionError::Resource(SecurityError::BadResource {
            index,
            username: match grantee {
                Grantee::User(name) => name,
                Grantee::Role(role) => format!("role {role}"),
            },
            resource: resource.to_owned(),
            reason,
        })
    })
}

fn users_file(path: &Path, reason: String) -> SecurityError {
    SecurityError::UsersFile {
        path: path.to_path_buf(),
        reason,
    }
}

/// How messages name a JSON value's type.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A required top-level list.
fn list<'a>(top: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match top.get(key) {
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("{key}: expected a list, found {}", kind(other))),
        None => Err(format!(
            "missing \"{key}\" (Karapace requires it; it may be empty)"
        )),
    }
}

fn object<'a>(place: &str, value: &'a Value) -> Result<&'a Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(format!(
            "{place}: expected an object, found {}",
            kind(other)
        )),
    }
}

fn string<'a>(place: &str, entry: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match entry.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "{place}.{key}: expected a string, found {}",
            kind(other)
        )),
        None => Err(format!("{place}: missing \"{key}\"")),
    }
}

/// The file's bytes, refusing one over [`MAX_FILE_BYTES`] before reading
/// it (and one that grows past it while being read).
fn read_bounded(path: &Path) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let too_large = |len: u64| {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("{len} bytes, more than the {MAX_FILE_BYTES} (64 MiB) a user file may be"),
        )
    };
    if len > MAX_FILE_BYTES {
        return Err(too_large(len));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn read_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::FileTooLarge => format!("too large: {e}"),
        _ => format!("cannot read: {e}"),
    }
}

/// A user entry as `karapace_mkpasswd` prints it, keys in its order. With
/// no `salt`, a random one as `karapace_mkpasswd` makes.
///
/// With `scrypt` this takes tens of milliseconds and 16 MiB.
pub fn entry(username: &str, algorithm: Algorithm, password: &str, salt: Option<&str>) -> Value {
    let salt = salt.map_or_else(password::random_salt, str::to_owned);
    let password_hash = password::hash(algorithm, &salt, password);
    json!({
        "username": username,
        "algorithm": algorithm.as_str(),
        "salt": salt,
        "password_hash": password_hash,
    })
}

/// Puts `entry` (from [`entry`]) in the file's `users`, replacing the
/// user's entry if there is one, or creates the file as
/// `{"users": [entry], "permissions": []}`.
///
/// Everything else in the file is kept, keys in their order; the file is
/// written whole and renamed into place, so a reader (or a crash) sees the
/// old file or the new one, never half of one. On unix the new file is
/// readable by its owner only (0600). A file that is not JSON is left
/// alone: rewriting it would lose what it holds.
pub fn add_user(path: &Path, entry: Value) -> Result<(), SecurityError> {
    let fail = |reason: String| users_file(path, reason);
    let Some(username) = entry
        .get("username")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Err(fail(
            "cannot add a user: the entry has no \"username\" string".into(),
        ));
    };
    // Through a symlink, the file it points at is the one to replace.
    let target = match fs::canonicalize(path) {
        Ok(target) => target,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(fail(format!("cannot read: {e}"))),
    };

    let mut document = match read_bounded(&target) {
        Ok(bytes) => serde_json::from_slice::<Value>(
            bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes),
        )
        .map_err(|e| {
            fail(format!(
                "cannot add a user: the file is not valid JSON ({e}); \
                 rewriting it would lose what it holds, so fix it or move it aside"
            ))
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => json!({"users": [], "permissions": []}),
        Err(e) => return Err(fail(read_error(&e))),
    };

    let Value::Object(top) = &mut document else {
        return Err(fail(format!(
            "cannot add a user: the file holds {}, not an object with \"users\"",
            kind(&document)
        )));
    };
    let users = top
        .entry("users")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(users) = users else {
        return Err(fail(format!(
            "cannot add a user: \"users\" is {}, not a list",
            kind(users)
        )));
    };
    let is_user = |u: &Value| u.get("username").and_then(Value::as_str) == Some(username.as_str());
    match users.iter().position(is_user) {
        Some(first) => {
            // Replace the first entry in place; drop later ones, which
            // Karapace would otherwise prefer to the new entry.
            users[first] = entry;
            let mut index = 0;
            users.retain(|u| {
                let keep = index == first || !is_user(u);
                index += 1;
                keep
            });
        }
        None => users.push(entry),
    }

    let mut text = serde_json::to_string_pretty(&document)
        .map_err(|e| fail(format!("cannot add a user: {e}")))?;
    text.push('\n');
    write_atomically(&target, text.as_bytes()).map_err(|e| fail(format!("cannot write: {e}")))
}

/// Writes `bytes` to a new file beside `path`, flushes it to disk and
/// renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        ));
    };
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| io::Error::other(e.to_string()))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(".tmp-");
    for b in suffix {
        temp_name.push(format!("{b:02x}"));
    }
    let temp: PathBuf = dir.join(temp_name);

    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temp)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            fs::rename(&temp, path)
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    // Makes the rename itself durable. The new file is in place either
    // way, so a failure here is not reported as a failed write.
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Principal, Source};

    // base64(hashlib.pbkdf2_hmac('sha256', b'secret', b'salt', 5000)), as
    // karapace_mkpasswd -a sha256 secret salt writes it.
    const SHA256: &str = "7ZGPbVNZIB/myxbcOkz8BR/eQmW4Yy1zqkF3W7DSWMM=";
    const SHA1: &str = "VX3+sELQ3E/XEieZk015m67CUUs=";

    fn path() -> &'static Path {
        Path::new("/etc/scute/users.json")
    }

    fn reason(text: &str) -> String {
        match UserFile::parse(path(), text).unwrap_err() {
            SecurityError::UsersFile { path: p, reason } => {
                assert_eq!(p, path());
                reason
            }
            other => panic!("not a UsersFile error: {other}"),
        }
    }

    /// A file with one user entry `user` (JSON text) and no permissions.
    fn with_user(user: &str) -> String {
        format!(r#"{{"users": [{user}], "permissions": []}}"#)
    }

    /// A file with no users and one permission entry `permission`.
    fn with_permission(permission: &str) -> String {
        format!(r#"{{"users": [], "permissions": [{permission}]}}"#)
    }

    #[test]
    fn reads_a_karapace_file_and_ignores_unknown_keys() {
        let text = format!(
            r#"{{
              "comment": "from Karapace",
              "users": [
                {{"username": "admin", "algorithm": "sha256", "salt": "salt", "password_hash": "{SHA256}", "note": 1}},
                {{"username": "cave", "algorithm": "sha1", "salt": "salt", "password_hash": "{SHA1}"}}
              ],
              "permissions": [
                {{"username": "admin", "operation": "Write", "resource": ".*"}},
                {{"username": "cave", "operation": "Read", "resource": "Subject:cave-.*", "x": null}},
                {{"role": "readers", "operation": "Read", "resource": "Config:"}}
              ]
            }}"#
        );
        let file = UserFile::parse(path(), &text).unwrap();
        assert_eq!(file.user_count(), 2);
        assert_eq!(file.acl.len(), 3);
        assert!(file.user("admin").unwrap().verify("secret"));
        assert!(!file.user("admin").unwrap().verify("wrong"));
        assert!(file.user("cave").unwrap().verify("secret"));
        assert!(file.user("nobody").is_none());

        let cave = Principal::new("cave", Source::Basic);
        assert!(file.acl.allows(&cave, Operation::Read, "Subject:cave-1"));
        assert!(!file.acl.allows(&cave, Operation::Write, "Subject:cave-1"));
        let reader = Principal::new("svc", Source::Bearer).with_roles(vec!["readers".into()]);
        assert!(file.acl.allows(&reader, Operation::Read, "Config:"));
    }

    #[test]
    fn a_file_of_role_permissions_needs_no_users() {
        let text =
            with_permission(r#"{"role": "r", "operation": "Write", "resource": "Subject:"}"#);
        let file = UserFile::parse(path(), &text).unwrap();
        assert_eq!((file.user_count(), file.acl.len()), (0, 1));
        // A byte-order mark is not content.
        let file = UserFile::parse(path(), &format!("\u{feff}{text}")).unwrap();
        assert_eq!(file.acl.len(), 1);
    }

    #[test]
    fn a_repeated_username_keeps_its_last_entry() {
        let text = format!(
            r#"{{"users": [
                {{"username": "u", "algorithm": "sha1", "salt": "salt", "password_hash": "{SHA1}"}},
                {{"username": "u", "algorithm": "sha256", "salt": "salt", "password_hash": "{SHA256}"}}
            ], "permissions": []}}"#
        );
        let file = UserFile::parse(path(), &text).unwrap();
        assert_eq!(file.user_count(), 1);
        assert_eq!(file.user("u").unwrap().algorithm(), Algorithm::Sha256);
    }

    #[test]
    fn errors_say_where() {
        let ok_user = format!(
            r#"{{"username": "u", "algorithm": "sha1", "salt": "salt", "password_hash": "{SHA1}"}}"#
        );
        let cases: Vec<(String, &str)> = vec![
            (
                "[]".into(),
                "expected a JSON object with \"users\" and \"permissions\", found a list",
            ),
            (
                r#"{"permissions": []}"#.into(),
                "missing \"users\" (Karapace requires it; it may be empty)",
            ),
            (
                r#"{"users": []}"#.into(),
                "missing \"permissions\" (Karapace requires it; it may be empty)",
            ),
            (
                r#"{"users": {}, "permissions": []}"#.into(),
                "users: expected a list, found an object",
            ),
            (
                with_user("3"),
                "users[0]: expected an object, found a number",
            ),
            (
                format!(
                    r#"{{"users": [{ok_user}, {ok_user}, {{"username": "x", "algorithm": "md5", "salt": "s", "password_hash": ""}}], "permissions": []}}"#
                ),
                "users[2]: unknown algorithm \"md5\" (expected sha1, sha256, sha512 or scrypt)",
            ),
            (
                with_user(r#"{"username": "u", "algorithm": "sha1", "password_hash": ""}"#),
                "users[0]: missing \"salt\"",
            ),
            (
                with_user(
                    r#"{"username": 7, "algorithm": "sha1", "salt": "s", "password_hash": ""}"#,
                ),
                "users[0].username: expected a string, found a number",
            ),
            (
                with_user(
                    r#"{"username": "u", "algorithm": "sha1", "salt": "s", "password_hash": "no!"}"#,
                ),
                "users[0].password_hash: not base64 (Invalid symbol 33, offset 2.)",
            ),
            (
                with_user(&format!(
                    r#"{{"username": "u", "algorithm": "sha512", "salt": "s", "password_hash": "{SHA256}"}}"#
                )),
                "users[0].password_hash: 32 bytes, but a sha512 hash is 64 bytes",
            ),
            (
                format!(
                    r#"{{"users": [], "permissions": [{0}, {0}, {0}, {1}]}}"#,
                    r#"{"username": "u", "operation": "Read", "resource": "x"}"#,
                    r#"{"username": "u", "operation": "Admin", "resource": "x"}"#
                ),
                "permissions[3]: operation must be Read or Write, not \"Admin\"",
            ),
            (
                with_permission(r#"{"username": "u", "operation": 1, "resource": "x"}"#),
                "permissions[0]: operation must be Read or Write, not 1",
            ),
            (
                with_permission(r#"{"username": "u", "resource": "x"}"#),
                "permissions[0]: missing \"operation\"",
            ),
            (
                with_permission(r#"{"username": "u", "operation": "Read"}"#),
                "permissions[0]: missing \"resource\"",
            ),
            (
                with_permission(r#"{"operation": "Read", "resource": "x"}"#),
                "permissions[0]: missing \"username\" (or \"role\", for principals from bearer tokens)",
            ),
            (
                with_permission(
                    r#"{"username": "u", "role": "r", "operation": "Read", "resource": "x"}"#,
                ),
                "permissions[0]: names both \"username\" and \"role\"; give one",
            ),
            (
                with_permission(r#"{"role": null, "operation": "Read", "resource": "x"}"#),
                "permissions[0].role: expected a string, found null",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(reason(&text), expected, "{text}");
        }
    }

    #[test]
    fn json_syntax_errors_give_line_and_column() {
        let r = reason("{\n  \"users\": [],\n  \"permissions\": [\n}");
        assert!(r.starts_with("not valid JSON: "), "{r}");
        assert!(r.contains("line 4 column 1"), "{r}");
        let shown = UserFile::parse(path(), "{").unwrap_err().to_string();
        assert!(
            shown.starts_with("the user file /etc/scute/users.json: not valid JSON"),
            "{shown}"
        );
    }

    #[test]
    fn a_bad_regex_is_a_bad_resource() {
        let text = format!(
            r#"{{"users": [], "permissions": [{}, {}]}}"#,
            r#"{"username": "u", "operation": "Read", "resource": "x"}"#,
            r#"{"role": "r", "operation": "Read", "resource": "Subject:(?<=a)"}"#,
        );
        match UserFile::parse(path(), &text).unwrap_err() {
            SecurityError::BadResource {
                index,
                username,
                resource,
                ..
            } => {
                assert_eq!(
                    (index, username.as_str(), resource.as_str()),
                    (1, "role r", "Subject:(?<=a)")
                );
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn read_bounds_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        File::create(&big)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        let e = UserFile::read(&big).unwrap_err().to_string();
        assert!(e.contains("too large: 67108865 bytes, more than"), "{e}");

        let binary = dir.path().join("binary.json");
        fs::write(&binary, b"{\"users\": [\xff]}").unwrap();
        let e = UserFile::read(&binary).unwrap_err().to_string();
        assert!(e.contains("not UTF-8 text"), "{e}");

        let e = UserFile::read(&dir.path().join("missing.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read: "), "{e}");
    }

    #[test]
    fn entry_is_mkpasswd_output() {
        let e = entry("cave", Algorithm::Sha256, "secret", Some("salt"));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            format!(
                r#"{{"username":"cave","algorithm":"sha256","salt":"salt","password_hash":"{SHA256}"}}"#
            )
        );
        let random = entry("cave", Algorithm::Sha1, "secret", None);
        let salt = random["salt"].as_str().unwrap();
        assert_eq!(salt.len(), 22);
        assert_eq!(
            random["password_hash"],
            password::hash(Algorithm::Sha1, salt, "secret")
        );
    }

    #[test]
    fn add_user_creates_adds_and_replaces_keeping_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.json");

        add_user(&path, entry("a", Algorithm::Sha1, "one", Some("s1"))).unwrap();
        let created: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            created.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["users", "permissions"]
        );
        assert_eq!(created["permissions"], json!([]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // Other keys, entries and permissions stay as they were.
        let mut doc = created;
        doc["comment"] = json!("kept");
        doc["users"][0]["extra"] = json!({"kept": true});
        doc["permissions"] = json!([{"username": "a", "operation": "Read", "resource": "x"}]);
        fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();

        add_user(&path, entry("b", Algorithm::Sha256, "two", Some("s2"))).unwrap();
        let file = UserFile::read(&path).unwrap();
        assert_eq!(file.user_count(), 2);
        assert!(file.user("a").unwrap().verify("one"));
        assert!(file.user("b").unwrap().verify("two"));

        // Replacing keeps the user's place in the list.
        add_user(&path, entry("a", Algorithm::Sha256, "three", Some("s3"))).unwrap();
        let file = UserFile::read(&path).unwrap();
        assert!(file.user("a").unwrap().verify("three"));
        assert!(!file.user("a").unwrap().verify("one"));
        assert_eq!(file.acl.len(), 1);
        let doc: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            doc.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["users", "permissions", "comment"]
        );
        assert_eq!(doc["comment"], "kept");
        let names: Vec<_> = doc["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(
            doc["users"][0].get("extra").is_none(),
            "the entry is replaced whole"
        );
        assert_eq!(doc["permissions"][0]["resource"], "x");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn add_user_leaves_one_entry_per_user() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.json");
        let old = entry("u", Algorithm::Sha1, "old", Some("s"));
        let other = entry("v", Algorithm::Sha1, "v", Some("s"));
        let doc = json!({"users": [old.clone(), other, old], "permissions": []});
        fs::write(&path, doc.to_string()).unwrap();
        add_user(&path, entry("u", Algorithm::Sha1, "new", Some("s"))).unwrap();
        let doc: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(doc["users"].as_array().unwrap().len(), 2);
        assert!(
            UserFile::read(&path)
                .unwrap()
                .user("u")
                .unwrap()
                .verify("new")
        );
    }

    #[test]
    fn add_user_refuses_a_file_it_cannot_keep() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.json");
        fs::write(&path, "{\"users\": [").unwrap();
        let e = add_user(&path, entry("u", Algorithm::Sha1, "p", Some("s")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not valid JSON"), "{e}");
        assert!(e.contains("line 1 column 11"), "{e}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"users\": [");

        fs::write(&path, r#"{"users": {}}"#).unwrap();
        let e = add_user(&path, entry("u", Algorithm::Sha1, "p", Some("s")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"users\" is an object, not a list"), "{e}");

        let e = add_user(&path, json!({"name": "u"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no \"username\""), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn add_user_through_a_symlink_replaces_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        let link = dir.path().join("users.json");
        fs::write(&target, r#"{"users": [], "permissions": []}"#).unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        add_user(&link, entry("u", Algorithm::Sha1, "p", Some("s"))).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            UserFile::read(&target)
                .unwrap()
                .user("u")
                .unwrap()
                .verify("p")
        );
    }
}
