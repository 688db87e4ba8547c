//! Authenticated encryption of secrets at rest (AES-256-GCM via `ring`).
//!
//! Sealed format (version 1):
//!
//! ```text
//! +---------+-------------+---------------+------------------------+
//! | version | key id      | nonce         | ciphertext || GCM tag  |
//! | 1 byte  | 4 bytes     | 12 bytes      | n + 16 bytes           |
//! +---------+-------------+---------------+------------------------+
//! ```
//!
//! The key id is the first 4 bytes of a SHA-256 over the key (domain
//! separated), so the right key can be picked after a rotation. The
//! authenticated data is `version || key id || associated`, where
//! `associated` is supplied by the caller (e.g. the bay uuid) and binds the
//! ciphertext to its row.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::PkiError;
use crate::ca::hex;

/// Length of a sealing key in bytes (256 bits).
pub const KEY_LEN: usize = 32;

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;
const KEY_ID_CONTEXT: &[u8] = b"magnum-pki sealer key id v1\0";

/// Generates a new random sealing key, base64-encoded (equivalent to
/// `openssl rand -base64 32`).
pub fn generate_key_base64() -> Result<String, PkiError> {
    let key = random_key()?;
    Ok(BASE64.encode(key.as_slice()))
}

fn random_key() -> Result<Zeroizing<[u8; KEY_LEN]>, PkiError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    SystemRandom::new()
        .fill(key.as_mut_slice())
        .map_err(|_| PkiError::Internal("the system random number generator failed".into()))?;
    Ok(key)
}

struct SealKey {
    id: [u8; KEY_ID_LEN],
    key: LessSafeKey,
}

impl SealKey {
    fn new(bytes: &[u8]) -> Result<Self, PkiError> {
        if bytes.len() != KEY_LEN {
            return Err(PkiError::InvalidKey(format!(
                "the key must be exactly {KEY_LEN} bytes (256 bits), got {}; \
                 generate one with `openssl rand -base64 32`",
                bytes.len()
            )));
        }
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(KEY_ID_CONTEXT);
        ctx.update(bytes);
        let digest = ctx.finish();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest.as_ref()[..KEY_ID_LEN]);
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| PkiError::Internal("AES-256-GCM rejected the key".into()))?;
        Ok(Self {
            id,
            key: LessSafeKey::new(unbound),
        })
    }

    fn from_base64(encoded: &str) -> Result<Self, PkiError> {
        let encoded = encoded.trim();
        if encoded.is_empty() {
            return Err(PkiError::InvalidKey(
                "the key is empty; generate one with `openssl rand -base64 32`".into(),
            ));
        }
        let bytes = Zeroizing::new(BASE64.decode(encoded).map_err(|e| {
            PkiError::InvalidKey(format!(
                "the key is not valid base64 ({e}); generate one with `openssl rand -base64 32`"
            ))
        })?);
        Self::new(&bytes)
    }
}

/// Seals and opens secrets with a primary key, and opens with previous keys
/// after a rotation.
///
/// `Debug` prints only key ids.
pub struct Sealer {
    primary: SealKey,
    previous: Vec<SealKey>,
    rng: SystemRandom,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("key_id", &hex(&self.primary.id))
            .field(
                "previous_key_ids",
                &self.previous.iter().map(|k| hex(&k.id)).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Sealer {
    /// A sealer from raw key bytes (exactly [`KEY_LEN`] bytes).
    pub fn from_key_bytes(key: &[u8]) -> Result<Self, PkiError> {
        Ok(Self::from_primary(SealKey::new(key)?))
    }

    /// A sealer from a base64-encoded key (exactly 32 bytes once decoded;
    /// surrounding whitespace is ignored).
    pub fn from_base64(key: &str) -> Result<Self, PkiError> {
        Ok(Self::from_primary(SealKey::from_base64(key)?))
    }

    /// A sealer from a file holding the base64-encoded key.
    pub fn from_file(path: &Path) -> Result<Self, PkiError> {
        let text = Zeroizing::new(fs::read_to_string(path).map_err(|source| PkiError::Io {
            action: "reading sealing key file",
            path: path.to_path_buf(),
            source,
        })?);
        Self::from_base64(&text).map_err(|e| match e {
            PkiError::InvalidKey(msg) => {
                PkiError::InvalidKey(format!("key file {}: {msg}", path.display()))
            }
            other => other,
        })
    }

    /// For the embedded development mode: loads the key from `path`, or, if
    /// the file does not exist, generates a random key and writes it there
    /// (mode 0600, parent directories created with mode 0700).
    pub fn load_or_create(path: &Path) -> Result<Self, PkiError> {
        match fs::metadata(path) {
            Ok(_) => return Self::from_file(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(PkiError::Io {
                    action: "checking sealing key file",
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt as _;
                builder.mode(0o700);
            }
            builder.create(parent).map_err(|source| PkiError::Io {
                action: "creating directory for sealing key file",
                path: parent.to_path_buf(),
                source,
            })?;
        }

        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = match options.open(path) {
            Ok(f) => f,
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Self::from_file(path);
            }
            Err(source) => {
                return Err(PkiError::Io {
                    action: "creating sealing key file",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let key = random_key()?;
        let encoded = Zeroizing::new(format!("{}\n", BASE64.encode(key.as_slice())));
        file.write_all(encoded.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| PkiError::Io {
                action: "writing sealing key file",
                path: path.to_path_buf(),
                source,
            })?;
        Self::from_key_bytes(key.as_slice())
    }

    /// Adds previous (rotated-out) base64 keys, used only to open. Keys equal
    /// to the primary or to one already added are ignored.
    pub fn with_previous_keys<I, S>(mut self, keys: I) -> Result<Self, PkiError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for (i, key) in keys.into_iter().enumerate() {
            let key = SealKey::from_base64(key.as_ref()).map_err(|e| match e {
                PkiError::InvalidKey(msg) => {
                    PkiError::InvalidKey(format!("previous key #{}: {msg}", i + 1))
                }
                other => other,
            })?;
            if key.id != self.primary.id && self.previous.iter().all(|k| k.id != key.id) {
                self.previous.push(key);
            }
        }
        Ok(self)
    }

    /// Hex id of the primary key (safe to log).
    pub fn key_id(&self) -> String {
        hex(&self.primary.id)
    }

    /// Encrypts `plaintext` with the primary key, binding it to `associated`
    /// (which must be given again to [`Sealer::open`]).
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Result<Vec<u8>, PkiError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| PkiError::Internal("the system random number generator failed".into()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&self.primary.id);
        out.extend_from_slice(&nonce);
        let aad = aad(&self.primary.id, associated);
        let mut body = plaintext.to_vec();
        self.primary
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_slice()),
                &mut body,
            )
            .map_err(|_| PkiError::Internal("AES-256-GCM sealing failed".into()))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts a value produced by [`Sealer::seal`] with the key whose id it
    /// carries (primary or previous). Fails if it was tampered with, sealed
    /// under another key, or bound to different `associated` data.
    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> Result<Zeroizing<Vec<u8>>, PkiError> {
        let (id, nonce, body) = split(sealed)?;
        let mut candidates = std::iter::once(&self.primary)
            .chain(&self.previous)
            .filter(|k| k.id == id)
            .peekable();
        if candidates.peek().is_none() {
            return Err(PkiError::Unseal(format!(
                "it was sealed with an unknown key (id {}); if the key was rotated, \
                 add the old key to `previous_keys`",
                hex(&id)
            )));
        }
        let aad = aad(&id, associated);
        for key in candidates {
            let mut buf = Zeroizing::new(body.to_vec());
            if let Ok(plain) = key.key.open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_slice()),
                buf.as_mut_slice(),
            ) {
                let len = plain.len();
                buf.truncate(len);
                return Ok(buf);
            }
        }
        Err(PkiError::Unseal(
            "authentication failed: the data was altered, or it belongs to another record \
             (associated data mismatch)"
                .into(),
        ))
    }

    /// Whether `sealed` was produced with the current primary key (if not,
    /// [`Sealer::reseal`] it after a rotation).
    pub fn is_sealed_with_primary(&self, sealed: &[u8]) -> bool {
        split(sealed).is_ok_and(|(id, _, _)| id == self.primary.id)
    }

    /// Opens `sealed` (with any known key) and seals it again with the
    /// primary key.
    pub fn reseal(&self, sealed: &[u8], associated: &[u8]) -> Result<Vec<u8>, PkiError> {
        let plain = self.open(sealed, associated)?;
        self.seal(&plain, associated)
    }

    fn from_primary(primary: SealKey) -> Self {
        Self {
            primary,
            previous: Vec::new(),
            rng: SystemRandom::new(),
        }
    }
}

type Parts<'a> = ([u8; KEY_ID_LEN], [u8; NONCE_LEN], &'a [u8]);

fn split(sealed: &[u8]) -> Result<Parts<'_>, PkiError> {
    if sealed.len() < HEADER_LEN + TAG_LEN {
        return Err(PkiError::Unseal(format!(
            "it is too short ({} bytes, at least {} expected)",
            sealed.len(),
            HEADER_LEN + TAG_LEN
        )));
    }
    let (header, body) = sealed.split_at(HEADER_LEN);
    let (version, rest) = header.split_at(1);
    if version != [VERSION] {
        return Err(PkiError::Unseal(format!(
            "unsupported format version {} (expected {VERSION})",
            version.first().copied().unwrap_or_default()
        )));
    }
    let (id, nonce) = rest.split_at(KEY_ID_LEN);
    let id: [u8; KEY_ID_LEN] = id
        .try_into()
        .map_err(|_| PkiError::Internal("key id length".into()))?;
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| PkiError::Internal("nonce length".into()))?;
    Ok((id, nonce, body))
}

fn aad(id: &[u8; KEY_ID_LEN], associated: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + KEY_ID_LEN + associated.len());
    aad.push(VERSION);
    aad.extend_from_slice(id);
    aad.extend_from_slice(associated);
    aad
}

/// Sealer configuration (e.g. the `[sealer]` section of the service config).
///
/// `key` (base64) takes precedence over `key_file`; `previous_keys` are
/// rotated-out base64 keys still accepted for opening. `Debug` redacts keys.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SealerConfig {
    /// The primary key, base64 (`openssl rand -base64 32`).
    pub key: Option<String>,
    /// A file holding the primary key, base64.
    pub key_file: Option<PathBuf>,
    /// Old keys, base64, used only to open existing ciphertexts.
    pub previous_keys: Vec<String>,
}

impl fmt::Debug for SealerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealerConfig")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("key_file", &self.key_file)
            .field(
                "previous_keys",
                &format!("<{} redacted>", self.previous_keys.len()),
            )
            .finish()
    }
}

impl SealerConfig {
    /// Builds the sealer. `key` beats `key_file`; blank values count as
    /// unset. With neither, `dev_fallback` (the embedded development mode)
    /// is loaded or created with [`Sealer::load_or_create`]; without it this
    /// fails with [`PkiError::KeyNotConfigured`].
    pub fn load(&self, dev_fallback: Option<&Path>) -> Result<Sealer, PkiError> {
        let key = self.key.as_deref().filter(|k| !k.trim().is_empty());
        let key_file = self
            .key_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty());
        let sealer = match (key, key_file, dev_fallback) {
            (Some(key), _, _) => Sealer::from_base64(key)?,
            (None, Some(path), _) => Sealer::from_file(path)?,
            (None, None, Some(path)) => Sealer::load_or_create(path)?,
            (None, None, None) => return Err(PkiError::KeyNotConfigured),
        };
        sealer.with_previous_keys(&self.previous_keys)
    }
}

#[cfg(test)]
#[path = "seal_test.rs"]
mod tests;
