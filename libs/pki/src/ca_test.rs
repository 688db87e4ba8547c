#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use base64::Engine as _;
use rcgen::{PKCS_ECDSA_P384_SHA384, PKCS_ED25519, SignatureAlgorithm};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

fn der_of(pem: &str) -> Vec<u8> {
    parse_x509_pem(pem.as_bytes()).unwrap().1.contents
}

fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn csr_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "system:masters");
    params.distinguished_name = dn;
    params.subject_alt_names = vec![
        SanType::DnsName("alice.example.org".try_into().unwrap()),
        SanType::IpAddress("10.0.0.7".parse().unwrap()),
    ];
    params
}

fn make_csr(alg: &'static SignatureAlgorithm, params: &CertificateParams) -> (String, KeyPair) {
    let key = KeyPair::generate_for(alg).unwrap();
    let csr = params.serialize_request(&key).unwrap();
    (csr.pem().unwrap(), key)
}

fn ca() -> CaKeyPair {
    generate_ca("bay-1234", TimeDelta::days(365)).unwrap()
}

fn with_cert<R>(pem: &str, f: impl FnOnce(&X509Certificate<'_>) -> R) -> R {
    let der = der_of(pem);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    f(&cert)
}

fn assert_invalid_csr(result: Result<String, PkiError>, needle: &str) {
    match result {
        Err(PkiError::InvalidCsr(msg)) => {
            assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}")
        }
        other => panic!("expected InvalidCsr containing {needle:?}, got {other:?}"),
    }
}

#[test]
fn generate_ca_is_a_self_signed_ca() {
    let ca = ca();
    assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(ca.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    with_cert(&ca.cert_pem, |cert| {
        assert_eq!(cert.subject().to_string(), "CN=bay-1234");
        assert_eq!(cert.issuer().to_string(), "CN=bay-1234");
        cert.verify_signature(None).unwrap();
        let bc = cert.basic_constraints().unwrap().unwrap().value;
        assert!(bc.ca);
        assert_eq!(bc.path_len_constraint, Some(0));
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.key_cert_sign() && ku.crl_sign() && ku.digital_signature());
        assert!(!ku.key_encipherment());
        assert!(cert.tbs_certificate.raw_serial().len() >= 16);
        let now = Utc::now().timestamp();
        let nb = cert.validity().not_before.timestamp();
        let na = cert.validity().not_after.timestamp();
        assert!(nb < now - 60, "notBefore should be in the past");
        assert!((na - now - 365 * 86_400).abs() < 120);
        assert_eq!(
            cert.public_key().algorithm.algorithm,
            OID_KEY_TYPE_EC_PUBLIC_KEY
        );
    });
    let key = KeyPair::from_pem(&ca.key_pem).unwrap();
    with_cert(&ca.cert_pem, |cert| {
        assert_eq!(key.subject_public_key_info(), cert.public_key().raw);
    });
}

#[test]
fn generate_ca_uses_fresh_keys_and_serials() {
    let (a, b) = (ca(), ca());
    assert_ne!(a.key_pem, b.key_pem);
    let sa = with_cert(&a.cert_pem, |c| c.tbs_certificate.raw_serial().to_vec());
    let sb = with_cert(&b.cert_pem, |c| c.tbs_certificate.raw_serial().to_vec());
    assert_ne!(sa, sb);
}

#[test]
fn generate_ca_rejects_bad_arguments() {
    assert!(matches!(
        generate_ca("  ", TimeDelta::days(1)),
        Err(PkiError::InvalidArgument(_))
    ));
    assert!(matches!(
        generate_ca("bay", TimeDelta::zero()),
        Err(PkiError::InvalidArgument(_))
    ));
    assert!(matches!(
        generate_ca("bay", TimeDelta::MAX),
        Err(PkiError::InvalidArgument(_))
    ));
}

#[test]
fn ca_debug_redacts_the_key() {
    let ca = ca();
    let dbg = format!("{ca:?}");
    assert!(dbg.contains("<redacted>"));
    assert!(!dbg.contains("PRIVATE KEY"));
}

fn check_client_cert(ca: &CaKeyPair, csr_pem: &str, cert_pem: &str) {
    let csr_der = der_of(csr_pem);
    let (_, csr) = X509CertificationRequest::from_der(&csr_der).unwrap();
    let ca_der = der_of(&ca.cert_pem);
    let (_, ca_cert) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    with_cert(cert_pem, |cert| {
        cert.verify_signature(Some(ca_cert.public_key())).unwrap();
        assert_eq!(cert.issuer(), ca_cert.subject());
        assert_eq!(
            cert.subject().to_string(),
            "CN=alice, O=system:masters",
            "subject is kept"
        );
        assert_eq!(
            cert.public_key().raw,
            csr.certification_request_info.subject_pki.raw,
            "public key is kept byte for byte"
        );
        let san = cert.subject_alternative_name().unwrap().unwrap().value;
        assert_eq!(
            san.general_names,
            vec![
                GeneralName::DNSName("alice.example.org"),
                GeneralName::IPAddress(&[10, 0, 0, 7]),
            ]
        );
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth && !eku.any);
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && ku.key_encipherment() && !ku.key_cert_sign());
        let bc = cert.basic_constraints().unwrap().unwrap().value;
        assert!(!bc.ca);
        let aki = cert
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.clone(),
                _ => None,
            })
            .unwrap();
        let ski = ca_cert
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(ski) => Some(ski.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(aki.0, ski.0, "AKI matches the CA's SKI");
        let now = Utc::now().timestamp();
        assert!(cert.validity().not_before.timestamp() < now - 60);
        assert!((cert.validity().not_after.timestamp() - now - 30 * 86_400).abs() < 120);
        assert!(cert.tbs_certificate.raw_serial().len() >= 16);
    });
}

#[test]
fn sign_csr_p256_p384_ed25519() {
    let ca = ca();
    for alg in [
        &PKCS_ECDSA_P256_SHA256,
        &PKCS_ECDSA_P384_SHA384,
        &PKCS_ED25519,
    ] {
        let (csr, _) = make_csr(alg, &csr_params("alice"));
        let cert = sign_csr(&ca, &csr, 30).unwrap();
        check_client_cert(&ca, &csr, &cert);
    }
}

#[test]
fn sign_csr_ignores_requested_ca_and_usages() {
    let ca = ca();
    let mut params = csr_params("alice");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let (csr, _) = make_csr(&PKCS_ECDSA_P256_SHA256, &params);
    let cert = sign_csr(&ca, &csr, 30).unwrap();
    check_client_cert(&ca, &csr, &cert);
}

#[test]
fn sign_csr_never_outlives_the_ca() {
    let ca = generate_ca("short", TimeDelta::days(2)).unwrap();
    let (csr, _) = make_csr(&PKCS_ECDSA_P256_SHA256, &csr_params("alice"));
    let cert = sign_csr(&ca, &csr, 365).unwrap();
    let ca_na = with_cert(&ca.cert_pem, |c| c.validity().not_after.timestamp());
    let na = with_cert(&cert, |c| c.validity().not_after.timestamp());
    assert_eq!(na, ca_na);
}

#[test]
fn sign_csr_accepts_leading_text() {
    let ca = ca();
    let (csr, _) = make_csr(&PKCS_ECDSA_P256_SHA256, &csr_params("alice"));
    let with_text = format!("Certificate Request:\n    Data: ...\n{csr}");
    sign_csr(&ca, &with_text, 1).unwrap();
}

#[test]
fn sign_csr_rejects_zero_validity() {
    let (csr, _) = make_csr(&PKCS_ECDSA_P256_SHA256, &csr_params("alice"));
    assert!(matches!(
        sign_csr(&ca(), &csr, 0),
        Err(PkiError::InvalidArgument(_))
    ));
}

#[test]
fn sign_csr_rejects_garbage() {
    let ca = ca();
    assert_invalid_csr(sign_csr(&ca, "", 1), "empty");
    assert_invalid_csr(sign_csr(&ca, "hello world", 1), "not PEM");
    assert_invalid_csr(
        sign_csr(
            &ca,
            "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n",
            1,
        ),
        "PEM",
    );
    assert_invalid_csr(
        sign_csr(&ca, &to_pem("CERTIFICATE REQUEST", b"not der at all"), 1),
        "malformed PKCS#10",
    );
}

#[test]
fn sign_csr_rejects_a_certificate() {
    let ca = ca();
    assert_invalid_csr(sign_csr(&ca, &ca.cert_pem, 1), "got a certificate");
    // A certificate relabelled as a CSR does not parse as PKCS#10.
    let relabelled = to_pem("CERTIFICATE REQUEST", &der_of(&ca.cert_pem));
    assert_invalid_csr(sign_csr(&ca, &relabelled, 1), "malformed PKCS#10");
}

#[test]
fn sign_csr_rejects_a_private_key() {
    let ca = ca();
    assert_invalid_csr(sign_csr(&ca, &ca.key_pem, 1), "never send private keys");
}

#[test]
fn sign_csr_rejects_a_corrupted_signature() {
    let ca = ca();
    let (csr, _) = make_csr(&PKCS_ECDSA_P256_SHA256, &csr_params("alice"));
    let mut der = der_of(&csr);
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let bad = to_pem("CERTIFICATE REQUEST", &der);
    assert_invalid_csr(sign_csr(&ca, &bad, 1), "signature does not verify");
}

#[test]
fn sign_csr_rejects_a_modified_subject() {
    let ca = ca();
    let (csr, _) = make_csr(&PKCS_ECDSA_P256_SHA256, &csr_params("alice"));
    let der = der_of(&csr);
    // Change "alice" to "alicf" inside the signed request info.
    let pos = der.windows(5).position(|w| w == b"alice").unwrap();
    let mut der = der;
    der[pos + 4] = b'f';
    let bad = to_pem("CERTIFICATE REQUEST", &der);
    assert_invalid_csr(sign_csr(&ca, &bad, 1), "signature does not verify");
}

#[test]
fn sign_csr_rejects_repeated_subject_attributes() {
    // rcgen cannot build a CSR with a repeated attribute type, so the
    // subject conversion is tested directly (openssl covers the full path).
    let mut dn_der = Vec::new();
    // SEQUENCE { SET { SEQ { OID O, UTF8 "a" } }, SET { SEQ { OID O, UTF8 "b" } } }
    let rdn = |v: u8| {
        vec![
            0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x01, v,
        ]
    };
    let mut body = rdn(b'a');
    body.extend(rdn(b'b'));
    dn_der.push(0x30);
    dn_der.push(u8::try_from(body.len()).unwrap());
    dn_der.extend(body);
    let (_, name) = X509Name::from_der(&dn_der).unwrap();
    match convert_subject(&name) {
        Err(PkiError::InvalidCsr(msg)) => assert!(msg.contains("repeats attribute"), "{msg}"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn convert_subject_rejects_multi_valued_rdns() {
    // SEQUENCE { SET { SEQ { CN "a" }, SEQ { O "b" } } }
    let attr = |t: u8, v: u8| vec![0x30, 0x08, 0x06, 0x03, 0x55, 0x04, t, 0x0c, 0x01, v];
    let mut set = attr(0x03, b'a');
    set.extend(attr(0x0a, b'b'));
    let mut rdn = vec![0x31, u8::try_from(set.len()).unwrap()];
    rdn.extend(set);
    let mut dn_der = vec![0x30, u8::try_from(rdn.len()).unwrap()];
    dn_der.extend(rdn);
    let (_, name) = X509Name::from_der(&dn_der).unwrap();
    match convert_subject(&name) {
        Err(PkiError::InvalidCsr(msg)) => assert!(msg.contains("multi-valued"), "{msg}"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn sign_csr_rejects_empty_subject_without_sans() {
    let ca = ca();
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    let (csr, _) = make_csr(&PKCS_ECDSA_P256_SHA256, &params);
    assert_invalid_csr(sign_csr(&ca, &csr, 1), "subject is empty");
}

#[test]
fn sign_csr_reports_bad_ca_material() {
    let ca = ca();
    let other = generate_ca("other", TimeDelta::days(1)).unwrap();
    let (csr, _) = make_csr(&PKCS_ECDSA_P256_SHA256, &csr_params("alice"));
    let mixed = CaKeyPair {
        cert_pem: ca.cert_pem.clone(),
        key_pem: other.key_pem,
    };
    let err = sign_csr(&mixed, &csr, 1).unwrap_err();
    assert!(matches!(err, PkiError::InvalidCa(_)), "{err:?}");
    assert!(!err.is_user_error());
    let broken = CaKeyPair {
        cert_pem: "nope".into(),
        key_pem: ca.key_pem,
    };
    assert!(matches!(
        sign_csr(&broken, &csr, 1),
        Err(PkiError::InvalidCa(_))
    ));
}

#[test]
fn fingerprint_is_sha256_of_der() {
    let ca = ca();
    let fp = ca_fingerprint(&ca.cert_pem).unwrap();
    assert_eq!(fp.len(), 64);
    assert!(
        fp.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    let expected = ring::digest::digest(&ring::digest::SHA256, &der_of(&ca.cert_pem));
    assert_eq!(fp, hex(expected.as_ref()));
    assert_eq!(fp, ca_fingerprint(&ca.cert_pem).unwrap());
    assert_ne!(fp, ca_fingerprint(&self::ca().cert_pem).unwrap());
    assert!(ca_fingerprint("garbage").is_err());
    assert!(ca_fingerprint(&ca.key_pem).is_err());
}

#[test]
fn hex_encodes_lowercase() {
    assert_eq!(hex(&[0x00, 0xab, 0x0f]), "00ab0f");
    assert_eq!(hex(&[]), "");
}
