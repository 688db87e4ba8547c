//! Per-bay certificate authorities, CSR signing, and sealing of secrets at rest.
//!
//! # Certificate authorities
//!
//! As in OpenStack Magnum, **every bay has its own certificate authority**,
//! named after the bay ([`generate_ca`]). The CA signs client certificates for
//! the bay's users (kubectl, docker) from certificate signing requests
//! ([`sign_csr`]): the subject, subjectAltNames and public key come from the
//! request; everything else (issuer, validity, key usage, `clientAuth`
//! extended key usage, `CA:FALSE`) is decided here. A compromised or deleted
//! bay therefore never affects the trust of another bay.
//!
//! # Secrets at rest
//!
//! A bay CA's private key (and other secrets such as ServiceAccount tokens)
//! is never stored in the clear: it is **sealed** with a [`Sealer`]
//! (AES-256-GCM with a random 96-bit nonce), and the ciphertext is bound to
//! its row (for example the bay uuid) through associated data, so a sealed
//! value copied to another row fails to open. Keys can be rotated: configure
//! a new primary key and keep the old ones in `previous_keys`; existing
//! ciphertexts still open, new ones use the primary key (see
//! [`Sealer::reseal`] to migrate).
//!
//! # Generating a sealing key
//!
//! The key is 32 random bytes, base64-encoded:
//!
//! ```text
//! openssl rand -base64 32
//! ```
//!
//! or programmatically with [`generate_key_base64`]. Configure it through
//! [`SealerConfig`] (`key` or `key_file`). In production the key must be
//! configured; only the embedded development mode may fall back to a key file
//! created on first use ([`Sealer::load_or_create`]).

mod ca;
mod error;
mod seal;

pub use ca::{CaKeyPair, ca_fingerprint, generate_ca, sign_csr};
pub use error::PkiError;
pub use seal::{KEY_LEN, Sealer, SealerConfig, generate_key_base64};
