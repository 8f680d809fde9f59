//! The sandbox key: 32 random bytes from which the organisations' tokens and the download-signing
//! secret are derived, so that the database holds neither in clear text.
//!
//! A database file `<db>` gets its key in `<db>.key` (mode 0600, created whole at the first start);
//! an in-memory database gets a key that lives as long as the server. A copy of the database alone
//! (a backup, a fixture, a file attached to a bug report) reveals no token and cannot sign a
//! download URL; with the key file beside it, the sandbox derives the same tokens and secret at
//! every start, so they survive restarts and can be printed again.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// What the token of an organisation is derived under (with the org id appended).
const TOKEN_LABEL: &str = "webex-sandbox/token/v1\0";
/// What the download-signing secret is derived under.
const SIGNING_LABEL: &str = "webex-sandbox/download-signing/v1";

/// The key of one database.
pub(crate) struct SandboxKey {
    bytes: [u8; 32],
    /// The key file; `None` for an in-memory database.
    path: Option<PathBuf>,
}

impl std::fmt::Debug for SandboxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The key file of the database `db`: `<db>.key`.
pub(crate) fn key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

impl SandboxKey {
    /// A new random key that is kept nowhere (for an in-memory database).
    pub(crate) fn ephemeral() -> Result<Self> {
        Ok(SandboxKey {
            bytes: random_bytes()?,
            path: None,
        })
    }

    /// The key of the database `db`, read from its key file, or created there (mode 0600, written
    /// whole) when the file is missing and `may_create` (the database holds no token yet).
    ///
    /// # Errors
    /// [`Error::KeyFileMissing`] when the file is missing and may not be created;
    /// [`Error::KeyFileExposed`] when others may read or write it; [`Error::KeyFileMalformed`];
    /// [`Error::File`] for I/O errors.
    pub(crate) fn for_database(db: &Path, may_create: bool) -> Result<Self> {
        let path = key_path(db);
        match Self::read(&path) {
            Err(Error::File { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                if !may_create {
                    return Err(Error::KeyFileMissing {
                        key: path,
                        db: db.to_owned(),
                    });
                }
                let key = SandboxKey {
                    bytes: random_bytes()?,
                    path: Some(path.clone()),
                };
                if key.create_file()? {
                    Ok(key)
                } else {
                    // Another process created it first: use that one.
                    Self::read(&path)
                }
            }
            other => other,
        }
    }

    /// The key file, if any.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn read(path: &Path) -> Result<Self> {
        let file_error = |what, source| Error::File {
            path: path.to_owned(),
            what,
            source,
        };
        let meta = fs::metadata(path).map_err(|e| file_error("reading the key file", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(Error::KeyFileExposed {
                    key: path.to_owned(),
                    mode,
                });
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text = fs::read_to_string(path).map_err(|e| file_error("reading the key file", e))?;
        let malformed = || Error::KeyFileMalformed { key: path.to_owned() };
        let decoded = URL_SAFE_NO_PAD.decode(text.trim_end()).map_err(|_| malformed())?;
        let bytes: [u8; 32] = decoded.try_into().map_err(|_| malformed())?;
        Ok(SandboxKey {
            bytes,
            path: Some(path.to_owned()),
        })
    }

    /// Writes the key file whole: a private temporary file in the same directory, synced, then
    /// linked to its name unless that exists. `false` when another file took the name first.
    fn create_file(&self) -> Result<bool> {
        let Some(path) = self.path.as_deref() else {
            return Ok(true);
        };
        let file_error = |what, source| Error::File {
            path: path.to_owned(),
            what,
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".sandbox-key-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o600));
        }
        let mut tmp = builder
            .tempfile_in(dir)
            .map_err(|e| file_error("creating the key file", e))?;
        writeln!(tmp, "{}", URL_SAFE_NO_PAD.encode(self.bytes)).map_err(|e| file_error("writing the key file", e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| file_error("writing the key file", e))?;
        match tmp.persist_noclobber(path) {
            Ok(_) => {}
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(file_error("creating the key file", e.error)),
        }
        #[cfg(unix)]
        if let Ok(d) = fs::File::open(dir) {
            // Best effort: the name survives a power loss once its directory is synced.
            let _ = d.sync_all();
        }
        Ok(true)
    }

    /// HMAC-SHA256 of `label` under the key.
    fn derive(&self, label: &[u8]) -> [u8; 32] {
        // HMAC pads a short key with zeros to the block size (64 bytes): padding it here gives the
        // same MAC through the constructor that cannot fail.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.bytes);
        let mut mac = <HmacSha256 as KeyInit>::new(&block.into());
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    /// The secret part of an organisation's token: 32 lower-case hex digits.
    pub(crate) fn token_secret(&self, org_id: &str) -> String {
        let derived = self.derive(&[TOKEN_LABEL.as_bytes(), org_id.as_bytes()].concat());
        hex(&derived[..16])
    }

    /// The download-signing secret.
    pub(crate) fn signing_secret(&self) -> [u8; 32] {
        self.derive(SIGNING_LABEL.as_bytes())
    }
}

/// The SHA-256 of a text, in lower-case hex: how the database keeps tokens.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn random_bytes() -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(Error::Random)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivations_are_stable_per_key_and_differ_between_keys() {
        let a = SandboxKey::ephemeral().unwrap();
        let b = SandboxKey::ephemeral().unwrap();
        assert_eq!(a.token_secret("p"), a.token_secret("p"));
        assert_eq!(a.token_secret("p").len(), 32);
        assert!(
            a.token_secret("p")
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a.token_secret("p"), a.token_secret("q"));
        assert_ne!(a.token_secret("p"), b.token_secret("p"));
        assert_ne!(a.signing_secret(), b.signing_secret());
        assert!(!format!("{a:?}").contains(&hex(&a.bytes)));
        // The derivation is HMAC-SHA256 keyed with the 32 bytes.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&a.bytes).unwrap();
        mac.update(SIGNING_LABEL.as_bytes());
        assert_eq!(a.signing_secret().as_slice(), mac.finalize().into_bytes().as_slice());
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_key_file_is_private_written_once_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.sqlite");
        assert_eq!(key_path(&db), dir.path().join("s.sqlite.key"));
        let err = SandboxKey::for_database(&db, false).unwrap_err();
        assert!(matches!(err, Error::KeyFileMissing { .. }), "{err}");
        let first = SandboxKey::for_database(&db, true).unwrap();
        let again = SandboxKey::for_database(&db, false).unwrap();
        assert_eq!(first.bytes, again.bytes);
        assert_eq!(again.path(), Some(key_path(&db).as_path()));
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = key_path(&db);
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            let err = SandboxKey::for_database(&db, true).unwrap_err();
            assert!(matches!(err, Error::KeyFileExposed { mode: 0o644, .. }), "{err}");
            assert!(err.to_string().contains("chmod 600"), "{err}");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        fs::write(key_path(&db), "not a key\n").unwrap();
        let err = SandboxKey::for_database(&db, true).unwrap_err();
        assert!(matches!(err, Error::KeyFileMalformed { .. }), "{err}");
    }
}
