#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn key() -> String {
    generate_key_base64().unwrap()
}

fn unseal_msg(r: Result<Zeroizing<Vec<u8>>, PkiError>) -> String {
    match r {
        Err(PkiError::Unseal(msg)) => msg,
        other => panic!("expected Unseal, got {other:?}"),
    }
}

#[test]
fn generated_keys_are_32_random_bytes() {
    let a = key();
    let b = key();
    assert_ne!(a, b);
    assert_eq!(BASE64.decode(&a).unwrap().len(), KEY_LEN);
    assert_eq!(a.len(), 44);
}

#[test]
fn roundtrip_and_format() {
    let sealer = Sealer::from_base64(&key()).unwrap();
    let sealed = sealer.seal(b"secret key", b"bay-1").unwrap();
    assert_eq!(sealed.len(), HEADER_LEN + 10 + TAG_LEN);
    assert_eq!(sealed[0], VERSION);
    assert_eq!(hex(&sealed[1..5]), sealer.key_id());
    assert!(!sealed.windows(10).any(|w| w == b"secret key"));
    assert_eq!(
        sealer.open(&sealed, b"bay-1").unwrap().as_slice(),
        b"secret key"
    );
    // Random nonces: sealing twice differs.
    assert_ne!(sealed, sealer.seal(b"secret key", b"bay-1").unwrap());
    // Empty plaintext works too.
    let empty = sealer.seal(b"", b"").unwrap();
    assert!(sealer.open(&empty, b"").unwrap().is_empty());
}

#[test]
fn wrong_key_fails() {
    let a = Sealer::from_base64(&key()).unwrap();
    let b = Sealer::from_base64(&key()).unwrap();
    let sealed = a.seal(b"x", b"row").unwrap();
    let msg = unseal_msg(b.open(&sealed, b"row"));
    assert!(msg.contains("unknown key"), "{msg}");
    assert!(msg.contains(&a.key_id()), "{msg}");
}

#[test]
fn tampering_fails() {
    let sealer = Sealer::from_base64(&key()).unwrap();
    let sealed = sealer.seal(b"secret", b"row").unwrap();
    for i in [HEADER_LEN - 1, HEADER_LEN, sealed.len() - 1] {
        let mut bad = sealed.clone();
        bad[i] ^= 0x80;
        let msg = unseal_msg(sealer.open(&bad, b"row"));
        assert!(msg.contains("authentication failed"), "{msg}");
    }
    // Changing the key id byte makes it "unknown".
    let mut bad = sealed.clone();
    bad[1] ^= 0x01;
    assert!(unseal_msg(sealer.open(&bad, b"row")).contains("unknown key"));
    // Version byte.
    let mut bad = sealed.clone();
    bad[0] = 9;
    assert!(unseal_msg(sealer.open(&bad, b"row")).contains("version 9"));
    // Truncation.
    assert!(unseal_msg(sealer.open(&sealed[..20], b"row")).contains("too short"));
    assert!(unseal_msg(sealer.open(&[], b"row")).contains("too short"));
    let msg = unseal_msg(sealer.open(&sealed[..sealed.len() - 1], b"row"));
    assert!(msg.contains("authentication failed"), "{msg}");
}

#[test]
fn wrong_associated_data_fails() {
    let sealer = Sealer::from_base64(&key()).unwrap();
    let sealed = sealer.seal(b"secret", b"bay-1").unwrap();
    let msg = unseal_msg(sealer.open(&sealed, b"bay-2"));
    assert!(msg.contains("associated data"), "{msg}");
    assert!(sealer.open(&sealed, b"").is_err());
}

#[test]
fn rotation() {
    let old_key = key();
    let new_key = key();
    let old = Sealer::from_base64(&old_key).unwrap();
    let old_sealed = old.seal(b"old secret", b"row").unwrap();

    let rotated = Sealer::from_base64(&new_key)
        .unwrap()
        .with_previous_keys([&old_key])
        .unwrap();
    assert_eq!(
        rotated.open(&old_sealed, b"row").unwrap().as_slice(),
        b"old secret"
    );
    assert!(!rotated.is_sealed_with_primary(&old_sealed));

    let new_sealed = rotated.seal(b"new secret", b"row").unwrap();
    assert!(rotated.is_sealed_with_primary(&new_sealed));
    assert_eq!(hex(&new_sealed[1..5]), rotated.key_id());
    assert_ne!(rotated.key_id(), old.key_id());
    // The old sealer cannot read data sealed after the rotation.
    assert!(old.open(&new_sealed, b"row").is_err());

    let resealed = rotated.reseal(&old_sealed, b"row").unwrap();
    assert!(rotated.is_sealed_with_primary(&resealed));
    let only_new = Sealer::from_base64(&new_key).unwrap();
    assert_eq!(
        only_new.open(&resealed, b"row").unwrap().as_slice(),
        b"old secret"
    );
    assert!(only_new.open(&old_sealed, b"row").is_err());
}

#[test]
fn previous_keys_are_deduplicated_and_validated() {
    let primary = key();
    let old = key();
    let sealer = Sealer::from_base64(&primary)
        .unwrap()
        .with_previous_keys([primary.as_str(), old.as_str(), old.as_str()])
        .unwrap();
    assert_eq!(sealer.previous.len(), 1);
    let err = Sealer::from_base64(&primary)
        .unwrap()
        .with_previous_keys([old.as_str(), "short"])
        .unwrap_err();
    assert!(err.to_string().contains("previous key #2"), "{err}");
}

#[test]
fn from_base64_validates_length_and_encoding() {
    let err = Sealer::from_base64(&BASE64.encode([0u8; 16])).unwrap_err();
    assert!(matches!(err, PkiError::InvalidKey(_)));
    assert!(err.to_string().contains("exactly 32 bytes"), "{err}");
    assert!(err.to_string().contains("got 16"), "{err}");
    let err = Sealer::from_base64("not base64!!").unwrap_err();
    assert!(err.to_string().contains("base64"), "{err}");
    let err = Sealer::from_base64("   ").unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    // Surrounding whitespace is fine.
    let k = key();
    let a = Sealer::from_base64(&format!("  {k}\n")).unwrap();
    let b = Sealer::from_base64(&k).unwrap();
    assert_eq!(a.key_id(), b.key_id());
    assert!(Sealer::from_key_bytes(&[7u8; 32]).is_ok());
    assert!(Sealer::from_key_bytes(&[7u8; 31]).is_err());
}

#[test]
fn key_id_is_stable_and_debug_redacts() {
    let a = Sealer::from_key_bytes(&[1u8; 32]).unwrap();
    let b = Sealer::from_key_bytes(&[1u8; 32]).unwrap();
    assert_eq!(a.key_id(), b.key_id());
    assert_eq!(a.key_id().len(), 8);
    let dbg = format!("{a:?}");
    assert!(dbg.contains(&a.key_id()));
    assert!(!dbg.contains("LessSafeKey"));
}

#[test]
fn from_file_trims_and_reports_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    let k = key();
    fs::write(&path, format!("\n{k}\n\n")).unwrap();
    let sealer = Sealer::from_file(&path).unwrap();
    assert_eq!(sealer.key_id(), Sealer::from_base64(&k).unwrap().key_id());

    fs::write(&path, "tooshort").unwrap();
    let err = Sealer::from_file(&path).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );

    let missing = dir.path().join("missing");
    let err = Sealer::from_file(&missing).unwrap_err();
    assert!(matches!(err, PkiError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn load_or_create_creates_0600_and_reuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/sealer.key");
    let first = Sealer::load_or_create(&path).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(BASE64.decode(text.trim()).unwrap().len(), KEY_LEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let sealed = first.seal(b"dev secret", b"row").unwrap();
    let second = Sealer::load_or_create(&path).unwrap();
    assert_eq!(first.key_id(), second.key_id());
    assert_eq!(
        second.open(&sealed, b"row").unwrap().as_slice(),
        b"dev secret"
    );
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        text,
        "file not rewritten"
    );
}

#[test]
fn config_deserializes_with_defaults_and_denies_unknown_fields() {
    let cfg: SealerConfig =
        serde_json::from_str(r#"{"key_file": "/etc/magnum/sealer.key"}"#).unwrap();
    assert_eq!(
        cfg.key_file.as_deref(),
        Some(Path::new("/etc/magnum/sealer.key"))
    );
    assert!(cfg.key.is_none());
    assert!(cfg.previous_keys.is_empty());
    let cfg: SealerConfig =
        serde_json::from_str(r#"{"key": "k", "previous_keys": ["a", "b"]}"#).unwrap();
    assert_eq!(cfg.previous_keys, vec!["a", "b"]);
    assert_eq!(
        serde_json::from_str::<SealerConfig>("{}").unwrap(),
        SealerConfig::default()
    );
    let err = serde_json::from_str::<SealerConfig>(r#"{"kee": "x"}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
}

#[test]
fn config_debug_redacts_keys() {
    let cfg = SealerConfig {
        key: Some("c2VjcmV0".into()),
        key_file: None,
        previous_keys: vec!["b2xk".into()],
    };
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("c2VjcmV0") && !dbg.contains("b2xk"), "{dbg}");
}

#[test]
fn config_key_beats_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key");
    let file_key = key();
    fs::write(&file, &file_key).unwrap();
    let inline = key();
    let cfg = SealerConfig {
        key: Some(inline.clone()),
        key_file: Some(file.clone()),
        previous_keys: vec![],
    };
    let sealer = cfg.load(None).unwrap();
    assert_eq!(
        sealer.key_id(),
        Sealer::from_base64(&inline).unwrap().key_id()
    );

    let cfg = SealerConfig {
        key: Some("  ".into()),
        key_file: Some(file),
        previous_keys: vec![],
    };
    let sealer = cfg.load(None).unwrap();
    assert_eq!(
        sealer.key_id(),
        Sealer::from_base64(&file_key).unwrap().key_id()
    );
}

#[test]
fn config_without_key_needs_dev_fallback() {
    let err = SealerConfig::default().load(None).unwrap_err();
    assert!(matches!(err, PkiError::KeyNotConfigured));
    assert!(err.to_string().contains("openssl rand -base64 32"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev/sealer.key");
    let sealer = SealerConfig::default().load(Some(&dev)).unwrap();
    assert!(dev.exists());
    let again = SealerConfig::default().load(Some(&dev)).unwrap();
    assert_eq!(sealer.key_id(), again.key_id());
}

#[test]
fn config_applies_previous_keys() {
    let old = key();
    let old_sealed = Sealer::from_base64(&old).unwrap().seal(b"s", b"r").unwrap();
    let cfg = SealerConfig {
        key: Some(key()),
        key_file: None,
        previous_keys: vec![old],
    };
    let sealer = cfg.load(None).unwrap();
    assert_eq!(sealer.open(&old_sealed, b"r").unwrap().as_slice(), b"s");
}
