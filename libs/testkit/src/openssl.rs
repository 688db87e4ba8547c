//! The real `openssl` CLI as a peer: a client's key and CSR, and `openssl verify`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh EC P-256 key and a CSR for `/CN=<common_name>` in `dir`; returns the CSR's path.
pub fn csr(dir: &Path, common_name: &str) -> PathBuf {
    let csr = dir.join(format!("{common_name}.csr"));
    let made = Command::new("openssl")
        .args(["req", "-new", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .arg("-keyout")
        .arg(dir.join(format!("{common_name}.key")))
        .arg("-out")
        .arg(&csr)
        .args(["-subj", &format!("/CN={common_name}")])
        .output()
        .unwrap_or_else(|error| panic!("cannot run openssl: {error}"));
    assert!(made.status.success(), "{made:?}");
    csr
}

/// Whether `openssl verify` accepts `cert_pem` as signed by `ca_pem` (both written to
/// `dir`).
pub fn verifies(dir: &Path, ca_pem: &str, cert_pem: &str) -> bool {
    let ca = dir.join("verify-ca.pem");
    let cert = dir.join("verify-cert.pem");
    for (path, pem) in [(&ca, ca_pem), (&cert, cert_pem)] {
        std::fs::write(path, pem)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
    }
    Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(&ca)
        .arg(&cert)
        .output()
        .unwrap_or_else(|error| panic!("cannot run openssl: {error}"))
        .status
        .success()
}
