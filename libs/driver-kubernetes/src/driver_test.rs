#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// A self-signed CA certificate (P-256), as `openssl req -x509` writes it.
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBkzCCATmgAwIBAgIUA4i9MSB+Xkdek3JKlWoxhRzPOQAwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTbWFnbnVtLXRlc3QtaG9zdC1jYTAgFw0yNjExMjUwNDIwMzRa
GA8yMTI2MTEwMTA0MjAzNFowHjEcMBoGA1UEAwwTbWFnbnVtLXRlc3QtaG9zdC1j
YTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHQXRL9eZ3k5TOFSrG/gOiXFx9v8
2xuIEPbUR5lRmZXpOI+iNkQNIdMUaokZPlTX40rVwx6l4VsbV2gnpGHUmRSjUzBR
MB0GA1UdDgQWBBSsaFjg53C7BxqaflVJ5LQynsrpuTAfBgNVHSMEGDAWgBSsaFjg
53C7BxqaflVJ5LQynsrpuTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gA
MEUCIQDd8Dna1DOnG89+/wWxAbimghNCoIe+JqNzrc+msl6AqQIgcCvSQlZA9+rl
mZURyj4tbBbfnRVaaBj2nmb43iPx65g=
-----END CERTIFICATE-----
";

#[test]
fn a_state_stored_before_the_trust_fields_still_decodes() {
    let old = serde_json::json!({
        "namespace": "magnum-1",
        "server": "https://k8s.example:6443",
        "service_account": "magnum-bay",
        "token_expires_at": "2030-01-01T00:00:00Z",
    });
    let state: KubernetesBayState = serde_json::from_value(old).unwrap();
    assert_eq!(state.namespace, "magnum-1");
    assert_eq!(
        state.token_expires_at.as_deref(),
        Some("2030-01-01T00:00:00Z")
    );
    assert!(state.certificate_authority_pem.is_empty());
    assert!(!state.insecure_skip_tls_verify);
}

#[test]
fn a_state_round_trips_with_the_trust_fields() {
    let state = KubernetesBayState {
        namespace: "magnum-1".into(),
        server: "https://k8s.example:6443".into(),
        service_account: "magnum-bay".into(),
        token_expires_at: None,
        certificate_authority_pem: vec![CA_PEM.to_owned()],
        insecure_skip_tls_verify: true,
    };
    let json = serde_json::to_value(&state).unwrap();
    assert_eq!(json["certificate_authority_pem"][0], CA_PEM);
    assert_eq!(json["insecure_skip_tls_verify"], true);
    assert_eq!(
        serde_json::from_value::<KubernetesBayState>(json).unwrap(),
        state
    );
}

#[test]
fn der_certificates_come_back_as_the_pem_they_were_read_from() {
    let der = pem::parse(CA_PEM).unwrap().into_contents();
    assert_eq!(
        der_certificates_to_pem(&[der.clone(), der]),
        vec![CA_PEM.to_owned(), CA_PEM.to_owned()]
    );
    assert!(der_certificates_to_pem(&[]).is_empty());
}

#[tokio::test]
async fn the_trust_comes_from_the_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.crt");
    std::fs::write(&ca_file, CA_PEM).unwrap();
    let kubeconfig = |cluster: &str| {
        let path = dir.path().join("kubeconfig");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: host\n  cluster:\n    server: https://k8s.example:6443\n{cluster}users:\n- name: admin\n  user:\n    token: t\ncontexts:\n- name: host\n  context:\n    cluster: host\n    user: admin\ncurrent-context: host\n"
            ),
        )
        .unwrap();
        KubernetesConfig {
            kubeconfig: Some(path),
            ..KubernetesConfig::default()
        }
    };

    let with_ca = KubernetesDriver::new(kubeconfig(&format!(
        "    certificate-authority: {}\n",
        ca_file.display()
    )))
    .await
    .unwrap();
    assert_eq!(
        with_ca.trust,
        ServerTrust {
            certificate_authority_pem: vec![CA_PEM.to_owned()],
            insecure_skip_tls_verify: false,
        }
    );

    let insecure = KubernetesDriver::new(kubeconfig("    insecure-skip-tls-verify: true\n"))
        .await
        .unwrap();
    assert_eq!(
        insecure.trust,
        ServerTrust {
            certificate_authority_pem: Vec::new(),
            insecure_skip_tls_verify: true,
        }
    );

    let plain = KubernetesDriver::new(kubeconfig("")).await.unwrap();
    assert_eq!(plain.trust, ServerTrust::default());
}
