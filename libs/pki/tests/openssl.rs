//! Cross-checks against the real `openssl` CLI: CSRs made by openssl are
//! signed by our bay CA and the results are verified by openssl.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use magnum_pki::{CaKeyPair, PkiError, Sealer, generate_ca, sign_csr};

const OPENSSL: &str = "/usr/bin/openssl";
const SUBJECT: &str = "/CN=alice/O=system:masters";
const SAN: &str = "subjectAltName=DNS:alice.example.org,IP:10.0.0.7";

fn have_openssl() -> bool {
    let ok = Path::new(OPENSSL).exists();
    if !ok {
        eprintln!("skipping: {OPENSSL} not found");
    }
    ok
}

/// Runs openssl in `dir`, asserts success, returns stdout.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(OPENSSL)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Env {
    dir: tempfile::TempDir,
    ca: CaKeyPair,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = generate_ca("bay-5f1c0f36", chrono::TimeDelta::days(365)).unwrap();
        std::fs::write(dir.path().join("ca.pem"), &ca.cert_pem).unwrap();
        Self { dir, ca }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> String {
        openssl(self.dir.path(), args)
    }

    /// Generates a key with `genpkey` and a CSR for it; returns the CSR PEM.
    fn csr(&self, name: &str, genpkey: &[&str], subject: &str, extra: &[&str]) -> String {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let mut args = vec!["genpkey"];
        args.extend_from_slice(genpkey);
        args.extend_from_slice(&["-out", &key]);
        self.run(&args);
        let mut args = vec!["req", "-new", "-key", &key, "-subj", subject, "-out", &csr];
        args.extend_from_slice(extra);
        self.run(&args);
        std::fs::read_to_string(self.path(&csr)).unwrap()
    }
}

fn normalize(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn check_signed(env: &Env, name: &str, genpkey: &[&str]) {
    let csr = env.csr(name, genpkey, SUBJECT, &["-addext", SAN]);
    let cert = sign_csr(&env.ca, &csr, 30).unwrap();
    let cert_file = format!("{name}.crt");
    let csr_file = format!("{name}.csr");
    std::fs::write(env.path(&cert_file), &cert).unwrap();

    let verify = env.run(&["verify", "-CAfile", "ca.pem", &cert_file]);
    assert_eq!(verify.trim(), format!("{cert_file}: OK"), "{name}");
    let verify = env.run(&[
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        "ca.pem",
        &cert_file,
    ]);
    assert!(verify.contains("OK"), "{name}: {verify}");

    let subject = env.run(&["x509", "-in", &cert_file, "-noout", "-subject"]);
    assert_eq!(
        normalize(&subject),
        "subject=CN=alice,O=system:masters",
        "{name}"
    );
    let issuer = env.run(&["x509", "-in", &cert_file, "-noout", "-issuer"]);
    assert_eq!(normalize(&issuer), "issuer=CN=bay-5f1c0f36", "{name}");

    let text = env.run(&["x509", "-in", &cert_file, "-noout", "-text"]);
    for needle in [
        "TLS Web Client Authentication",
        "CA:FALSE",
        "Digital Signature, Key Encipherment",
        "DNS:alice.example.org, IP Address:10.0.0.7",
        "X509v3 Authority Key Identifier",
    ] {
        assert!(
            text.contains(needle),
            "{name}: missing {needle:?} in\n{text}"
        );
    }
    assert!(!text.contains("TLS Web Server Authentication"), "{name}");

    let cert_pub = env.run(&["x509", "-in", &cert_file, "-noout", "-pubkey"]);
    let csr_pub = env.run(&["req", "-in", &csr_file, "-noout", "-pubkey"]);
    assert_eq!(cert_pub, csr_pub, "{name}: public key differs");
}

#[test]
fn ca_is_a_valid_ca_for_openssl() {
    if !have_openssl() {
        return;
    }
    let env = Env::new();
    assert!(
        env.run(&["verify", "-CAfile", "ca.pem", "ca.pem"])
            .contains("OK")
    );
    let text = env.run(&["x509", "-in", "ca.pem", "-noout", "-text"]);
    for needle in [
        "CA:TRUE",
        "Certificate Sign, CRL Sign",
        "Digital Signature",
        "X509v3 Subject Key Identifier",
        "prime256v1",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // The key is PKCS#8 and openssl can read it and match it to the cert.
    std::fs::write(env.path("ca.key"), &env.ca.key_pem).unwrap();
    let key_pub = env.run(&["pkey", "-in", "ca.key", "-pubout"]);
    let cert_pub = env.run(&["x509", "-in", "ca.pem", "-noout", "-pubkey"]);
    assert_eq!(key_pub, cert_pub);
}

#[test]
fn signs_rsa_2048_csr() {
    if !have_openssl() {
        return;
    }
    check_signed(
        &Env::new(),
        "rsa2048",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
}

#[test]
fn signs_rsa_4096_csr() {
    if !have_openssl() {
        return;
    }
    check_signed(
        &Env::new(),
        "rsa4096",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
    );
}

#[test]
fn signs_ec_p256_and_p384_csrs() {
    if !have_openssl() {
        return;
    }
    let env = Env::new();
    check_signed(
        &env,
        "p256",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    check_signed(
        &env,
        "p384",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
}

#[test]
fn signs_csr_without_san() {
    if !have_openssl() {
        return;
    }
    let env = Env::new();
    let csr = env.csr(
        "nosan",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/CN=admin",
        &[],
    );
    let cert = sign_csr(&env.ca, &csr, 1).unwrap();
    std::fs::write(env.path("nosan.crt"), cert).unwrap();
    assert!(
        env.run(&["verify", "-CAfile", "ca.pem", "nosan.crt"])
            .contains("OK")
    );
}

fn expect_invalid(result: Result<String, PkiError>, needle: &str) {
    match result {
        Err(e @ PkiError::InvalidCsr(_)) => {
            assert!(e.is_user_error());
            let msg = e.to_string();
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        }
        other => panic!("expected InvalidCsr containing {needle:?}, got {other:?}"),
    }
}

#[test]
fn rejects_invalid_csrs() {
    if !have_openssl() {
        return;
    }
    let env = Env::new();
    expect_invalid(sign_csr(&env.ca, "garbage", 1), "not PEM");
    expect_invalid(
        sign_csr(&env.ca, &env.ca.cert_pem, 1),
        "not a certificate signing request",
    );

    // A CSR whose signature was corrupted.
    env.csr(
        "good",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        SUBJECT,
        &[],
    );
    env.run(&[
        "req", "-in", "good.csr", "-outform", "DER", "-out", "good.der",
    ]);
    let mut der = std::fs::read(env.path("good.der")).unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x5a;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let bad = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        b64.as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    expect_invalid(sign_csr(&env.ca, &bad, 1), "signature does not verify");
}

#[test]
fn rejects_weak_or_unsupported_keys() {
    if !have_openssl() {
        return;
    }
    let env = Env::new();
    let rsa1024 = env.csr(
        "rsa1024",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        SUBJECT,
        &[],
    );
    expect_invalid(sign_csr(&env.ca, &rsa1024, 1), "at least 2048");

    let p521 = env.csr(
        "p521",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
        SUBJECT,
        &[],
    );
    expect_invalid(sign_csr(&env.ca, &p521, 1), "unsupported elliptic curve");

    let pss = env.csr(
        "pss",
        &["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"],
        SUBJECT,
        &[],
    );
    expect_invalid(
        sign_csr(&env.ca, &pss, 1),
        "unsupported public key algorithm",
    );
}

#[test]
fn rejects_repeated_subject_attributes() {
    if !have_openssl() {
        return;
    }
    let env = Env::new();
    let csr = env.csr(
        "groups",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/CN=alice/O=system:masters/O=developers",
        &[],
    );
    expect_invalid(sign_csr(&env.ca, &csr, 1), "repeats attribute");
}

#[test]
fn sealer_accepts_openssl_rand_keys() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = openssl(dir.path(), &["rand", "-base64", "32"]);
    let sealer = Sealer::from_base64(&key).unwrap();
    let sealed = sealer.seal(b"ca private key", b"bay-uuid").unwrap();
    assert_eq!(
        sealer.open(&sealed, b"bay-uuid").unwrap().as_slice(),
        b"ca private key"
    );
    let short = openssl(dir.path(), &["rand", "-base64", "16"]);
    assert!(matches!(
        Sealer::from_base64(&short),
        Err(PkiError::InvalidKey(_))
    ));
}
