//! Karapace's password hashes, derived exactly as Karapace derives them so
//! that a Karapace user file works unchanged.
//!
//! `sha1`, `sha256` and `sha512` are PBKDF2-HMAC with that hash, 5000
//! iterations and a key as long as the hash's digest (Python's
//! `hashlib.pbkdf2_hmac` default); `scrypt` is n = 16384, r = 8, p = 1 and a
//! 64-byte key (`hashlib.scrypt`'s default). The password and the salt are
//! their UTF-8 bytes; the file holds the key in standard base64.
//!
//! Deriving is deliberately slow (scrypt also takes 16 MiB): callers run it
//! off the async threads.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use aws_lc_rs::pbkdf2;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use subtle::ConstantTimeEq;

/// Karapace's PBKDF2 iteration count.
const ITERATIONS: NonZeroU32 = match NonZeroU32::new(5000) {
    Some(n) => n,
    None => panic!("5000 is not zero"),
};

/// scrypt's cost as Karapace sets it: n = 2^14, r = 8, p = 1.
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// `hashlib.scrypt`'s default key length.
const SCRYPT_LEN: usize = 64;

/// A hash algorithm of Karapace's user file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
    Scrypt,
}

impl Algorithm {
    /// Every algorithm, in the order messages list them.
    pub const ALL: [Algorithm; 4] = [Self::Sha1, Self::Sha256, Self::Sha512, Self::Scrypt];

    /// The name the user file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
            Self::Scrypt => "scrypt",
        }
    }

    /// How many bytes a hash of this algorithm is: a stored hash of another
    /// length can never match.
    pub fn hash_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
            Self::Scrypt => SCRYPT_LEN,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = String;

    /// Names are case-sensitive, as Karapace's `HashAlgorithm(name)` is.
    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| {
                format!("unknown algorithm {name:?} (expected sha1, sha256, sha512 or scrypt)")
            })
    }
}

/// The key `algorithm` derives from `password` and `salt`.
fn derive(algorithm: Algorithm, salt: &str, password: &str) -> Vec<u8> {
    let mut out = vec![0u8; algorithm.hash_len()];
    let prf = match algorithm {
        Algorithm::Sha1 => pbkdf2::PBKDF2_HMAC_SHA1,
        Algorithm::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
        Algorithm::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        Algorithm::Scrypt => {
            // Both calls fail only on parameters or an output length out of
            // range, and these are constants within range.
            let derived = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN)
                .map_err(|e| e.to_string())
                .and_then(|params| {
                    scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut out)
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = derived {
                unreachable!("Karapace's scrypt parameters are valid: {e}");
            }
            return out;
        }
    };
    pbkdf2::derive(
        prf,
        ITERATIONS,
        salt.as_bytes(),
        password.as_bytes(),
        &mut out,
    );
    out
}

/// The hash of `password` with `salt`, in base64 as the user file holds it.
pub fn hash(algorithm: Algorithm, salt: &str, password: &str) -> String {
    STANDARD.encode(derive(algorithm, salt, password))
}

/// A salt as `karapace_mkpasswd` makes one (`secrets.token_urlsafe(16)`):
/// 16 random bytes in URL-safe base64 without padding.
///
/// # Panics
///
/// If the operating system's random source fails: a predictable salt would
/// be a silent weakness, so there is no fallback.
pub fn random_salt() -> String {
    let mut bytes = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut bytes) {
        panic!("the operating system's random source failed: {e}");
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// One user's stored hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    algorithm: Algorithm,
    salt: String,
    hash: Vec<u8>,
}

impl PasswordHash {
    /// A stored hash: `hash` is the decoded bytes of `password_hash`.
    pub fn new(algorithm: Algorithm, salt: String, hash: Vec<u8>) -> Self {
        Self {
            algorithm,
            salt,
            hash,
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// Whether `password` derives this hash. The comparison takes the same
    /// time wherever the bytes differ, so timing tells nothing of the hash;
    /// a stored hash of the wrong length matches nothing (rather than
    /// comparing only its bytes).
    pub fn verify(&self, password: &str) -> bool {
        let derived = derive(self.algorithm, &self.salt, password);
        // `ct_eq` on slices of different lengths is false.
        bool::from(derived.as_slice().ct_eq(self.hash.as_slice()))
    }
}

/// Keeps the hash out of logs: it is as good as the password to a guesser.
impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHash")
            .field("algorithm", &self.algorithm)
            .field("salt", &self.salt)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // Computed with Python's hashlib, as Karapace computes them, e.g.
    // base64.b64encode(hashlib.pbkdf2_hmac('sha512', b'secret', b'salt', 5000))
    const SHA1: &str = "VX3+sELQ3E/XEieZk015m67CUUs=";
    const SHA256: &str = "7ZGPbVNZIB/myxbcOkz8BR/eQmW4Yy1zqkF3W7DSWMM=";
    const SHA512: &str =
        "CUXHCPbYxKenfgrWHqiIuqAd1VCVkR7YWGdyCnmRFCyRFsblNuriBcesDSvgaxCPb397R4ueFcjWzBcCNtGOYw==";
    // hashlib.pbkdf2_hmac('sha256', b'', b'', 5000)
    const SHA256_EMPTY: &str = "FF/QNAO1I/GYWgsVvHIY/WuDNrs+eZZmanSmyX5xVVI=";
    // hashlib.pbkdf2_hmac('sha512', 'pässwörd ✓'.encode(), 'sält'.encode(), 5000)
    const SHA512_UTF8: &str =
        "ShI40Dj1SnJOkHtca5wX0YNkZWmWBnA9msGwbiAk8yRJiEDv6Il6KvQ8KkawEc8R3/mV8Uh0LYrTKm6D6Zr8yA==";
    // hashlib.scrypt(b'secret', salt=b'salt', n=16384, r=8, p=1)
    const SCRYPT: &str =
        "Bf+uvMpBdwr0JdS6m057zf9TIjfcqTHBkqNtlNtzB9TC35XmBlFLQRPMs608GffKZI43OhEqa4KQ86aYGKqbfg==";

    fn stored(algorithm: Algorithm, salt: &str, b64: &str) -> PasswordHash {
        PasswordHash::new(algorithm, salt.into(), STANDARD.decode(b64).unwrap())
    }

    #[test]
    fn pbkdf2_matches_python() {
        assert_eq!(hash(Algorithm::Sha1, "salt", "secret"), SHA1);
        assert_eq!(hash(Algorithm::Sha256, "salt", "secret"), SHA256);
        assert_eq!(hash(Algorithm::Sha512, "salt", "secret"), SHA512);
        assert_eq!(hash(Algorithm::Sha256, "", ""), SHA256_EMPTY);
        assert_eq!(hash(Algorithm::Sha512, "sält", "pässwörd ✓"), SHA512_UTF8);
    }

    #[test]
    fn scrypt_matches_python_and_verifies() {
        assert_eq!(hash(Algorithm::Scrypt, "salt", "secret"), SCRYPT);
        let h = stored(Algorithm::Scrypt, "salt", SCRYPT);
        assert!(!h.verify("Secret"));
    }

    #[test]
    fn verify_accepts_the_password_only() {
        for (algorithm, b64) in [
            (Algorithm::Sha1, SHA1),
            (Algorithm::Sha256, SHA256),
            (Algorithm::Sha512, SHA512),
        ] {
            let h = stored(algorithm, "salt", b64);
            assert!(h.verify("secret"), "{algorithm}");
            assert!(!h.verify("secret "), "{algorithm}");
            assert!(!h.verify(""), "{algorithm}");
            // The same password with another salt is another hash.
            assert!(!stored(algorithm, "salt2", b64).verify("secret"));
        }
        assert!(stored(Algorithm::Sha512, "sält", SHA512_UTF8).verify("pässwörd ✓"));
    }

    #[test]
    fn a_stored_hash_of_the_wrong_length_matches_nothing() {
        let full = STANDARD.decode(SHA512).unwrap();
        // A truncated hash would verify if only its own bytes were compared.
        let truncated = PasswordHash::new(Algorithm::Sha512, "salt".into(), full[..32].to_vec());
        assert!(!truncated.verify("secret"));
        let mut longer = full.clone();
        longer.push(0);
        assert!(!PasswordHash::new(Algorithm::Sha512, "salt".into(), longer).verify("secret"));
        assert!(!PasswordHash::new(Algorithm::Sha512, "salt".into(), Vec::new()).verify("secret"));
        // A sha256 key stored under sha512 is refused too.
        let sha256 = STANDARD.decode(SHA256).unwrap();
        assert!(!PasswordHash::new(Algorithm::Sha512, "salt".into(), sha256).verify("secret"));
    }

    #[test]
    fn algorithm_names() {
        for a in Algorithm::ALL {
            assert_eq!(a.as_str().parse::<Algorithm>().unwrap(), a);
        }
        let e = "md5".parse::<Algorithm>().unwrap_err();
        assert_eq!(
            e,
            "unknown algorithm \"md5\" (expected sha1, sha256, sha512 or scrypt)"
        );
        assert!("SHA512".parse::<Algorithm>().is_err(), "case-sensitive");
    }

    #[test]
    fn random_salts_look_like_token_urlsafe() {
        let a = random_salt();
        let b = random_salt();
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 16);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn debug_leaves_the_hash_out() {
        let h = stored(Algorithm::Sha1, "salt", SHA1);
        let shown = format!("{h:?}");
        assert!(shown.contains("Sha1") && shown.contains("salt"));
        assert!(!shown.contains("hash:"));
    }
}
