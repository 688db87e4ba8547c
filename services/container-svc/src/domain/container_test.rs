//! Unit tests of `container`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn owner() -> Owner {
    Owner {
        project_id: "p".into(),
        user_id: "u".into(),
    }
}

fn new() -> NewContainer {
    NewContainer {
        image: "busybox".into(),
        bay_uuid: Uuid::new_v4().to_string(),
        ..NewContainer::default()
    }
}

#[test]
fn a_valid_request_becomes_a_creating_record() {
    let container = NewContainer {
        name: Some("web".into()),
        memory: Some("512m".into()),
        command: Some("sh -c 'echo hi'".into()),
        ..new()
    }
    .into_container(owner(), Utc::now())
    .unwrap();
    assert_eq!(container.status, ContainerStatus::Creating);
    assert_eq!(container.project_id, "p");
    assert_eq!(
        container.docker_name(),
        format!("magnum-{}", container.uuid)
    );
}

#[test]
fn bad_requests_are_refused() {
    let refused = |request: NewContainer| request.into_container(owner(), Utc::now()).is_err();
    assert!(refused(NewContainer {
        image: String::new(),
        ..new()
    }));
    assert!(refused(NewContainer {
        bay_uuid: "not-a-uuid".into(),
        ..new()
    }));
    assert!(refused(NewContainer {
        name: Some(String::new()),
        ..new()
    }));
    assert!(refused(NewContainer {
        name: Some("x".repeat(256)),
        ..new()
    }));
    assert!(refused(NewContainer {
        memory: Some("lots".into()),
        ..new()
    }));
    assert!(refused(NewContainer {
        command: Some("echo 'unterminated".into()),
        ..new()
    }));
    let error = NewContainer {
        image: String::new(),
        ..new()
    }
    .into_container(owner(), Utc::now())
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid input for field/attribute image. Value: ''. Mandatory field missing."
    );
}

#[test]
fn memory_units() {
    assert_eq!(parse_memory("512m").unwrap(), 512 << 20);
    assert_eq!(parse_memory("1G").unwrap(), 1 << 30);
    assert_eq!(parse_memory("4096").unwrap(), 4096);
    assert_eq!(parse_memory("10k").unwrap(), 10 << 10);
    assert_eq!(parse_memory("7b").unwrap(), 7);
    for bad in ["", "m", "12x", "-1m", "1.5g", "0", "99999999999999999g"] {
        assert!(parse_memory(bad).is_err(), "{bad}");
    }
}

#[test]
fn commands_split_like_a_shell() {
    assert_eq!(
        split_command("sh -c 'echo hello; sleep 300'").unwrap(),
        vec!["sh", "-c", "echo hello; sleep 300"]
    );
    assert_eq!(split_command("  echo   hi ").unwrap(), vec!["echo", "hi"]);
    assert_eq!(
        split_command(r#"echo "a \"b\" c" d\ e ''"#).unwrap(),
        vec!["echo", "a \"b\" c", "d e", ""]
    );
    assert!(split_command("").unwrap().is_empty());
    assert!(split_command("echo \"open").is_err());
    assert!(split_command("echo 'open").is_err());
}

fn bay(coe: &str, status: &str, workers: &[&str]) -> BayInfo {
    BayInfo {
        uuid: Uuid::nil(),
        coe: coe.into(),
        status: status.into(),
        workers: workers.iter().map(|w| (*w).to_owned()).collect(),
    }
}

#[test]
fn only_complete_swarm_bays_take_containers() {
    assert!(
        bay("swarm", "CREATE_COMPLETE", &["a"])
            .check_usable("b")
            .is_ok()
    );
    assert!(
        bay("swarm", "UPDATE_COMPLETE", &["a"])
            .check_usable("b")
            .is_ok()
    );
    let error = bay("kubernetes", "CREATE_COMPLETE", &["a"])
        .check_usable("b")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Cannot fulfill request with a kubernetes bay, expecting a swarm bay."
    );
    let error = bay("swarm", "CREATE_IN_PROGRESS", &["a"])
        .check_usable("b")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Bay b is not ready (status CREATE_IN_PROGRESS)."
    );
    assert!(
        bay("swarm", "CREATE_COMPLETE", &[])
            .check_usable("b")
            .is_err()
    );
}

#[test]
fn placement_prefers_the_least_loaded_worker() {
    let bay = bay("swarm", "CREATE_COMPLETE", &["a", "b", "c"]);
    let mut counts = HashMap::new();
    assert_eq!(bay.pick_worker(&counts), Some("a"));
    counts.insert("a".to_owned(), 2);
    counts.insert("b".to_owned(), 1);
    assert_eq!(bay.pick_worker(&counts), Some("c"));
    counts.insert("c".to_owned(), 1);
    assert_eq!(bay.pick_worker(&counts), Some("b"));
    assert_eq!(bay.network(), format!("magnum-bay-{}", Uuid::nil()));
}

#[test]
fn updates_change_the_name_only() {
    let container = new().into_container(owner(), Utc::now()).unwrap();
    let changes = ContainerChanges::new(["name"], Some("new".into())).unwrap();
    let updated = container.apply(&changes, Utc::now()).unwrap();
    assert_eq!(updated.name.as_deref(), Some("new"));
    assert!(ContainerChanges::new(["image"], None).is_err());
    assert!(ContainerChanges::new(["bogus"], None).is_err());
    let empty = ContainerChanges::new(["name"], Some(String::new())).unwrap();
    assert!(updated.apply(&empty, Utc::now()).is_err());
}

#[test]
fn statuses_round_trip_and_logs_keep_their_tail() {
    for status in [
        ContainerStatus::Creating,
        ContainerStatus::Running,
        ContainerStatus::Stopped,
        ContainerStatus::Paused,
        ContainerStatus::Error,
        ContainerStatus::Unknown,
    ] {
        assert_eq!(ContainerStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(EngineState::Missing.status().0, ContainerStatus::Error);
    let mut buffer = b"0123456789".to_vec();
    assert!(!keep_tail(&mut buffer, 10));
    assert!(keep_tail(&mut buffer, 4));
    assert_eq!(buffer, b"6789");
}

#[test]
fn observing_the_engine_changes_only_what_differs() {
    let now = Utc::now();
    let stopped = Container {
        status: ContainerStatus::Stopped,
        ..creating()
    };
    assert_eq!(stopped.observe(EngineState::Stopped, now), None);
    let running = stopped.observe(EngineState::Running, now).unwrap();
    assert_eq!(running.status, ContainerStatus::Running);
    assert_eq!(running.updated_at, Some(now));

    let lost = running.observe(EngineState::Missing, now).unwrap();
    assert_eq!(lost.status, ContainerStatus::Error);
    assert!(lost.status_reason.as_deref().unwrap().contains("missing"));
    // A failure with its own reason keeps it.
    let failed = Container {
        status: ContainerStatus::Error,
        status_reason: Some("image not found".to_owned()),
        ..creating()
    };
    assert_eq!(failed.observe(EngineState::Missing, now), None);
}

fn creating() -> Container {
    new().into_container(owner(), Utc::now()).unwrap()
}
