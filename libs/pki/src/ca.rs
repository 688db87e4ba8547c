//! Per-bay certificate authorities and CSR signing.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, TimeDelta, Utc};
use rcgen::string::{BmpString, Ia5String, PrintableString, TeletexString, UniversalString};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    PublicKeyData, SanType, SerialNumber, SubjectPublicKeyInfo,
};
use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_SIG_ED25519, Oid,
};
use x509_parser::pem::{Pem, parse_x509_pem};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::{X509Name, X509Version};

use crate::PkiError;

/// How far `notBefore` is moved into the past, to tolerate clock skew
/// between the conductor and the bay's nodes.
const BACKDATE: TimeDelta = TimeDelta::minutes(5);

/// Smallest and largest RSA modulus accepted in a CSR.
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

/// A bay's certificate authority: its certificate and PKCS#8 private key,
/// both PEM-encoded.
///
/// The private key must be sealed ([`crate::Sealer`]) before it is stored.
/// `Debug` does not print the key.
#[derive(Clone, PartialEq, Eq)]
pub struct CaKeyPair {
    /// The self-signed CA certificate (`-----BEGIN CERTIFICATE-----`).
    pub cert_pem: String,
    /// The CA private key, PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    pub key_pem: String,
}

impl fmt::Debug for CaKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaKeyPair")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// Generates a self-signed CA for a bay (ECDSA P-256, SHA-256).
///
/// The certificate has `CN=<common_name>`, a random 128-bit serial,
/// basicConstraints `CA:TRUE, pathlen:0` (it signs only end-entity
/// certificates), keyUsage `keyCertSign, cRLSign, digitalSignature`, a
/// subjectKeyIdentifier, and is valid from five minutes ago for `validity`.
pub fn generate_ca(common_name: &str, validity: TimeDelta) -> Result<CaKeyPair, PkiError> {
    if common_name.trim().is_empty() {
        return Err(PkiError::InvalidArgument(
            "the CA common name must not be empty".into(),
        ));
    }
    if validity <= TimeDelta::zero() {
        return Err(PkiError::InvalidArgument(format!(
            "the CA validity must be positive, got {validity}"
        )));
    }
    let now = Utc::now();
    let not_after = now.checked_add_signed(validity).ok_or_else(|| {
        PkiError::InvalidArgument(format!("the CA validity {validity} is too long"))
    })?;

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|e| PkiError::Internal(format!("generating the CA key: {e}")))?;

    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(random_serial()?);
    params.not_before = to_offset(now - BACKDATE)?;
    params.not_after = to_offset(not_after)?;

    let cert = params
        .self_signed(&key)
        .map_err(|e| PkiError::Internal(format!("self-signing the CA certificate: {e}")))?;
    Ok(CaKeyPair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Signs a PEM-encoded PKCS#10 certificate signing request with the bay CA
/// and returns the client certificate, PEM-encoded.
///
/// Only the request's subject, subjectAltNames and public key are used; the
/// certificate gets issuer = the CA, a random serial, basicConstraints
/// `CA:FALSE`, keyUsage `digitalSignature, keyEncipherment`,
/// extendedKeyUsage `clientAuth`, an authorityKeyIdentifier, and is valid
/// from five minutes ago for `validity_days` (but never past the CA's own
/// expiry). Other requested extensions (e.g. `CA:TRUE`) are ignored.
///
/// Accepted subject keys: RSA 2048–8192 bits, ECDSA P-256/P-384, Ed25519.
///
/// Errors the caller can cause are [`PkiError::InvalidCsr`] (not PEM, not a
/// CSR, bad signature, unsupported key, ...) and
/// [`PkiError::InvalidArgument`] (`validity_days == 0`); problems with the
/// CA material are [`PkiError::InvalidCa`].
pub fn sign_csr(ca: &CaKeyPair, csr_pem: &str, validity_days: u32) -> Result<String, PkiError> {
    if validity_days == 0 {
        return Err(PkiError::InvalidArgument(
            "the certificate validity must be at least one day".into(),
        ));
    }
    let csr = parse_csr(csr_pem)?;

    let ca_der = pem_block(&ca.cert_pem, "CERTIFICATE")
        .map_err(|e| PkiError::InvalidCa(format!("CA certificate: {e}")))?;
    let (_, ca_cert) = x509_parser::parse_x509_certificate(&ca_der)
        .map_err(|e| PkiError::InvalidCa(format!("CA certificate does not parse: {e}")))?;
    let ca_key = KeyPair::from_pem(&ca.key_pem)
        .map_err(|e| PkiError::InvalidCa(format!("CA private key: {e}")))?;
    if ca_key.subject_public_key_info() != ca_cert.public_key().raw {
        return Err(PkiError::InvalidCa(
            "the CA private key does not belong to the CA certificate".into(),
        ));
    }
    let ca_not_after = DateTime::<Utc>::from_timestamp(ca_cert.validity().not_after.timestamp(), 0)
        .ok_or_else(|| PkiError::InvalidCa("CA expiry is out of range".into()))?;

    let now = Utc::now();
    if ca_not_after <= now {
        return Err(PkiError::InvalidCa(format!(
            "the CA expired at {ca_not_after}"
        )));
    }
    let not_after = now
        .checked_add_signed(TimeDelta::days(i64::from(validity_days)))
        .map_or(ca_not_after, |t| t.min(ca_not_after));

    let issuer = Issuer::from_ca_cert_der(&ca_der.as_slice().into(), ca_key)
        .map_err(|e| PkiError::InvalidCa(format!("CA certificate: {e}")))?;

    let mut params = CertificateParams::default();
    params.distinguished_name = csr.subject;
    params.subject_alt_names = csr.sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial()?);
    params.not_before = to_offset(now - BACKDATE)?;
    params.not_after = to_offset(not_after)?;

    let cert = params
        .signed_by(&csr.public_key, &issuer)
        .map_err(|e| PkiError::Internal(format!("signing the certificate: {e}")))?;
    Ok(cert.pem())
}

/// SHA-256 fingerprint of a PEM certificate's DER encoding, as lowercase hex
/// without separators (64 characters).
pub fn ca_fingerprint(cert_pem: &str) -> Result<String, PkiError> {
    let der = pem_block(cert_pem, "CERTIFICATE").map_err(PkiError::InvalidCa)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    Ok(hex(digest.as_ref()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// What we take from a verified CSR.
struct ParsedCsr {
    subject: DistinguishedName,
    sans: Vec<SanType>,
    public_key: SubjectPublicKeyInfo,
}

fn invalid(msg: impl Into<String>) -> PkiError {
    PkiError::InvalidCsr(msg.into())
}

/// Decodes the first PEM block and checks its label.
fn pem_block(input: &str, expected: &str) -> Result<Vec<u8>, String> {
    let pem = read_pem(input)?;
    if pem.label != expected {
        return Err(format!(
            "expected a PEM '{expected}' block, got '{}'",
            pem.label
        ));
    }
    Ok(pem.contents)
}

fn read_pem(input: &str) -> Result<Pem, String> {
    if input.trim().is_empty() {
        return Err("the input is empty".into());
    }
    match parse_x509_pem(input.as_bytes()) {
        Ok((_, pem)) => Ok(pem),
        Err(x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e)) => Err(match e {
            x509_parser::error::PEMError::MissingHeader => {
                "not PEM: no '-----BEGIN ...-----' line found".to_string()
            }
            other => format!("malformed PEM: {other}"),
        }),
        Err(x509_parser::nom::Err::Incomplete(_)) => Err("truncated PEM".into()),
    }
}

fn parse_csr(csr_pem: &str) -> Result<ParsedCsr, PkiError> {
    let pem = read_pem(csr_pem).map_err(invalid)?;
    match pem.label.as_str() {
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {}
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
            return Err(invalid(
                "got a certificate, not a certificate signing request \
                 (expected '-----BEGIN CERTIFICATE REQUEST-----'; create one with `openssl req -new`)",
            ));
        }
        label if label.contains("PRIVATE KEY") => {
            return Err(invalid(format!(
                "got a private key ('{label}'), not a certificate signing request; \
                 never send private keys — send a CSR made with `openssl req -new`"
            )));
        }
        label => {
            return Err(invalid(format!(
                "unexpected PEM block '{label}', expected 'CERTIFICATE REQUEST'"
            )));
        }
    }

    let (rest, csr) = X509CertificationRequest::from_der(&pem.contents)
        .map_err(|e| invalid(format!("malformed PKCS#10 request: {e}")))?;
    if !rest.is_empty() {
        return Err(invalid("trailing data after the PKCS#10 request"));
    }
    let info = &csr.certification_request_info;
    if info.version != X509Version(0) {
        return Err(invalid(format!(
            "unsupported PKCS#10 version {} (only version 1 exists)",
            info.version.0 + 1
        )));
    }

    check_subject_key(&info.subject_pki)?;
    csr.verify_signature().map_err(|e| match e {
        X509Error::SignatureUnsupportedAlgorithm => invalid(format!(
            "unsupported signature algorithm {} for this key; sign the CSR with SHA-256/384/512",
            oid_name(&csr.signature_algorithm.algorithm)
        )),
        _ => invalid(
            "the signature does not verify: the request was altered or not signed by the key it contains",
        ),
    })?;

    let public_key = SubjectPublicKeyInfo::from_der(info.subject_pki.raw).map_err(|e| {
        invalid(format!(
            "unsupported public key ({}): {e}",
            oid_name(&info.subject_pki.algorithm.algorithm)
        ))
    })?;
    let subject = convert_subject(&info.subject)?;

    let mut sans = Vec::new();
    if let Some(exts) = csr.requested_extensions() {
        for ext in exts {
            match ext {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        sans.push(convert_san(name)?);
                    }
                }
                ParsedExtension::ParseError { error } => {
                    return Err(invalid(format!(
                        "a requested extension does not parse: {error}"
                    )));
                }
                // Key usages, basic constraints etc. are decided by the CA.
                _ => {}
            }
        }
    }
    if subject.iter().next().is_none() && sans.is_empty() {
        return Err(invalid(
            "the subject is empty and there are no subjectAltNames",
        ));
    }
    Ok(ParsedCsr {
        subject,
        sans,
        public_key,
    })
}

fn check_subject_key(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Result<(), PkiError> {
    let alg = &spki.algorithm.algorithm;
    if *alg == OID_PKCS1_RSAENCRYPTION {
        let bits = match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => rsa.key_size(),
            _ => return Err(invalid("the RSA public key is malformed")),
        };
        if bits < RSA_MIN_BITS {
            return Err(invalid(format!(
                "the RSA key has {bits} bits; at least {RSA_MIN_BITS} are required"
            )));
        }
        if bits > RSA_MAX_BITS {
            return Err(invalid(format!(
                "the RSA key has {bits} bits; at most {RSA_MAX_BITS} are supported"
            )));
        }
        Ok(())
    } else if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        match curve {
            Some(c) if c == OID_EC_P256 || c == OID_NIST_EC_P384 => Ok(()),
            Some(c) => Err(invalid(format!(
                "unsupported elliptic curve {}; use P-256 (prime256v1) or P-384 (secp384r1)",
                oid_name(&c)
            ))),
            None => Err(invalid(
                "the EC public key does not name its curve; use P-256 or P-384",
            )),
        }
    } else if *alg == OID_SIG_ED25519 {
        Ok(())
    } else {
        Err(invalid(format!(
            "unsupported public key algorithm {}; use RSA (2048-8192 bits), ECDSA P-256/P-384 or Ed25519",
            oid_name(alg)
        )))
    }
}

fn oid_name(oid: &Oid<'_>) -> String {
    match x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry()) {
        Ok(sn) => format!("{sn} ({oid})"),
        Err(_) => oid.to_id_string(),
    }
}

fn convert_subject(name: &X509Name<'_>) -> Result<DistinguishedName, PkiError> {
    let mut dn = DistinguishedName::new();
    let mut seen = HashSet::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err(invalid(
                "the subject has a multi-valued RDN (e.g. 'CN=a+O=b'), which is not supported",
            ));
        };
        let oid = attr.attr_type();
        let components: Vec<u64> = oid
            .iter()
            .ok_or_else(|| invalid(format!("subject attribute type {oid} is out of range")))?
            .collect();
        let ty = DnType::from_oid(&components);
        if !seen.insert(ty.clone()) {
            return Err(invalid(format!(
                "the subject repeats attribute {}; only one value per attribute type is supported",
                oid_name(oid)
            )));
        }
        let value = attr.attr_value();
        let data = value.data;
        let bad = || {
            invalid(format!(
                "subject attribute {} has an invalid string value",
                oid_name(oid)
            ))
        };
        let text = || std::str::from_utf8(data).map_err(|_| bad());
        let dn_value = match value.header.tag() {
            Tag::Utf8String => DnValue::Utf8String(text()?.to_owned()),
            Tag::PrintableString => {
                DnValue::PrintableString(PrintableString::try_from(text()?).map_err(|_| bad())?)
            }
            Tag::Ia5String => DnValue::Ia5String(Ia5String::try_from(text()?).map_err(|_| bad())?),
            Tag::T61String => {
                DnValue::TeletexString(TeletexString::try_from(text()?).map_err(|_| bad())?)
            }
            Tag::BmpString => {
                DnValue::BmpString(BmpString::from_utf16be(data.to_vec()).map_err(|_| bad())?)
            }
            Tag::UniversalString => DnValue::UniversalString(
                UniversalString::from_utf32be(data.to_vec()).map_err(|_| bad())?,
            ),
            other => {
                return Err(invalid(format!(
                    "subject attribute {} has unsupported string type {other}",
                    oid_name(oid)
                )));
            }
        };
        dn.push(ty, dn_value);
    }
    Ok(dn)
}

fn convert_san(name: &GeneralName<'_>) -> Result<SanType, PkiError> {
    let ia5 = |kind: &str, s: &str| {
        Ia5String::try_from(s)
            .map_err(|_| invalid(format!("subjectAltName {kind} '{s}' is not ASCII")))
    };
    Ok(match name {
        GeneralName::DNSName(s) => SanType::DnsName(ia5("DNS", s)?),
        GeneralName::RFC822Name(s) => SanType::Rfc822Name(ia5("email", s)?),
        GeneralName::URI(s) => SanType::URI(ia5("URI", s)?),
        GeneralName::IPAddress(bytes) => {
            if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                SanType::IpAddress(IpAddr::V4(Ipv4Addr::from(v4)))
            } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                SanType::IpAddress(IpAddr::V6(Ipv6Addr::from(v6)))
            } else {
                return Err(invalid(format!(
                    "subjectAltName IP address has {} bytes (expected 4 or 16)",
                    bytes.len()
                )));
            }
        }
        other => {
            return Err(invalid(format!(
                "unsupported subjectAltName {other}; only DNS, IP, email and URI names are accepted"
            )));
        }
    })
}

fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PkiError::Internal("the system random number generator failed".into()))?;
    // Positive, and exactly 16 bytes long once DER-encoded.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn to_offset(t: DateTime<Utc>) -> Result<OffsetDateTime, PkiError> {
    OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map_err(|e| PkiError::InvalidArgument(format!("time {t} is out of range: {e}")))
}

#[cfg(test)]
#[path = "ca_test.rs"]
mod tests;
