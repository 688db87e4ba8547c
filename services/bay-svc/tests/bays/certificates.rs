//! Bay CAs: read, sign a CSR made by openssl, rotate; other projects see none of it.

use std::path::Path;
use std::process::Command;

use magnum_common::RequestContext;
use magnum_proto::bay::v1 as pb;
use tonic::{Code, Status};

use crate::harness::{Env, Instance};

async fn ca(svc: &Instance, caller: &RequestContext, bay: &str) -> Result<String, Status> {
    svc.certificates()
        .get_ca_certificate(magnum_grpc::client::request(
            caller,
            pb::GetCaCertificateRequest {
                bay_ident: bay.to_owned(),
                ca_cert_type: String::new(),
            },
        ))
        .await
        .map(|response| response.into_inner().pem)
}

async fn sign(
    svc: &Instance,
    caller: &RequestContext,
    bay: &str,
    csr: &str,
) -> Result<pb::SignedCertificate, Status> {
    svc.certificates()
        .sign_certificate(magnum_grpc::client::request(
            caller,
            pb::SignCertificateRequest {
                bay_ident: bay.to_owned(),
                csr: csr.to_owned(),
                ca_cert_type: String::new(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn rotate(
    svc: &Instance,
    caller: &RequestContext,
    bay: &str,
) -> Result<pb::RotateCaResponse, Status> {
    svc.certificates()
        .rotate_ca(magnum_grpc::client::request(
            caller,
            pb::RotateCaRequest {
                bay_ident: bay.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bay_certificates() {
    let env = Env::in_process().await;
    let svc = env.start(env.swarm_config()).await;
    let (alice, bob) = (&env.alice, &env.bob);
    svc.create_baymodel(alice, "model", "swarm").await;
    let bay = svc.create_bay(alice, "model", "secure", 1).await.unwrap();
    svc.wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;

    let ca_pem = ca(&svc, alice, "secure").await.unwrap();
    assert!(
        ca_pem.starts_with("-----BEGIN CERTIFICATE-----"),
        "{ca_pem}"
    );
    assert_eq!(ca(&svc, alice, &bay.uuid).await.unwrap(), ca_pem);

    let dir = tempfile::tempdir().unwrap();
    let csr = std::fs::read_to_string(magnum_testkit::openssl::csr(dir.path(), "alice")).unwrap();
    let signed = sign(&svc, alice, &bay.uuid, &csr).await.unwrap();
    assert_eq!(signed.bay_uuid, bay.uuid);
    assert_eq!(signed.csr, csr);
    assert!(
        magnum_testkit::openssl::verifies(dir.path(), &ca_pem, &signed.pem),
        "{}",
        signed.pem
    );
    let subject = {
        std::fs::write(dir.path().join("cert.pem"), &signed.pem).unwrap();
        let out = openssl(
            dir.path(),
            &["x509", "-in", "cert.pem", "-noout", "-subject"],
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        subject.contains("CN") && subject.contains("alice"),
        "{subject}"
    );

    for garbage in [
        "not a csr",
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        " ",
    ] {
        let refused = sign(&svc, alice, &bay.uuid, garbage).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{garbage:?}: {refused:?}"
        );
    }

    // Another project: the bay does not exist for it.
    let hidden = ca(&svc, bob, &bay.uuid).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(
        sign(&svc, bob, &bay.uuid, &csr).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        rotate(&svc, bob, &bay.uuid).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(ca(&svc, alice, &bay.uuid).await.unwrap(), ca_pem);

    let rotated = rotate(&svc, alice, "secure").await.unwrap();
    assert_eq!(rotated.bay_uuid, bay.uuid);
    let new_ca = ca(&svc, alice, &bay.uuid).await.unwrap();
    assert_ne!(new_ca, ca_pem);
    assert!(!magnum_testkit::openssl::verifies(
        dir.path(),
        &new_ca,
        &signed.pem
    ));
    let resigned = sign(&svc, alice, &bay.uuid, &csr).await.unwrap();
    assert!(magnum_testkit::openssl::verifies(
        dir.path(),
        &new_ca,
        &resigned.pem
    ));
    assert!(!magnum_testkit::openssl::verifies(
        dir.path(),
        &ca_pem,
        &resigned.pem
    ));

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    assert_eq!(
        ca(&svc, alice, &bay.uuid).await.unwrap_err().code(),
        Code::NotFound
    );
    svc.stop().await;
}
