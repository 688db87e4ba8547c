#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn bay(project_id: &str) -> BayRef {
    BayRef {
        uuid: uuid::Uuid::parse_str("6f1f6a1e-8f3a-4c39-9d7e-0c4f3f0f6b11").unwrap(),
        name: Some("b".into()),
        project_id: project_id.into(),
        node_count: 2,
        master_count: 1,
        labels: BTreeMap::new(),
    }
}

#[test]
fn namespace_is_prefix_and_uuid() {
    let b = bay("p");
    assert_eq!(
        namespace_name("magnum-", &b.uuid),
        "magnum-6f1f6a1e-8f3a-4c39-9d7e-0c4f3f0f6b11"
    );
}

#[test]
fn project_label_only_when_valid() {
    let keystone = "0123456789abcdef0123456789abcdef";
    let l = labels(&bay(keystone));
    assert_eq!(l[PROJECT_KEY], keystone);
    assert_eq!(l[MANAGED_LABEL], "true");
    assert_eq!(l[BAY_UUID_LABEL], "6f1f6a1e-8f3a-4c39-9d7e-0c4f3f0f6b11");
    let odd = "project with spaces/and slashes";
    let b = bay(odd);
    assert!(!labels(&b).contains_key(PROJECT_KEY));
    let ns = namespace(&b, "x");
    assert_eq!(ns.metadata.annotations.unwrap()[PROJECT_KEY], odd);
    assert!(!is_label_value(&"a".repeat(64)));
    assert!(!is_label_value("-a"));
    assert!(is_label_value(""));
}

#[test]
fn quota_is_per_node_times_nodes() {
    let per_node = BTreeMap::from([
        ("pods".to_owned(), "20".to_owned()),
        ("requests.memory".to_owned(), "4Gi".to_owned()),
        ("requests.cpu".to_owned(), "500m".to_owned()),
    ]);
    let hard = quota_hard(&per_node, 3).unwrap();
    assert_eq!(hard["pods"].0, "60");
    assert_eq!(hard["requests.memory"].0, "12Gi");
    assert_eq!(hard["requests.cpu"].0, "1500m");
    // Zero nodes still get one node's worth.
    assert_eq!(quota_hard(&per_node, 0).unwrap()["pods"].0, "20");
    let bad = BTreeMap::from([("pods".to_owned(), "lots".to_owned())]);
    assert_eq!(quota_hard(&bad, 1).unwrap_err().0, "pods");
}

#[test]
fn network_policy_allows_only_the_same_namespace() {
    let np = network_policy(&bay("p"), "ns");
    let json = serde_json::to_value(&np).unwrap();
    assert_eq!(
        json["spec"],
        serde_json::json!({
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{ "from": [{ "podSelector": {} }] }],
        })
    );
}

#[test]
fn role_binding_binds_the_service_account_to_the_role() {
    let rb = role_binding(&bay("p"), "ns");
    assert_eq!(rb.role_ref.kind, "Role");
    assert_eq!(rb.role_ref.name, ROLE_NAME);
    let subject = &rb.subjects.unwrap()[0];
    assert_eq!(subject.name, SERVICE_ACCOUNT_NAME);
    assert_eq!(subject.namespace.as_deref(), Some("ns"));
    // No rule reaches RBAC objects, so the bay's user cannot grant itself more.
    for rule in role_rules() {
        assert!(!rule.api_groups.unwrap().contains(&RBAC_GROUP.to_owned()));
    }
}

#[test]
fn metadata_merge_adds_missing_labels_and_keeps_others() {
    let desired = namespace(&bay("p"), "x").metadata;
    let mut existing = ObjectMeta {
        labels: Some(BTreeMap::from([("other".to_owned(), "1".to_owned())])),
        ..ObjectMeta::default()
    };
    assert!(!has_metadata_of(&existing, &desired));
    merge_metadata(&mut existing, &desired);
    assert!(has_metadata_of(&existing, &desired));
    assert_eq!(existing.labels.unwrap()["other"], "1");
}
