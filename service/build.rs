//! Records the commit the server is built from, for `/v1/metadata/version`
//! (Confluent's `commitId`): `SCUTE_COMMIT` if set, else git's HEAD, else
//! nothing.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SCUTE_COMMIT");
    let commit = std::env::var("SCUTE_COMMIT").ok().or_else(|| {
        // HEAD moves with every commit; the file names it.
        println!("cargo:rerun-if-changed=../.git/HEAD");
        println!("cargo:rerun-if-changed=../.git/refs/heads");
        let out = Command::new("git")
            .args(["rev-parse", "HEAD"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    });
    if let Some(commit) = commit.filter(|c| !c.is_empty()) {
        println!("cargo:rustc-env=SCUTE_COMMIT={commit}");
    }
}
