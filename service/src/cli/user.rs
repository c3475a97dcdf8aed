//! `scute user add|hash`: `karapace_mkpasswd`'s job, so a Scute install
//! needs no Python to manage its user file (`--auth-file`), and the file
//! stays one Karapace reads.

use std::io::{BufRead, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use scute_security::password::Algorithm;
use scute_security::users::{self, add_user, entry};
use serde_json::Value;

use super::{CliError, Done, finish};

/// Appended to `scute user --help`.
const AFTER_HELP: &str = "\
The password is read from one line of standard input (nothing is prompted),
or given with --password, which other users can see in the process list.

Exit status: 0 done; 2 usage error, or the file could not be read or written.";

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Add USERNAME to a user file (created if missing), or replace its
    /// entry; the rest of the file, permissions included, is kept.
    Add {
        /// The user file: the server's --auth-file.
        #[arg(long, env = "SCUTE_AUTH_FILE", value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        hash: HashArgs,
        /// The user name, as HTTP basic auth sends it.
        #[arg(value_parser = parse_username)]
        username: String,
    },
    /// Print a user entry (JSON) as karapace_mkpasswd does, to paste into
    /// a user file.
    Hash {
        #[command(flatten)]
        hash: HashArgs,
        /// The user name to put in the entry (left out without it, as
        /// karapace_mkpasswd does).
        #[arg(short = 'u', long, value_parser = parse_username)]
        username: Option<String>,
    },
}

/// How to hash, and where the password comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct HashArgs {
    /// The hash: PBKDF2 with SHA-512, SHA-256 or SHA-1, or scrypt.
    #[arg(short = 'a', long, default_value = "sha512", value_parser = algorithm_parser())]
    pub algorithm: Algorithm,
    /// The salt (default: 16 random bytes, as karapace_mkpasswd makes).
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub salt: Option<String>,
    /// The password (visible to other users in the process list: prefer
    /// standard input).
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from one line of standard input (the default when
    /// standard input is not a terminal).
    #[arg(long)]
    pub password_stdin: bool,
}

/// The algorithms by name, listed in `--help`, sha512 first as the default.
fn algorithm_parser() -> impl TypedValueParser<Value = Algorithm> {
    PossibleValuesParser::new(["sha512", "sha256", "sha1", "scrypt"])
        .try_map(|name| name.parse::<Algorithm>())
}

/// A name HTTP basic auth can carry: it ends at the first colon.
fn parse_username(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("the user name is empty".into());
    }
    if name.contains(':') {
        return Err("a user name cannot hold ':' (HTTP basic auth ends the name there)".into());
    }
    if name.chars().any(char::is_control) {
        return Err("a user name cannot hold control characters".into());
    }
    Ok(name.to_owned())
}

/// The longest password line read: a bound on a mistaken pipe.
const MAX_PASSWORD_BYTES: u64 = 64 * 1024;

/// The password: --password, or one line of `input`. `input_is_terminal`
/// makes reading the default only where no person would sit waiting.
fn password(
    args: &HashArgs,
    input: &mut dyn BufRead,
    input_is_terminal: bool,
) -> Result<String, CliError> {
    let password = match &args.password {
        Some(password) => password.clone(),
        None if args.password_stdin || !input_is_terminal => read_line(input)?,
        None => {
            return Err(CliError::Usage(
                "no password: pipe it to standard input (`printf '%s\\n' \"$PW\" | scute user ...`) \
                 or pass --password"
                    .into(),
            ));
        }
    };
    if password.is_empty() {
        return Err(CliError::Usage("the password is empty".into()));
    }
    Ok(password)
}

/// One line, without its line ending.
fn read_line(input: &mut dyn BufRead) -> Result<String, CliError> {
    let mut line = String::new();
    let read = input
        .take(MAX_PASSWORD_BYTES + 1)
        .read_line(&mut line)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => {
                CliError::Usage("the password on standard input is not UTF-8".into())
            }
            _ => CliError::Usage(format!("cannot read the password from standard input: {e}")),
        })?;
    if read == 0 {
        return Err(CliError::Usage(
            "no password: standard input is empty".into(),
        ));
    }
    if read as u64 > MAX_PASSWORD_BYTES {
        return Err(CliError::Usage(format!(
            "the password line is longer than {} KiB",
            MAX_PASSWORD_BYTES >> 10
        )));
    }
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Ok(line.to_owned())
}

/// What the file says of `username` before the change, for the message.
#[derive(Debug, Default, PartialEq, Eq)]
struct Before {
    listed: bool,
    has_permissions: bool,
}

/// Reads what the file holds of `username`. Any problem reads as "nothing":
/// [`add_user`] reports it properly.
fn before(path: &Path, username: &str) -> Before {
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|f| f.take(users::MAX_FILE_BYTES + 1).read_to_end(&mut bytes));
    let Ok(Value::Object(top)) = read.map_err(drop).and_then(|_| {
        let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
        serde_json::from_slice::<Value>(text).map_err(drop)
    }) else {
        return Before::default();
    };
    let names = |key: &str| {
        top.get(key).and_then(Value::as_array).is_some_and(|list| {
            list.iter()
                .any(|e| e.get("username").and_then(Value::as_str) == Some(username))
        })
    };
    Before {
        listed: names("users"),
        has_permissions: names("permissions"),
    }
}

/// The entry as karapace_mkpasswd prints it: indented by four.
fn pretty(entry: &Value) -> Result<String, CliError> {
    use serde::Serialize;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    entry
        .serialize(&mut serializer)
        .map_err(|e| CliError::Usage(format!("cannot print the entry: {e}")))?;
    let mut text = String::from_utf8_lossy(&out).into_owned();
    text.push('\n');
    Ok(text)
}

/// Runs `scute user ...`.
pub fn user(args: UserArgs) -> ExitCode {
    let stdin = std::io::stdin();
    let is_terminal = stdin.is_terminal();
    finish(run_user(args, &mut stdin.lock(), is_terminal))
}

fn run_user(
    args: UserArgs,
    input: &mut dyn BufRead,
    input_is_terminal: bool,
) -> Result<Done, CliError> {
    match args.command {
        UserCommand::Add {
            file,
            hash,
            username,
        } => {
            let password = password(&hash, input, input_is_terminal)?;
            let before = before(&file, &username);
            let made = entry(&username, hash.algorithm, &password, hash.salt.as_deref());
            add_user(&file, made).map_err(|e| CliError::Usage(e.to_string()))?;
            let (done, preposition) = if before.listed {
                ("replaced", "in")
            } else {
                ("added", "to")
            };
            let mut note = format!(
                "scute: {done} user {username:?} {preposition} {}",
                file.display()
            );
            if !before.has_permissions {
                note.push_str(
                    "; no permission names them yet: add one to \"permissions\" \
                     before they can read or write",
                );
            }
            eprintln!("{note}");
            Ok(String::new().into())
        }
        UserCommand::Hash { hash, username } => {
            let password = password(&hash, input, input_is_terminal)?;
            let mut made = entry(
                username.as_deref().unwrap_or_default(),
                hash.algorithm,
                &password,
                hash.salt.as_deref(),
            );
            if username.is_none()
                && let Value::Object(fields) = &mut made
            {
                fields.shift_remove("username");
            }
            Ok(pretty(&made)?.into())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{Command, Config};
    use clap::Parser;
    use scute_security::users::UserFile;

    // base64(pbkdf2_hmac('sha512', b'secret', b'salt', 5000)), as
    // karapace_mkpasswd secret salt prints it.
    const SHA512: &str =
        "CUXHCPbYxKenfgrWHqiIuqAd1VCVkR7YWGdyCnmRFCyRFsblNuriBcesDSvgaxCPb397R4ueFcjWzBcCNtGOYw==";

    fn parse(argv: &[&str]) -> Result<UserArgs, clap::Error> {
        let mut full = vec!["scute", "user"];
        full.extend_from_slice(argv);
        match Config::try_parse_from(full)?.command {
            Some(Command::User(args)) => Ok(args),
            other => panic!("not a user command: {other:?}"),
        }
    }

    fn run(argv: &[&str], stdin: &str, terminal: bool) -> Result<Done, CliError> {
        run_user(parse(argv).unwrap(), &mut stdin.as_bytes(), terminal)
    }

    fn usage(result: Result<Done, CliError>) -> String {
        match result {
            Err(CliError::Usage(message)) => message,
            Err(other) => panic!("not a usage error: {other}"),
            Ok(done) => panic!("succeeded: {}", done.stdout),
        }
    }

    #[test]
    fn flags_parse_with_karapace_defaults() {
        let args = parse(&["add", "--file", "u.json", "alice"]).unwrap();
        let UserCommand::Add {
            file,
            hash,
            username,
        } = args.command
        else {
            panic!("not add")
        };
        assert_eq!(
            (file.to_str(), username.as_str()),
            (Some("u.json"), "alice")
        );
        assert_eq!(hash.algorithm, Algorithm::Sha512);
        assert_eq!(
            (hash.salt, hash.password, hash.password_stdin),
            (None, None, false)
        );

        let args = parse(&[
            "hash",
            "-a",
            "scrypt",
            "--salt",
            "s",
            "-u",
            "bob",
            "--password",
            "pw",
        ])
        .unwrap();
        let UserCommand::Hash { hash, username } = args.command else {
            panic!("not hash")
        };
        assert_eq!(hash.algorithm, Algorithm::Scrypt);
        assert_eq!(username.as_deref(), Some("bob"));
        assert_eq!(hash.password.as_deref(), Some("pw"));

        for bad in [
            &["add", "alice"][..],
            &["add", "--file", "f", "a:b"],
            &["add", "--file", "f", ""],
            &["hash", "-a", "md5"],
            &["hash", "-a", "SHA512"],
            &["hash", "--salt", ""],
            &["hash", "--password", "p", "--password-stdin"],
            &["hash", "-u", "x:y"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hash_prints_what_karapace_mkpasswd_prints() {
        let done = run(&["hash", "--salt", "salt", "-u", "cave"], "secret\n", false).unwrap();
        assert_eq!(
            done.stdout,
            format!(
                "{{\n    \"username\": \"cave\",\n    \"algorithm\": \"sha512\",\n    \
                 \"salt\": \"salt\",\n    \"password_hash\": \"{SHA512}\"\n}}\n"
            )
        );
        // No -u: no username key, as karapace_mkpasswd; a random salt.
        let done = run(&["hash", "--password", "secret"], "", true).unwrap();
        let printed: Value = serde_json::from_str(&done.stdout).unwrap();
        let keys: Vec<&String> = printed.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["algorithm", "salt", "password_hash"]);
        assert_eq!(printed["salt"].as_str().unwrap().len(), 22);
    }

    #[test]
    fn the_password_is_one_line_of_input_unless_a_person_is_there() {
        let hash = |stdin: &str| {
            let done = run(&["hash", "--salt", "salt"], stdin, false).unwrap();
            serde_json::from_str::<Value>(&done.stdout).unwrap()["password_hash"].clone()
        };
        assert_eq!(hash("secret\n"), SHA512);
        assert_eq!(hash("secret\r\n"), SHA512);
        assert_eq!(hash("secret"), SHA512);
        assert_eq!(hash("secret\nmore lines\n"), SHA512);

        assert!(usage(run(&["hash"], "", false)).contains("standard input is empty"));
        assert!(usage(run(&["hash"], "\n", false)).contains("the password is empty"));
        assert!(usage(run(&["hash", "--password", ""], "", true)).contains("empty"));
        // On a terminal nothing is read unless asked: no silent wait.
        assert!(usage(run(&["hash"], "secret\n", true)).contains("--password"));
        assert!(run(&["hash", "--password-stdin"], "secret\n", true).is_ok());
        let long = "x".repeat(70_000);
        assert!(usage(run(&["hash"], &long, false)).contains("longer than"));
        let not_utf8 = run_user(parse(&["hash"]).unwrap(), &mut &b"\xff\xfe\n"[..], false);
        assert!(usage(not_utf8).contains("not UTF-8"));
    }

    #[test]
    fn add_writes_a_file_the_server_reads_and_replaces_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users.json");
        let path = file.to_str().unwrap();
        run(
            &["add", "--file", path, "alice", "-a", "sha256"],
            "one\n",
            false,
        )
        .unwrap();
        let read = UserFile::read(&file).unwrap();
        assert!(read.user("alice").unwrap().verify("one"));
        assert_eq!(
            before(&file, "alice"),
            Before {
                listed: true,
                has_permissions: false
            }
        );

        // Permissions added by hand survive a password change.
        let mut document: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        document["permissions"] =
            serde_json::json!([{"username": "alice", "operation": "Read", "resource": ".*"}]);
        std::fs::write(&file, document.to_string()).unwrap();
        run(&["add", "--file", path, "bob"], "two\n", false).unwrap();
        run(&["add", "--file", path, "alice"], "three\n", false).unwrap();
        let read = UserFile::read(&file).unwrap();
        assert_eq!((read.user_count(), read.acl.len()), (2, 1));
        assert!(read.user("alice").unwrap().verify("three"));
        assert!(!read.user("alice").unwrap().verify("one"));
        assert!(read.user("bob").unwrap().verify("two"));
        assert_eq!(
            before(&file, "alice"),
            Before {
                listed: true,
                has_permissions: true
            }
        );
        assert_eq!(before(&file, "carol"), Before::default());

        // A file that is not JSON is left alone, with the reason.
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{not json").unwrap();
        let message = usage(run(
            &["add", "--file", broken.to_str().unwrap(), "alice"],
            "pw\n",
            false,
        ));
        assert!(message.contains("not valid JSON"), "{message}");
        assert_eq!(std::fs::read_to_string(&broken).unwrap(), "{not json");
    }
}
