//! `/v1/containers` through the router, against the in-memory container-svc.

use axum::http::{Method, StatusCode};
use magnum_proto::bay::v1::BayStatus;
use magnum_proto::container::v1::ContainerStatus;
use serde_json::{Value, json};

use crate::support::{
    BAD_TOKEN, at, calls, delete, get, harness, keys, patch, post, put, request, send,
};

const HOST: &str = "http://gw.example:9511";

#[tokio::test]
async fn create_accepts_the_1_1_0_body_with_nulls() {
    // 1.1.0 `container-create --image cirros --bay swarm`.
    let h = harness().await;
    let bay = h.bays.insert("swarm", BayStatus::CreateComplete);
    let reply = post(
        &h.app,
        "/v1/containers",
        json!({"name": null, "image": "cirros", "bay_uuid": bay.uuid, "command": null,
               "memory": null}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.header("content-type"), "application/json");
    let uuid = reply.body["uuid"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        format!("{HOST}/v1/containers/{uuid}")
    );
    assert_eq!(
        reply.body,
        json!({
            "uuid": uuid, "name": null, "image": "cirros", "bay_uuid": bay.uuid,
            "command": null, "memory": null, "status": "Stopped",
            "links": [
                {"href": format!("{HOST}/v1/containers/{uuid}"), "rel": "self"},
                {"href": format!("{HOST}/containers/{uuid}"), "rel": "bookmark"}
            ],
            "created_at": "2016-08-29T06:51:31+00:00", "updated_at": null
        })
    );
    let spec = h.containers.creates.lock().unwrap()[0].clone();
    assert_eq!(spec.name, None, "null is not given");
    assert_eq!(spec.image, "cirros");
    assert_eq!(spec.bay_uuid, bay.uuid);

    // Every option, the bay by name, at a modern version too.
    let reply = send(
        &h.app,
        at(
            "latest",
            request(
                Method::POST,
                "/v1/containers",
                Some(
                    json!({"name": "web", "image": "nginx:1.9", "bay_uuid": "swarm",
                            "command": "nginx -g 'daemon off;'", "memory": "512m",
                            "status": "Running"}),
                ),
            ),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["name"], "web");
    assert_eq!(reply.body["bay_uuid"], bay.uuid.as_str());
    assert_eq!(reply.body["memory"], "512m");
    assert_eq!(reply.body["command"], "nginx -g 'daemon off;'");
    assert_eq!(reply.body["status"], "Stopped", "a given status is ignored");
    let spec = h.containers.creates.lock().unwrap()[1].clone();
    assert_eq!(spec.bay_uuid, "swarm", "the ident is passed as given");
    assert_eq!(spec.memory.as_deref(), Some("512m"));
}

#[tokio::test]
async fn image_id_is_an_alias_of_image() {
    // 0.2.1 `container-create` sends the Kilo name.
    let h = harness().await;
    let bay = h.bays.insert("swarm", BayStatus::CreateComplete);
    let reply = post(
        &h.app,
        "/v1/containers",
        json!({"name": "c", "image_id": "cirros", "bay_uuid": bay.uuid, "command": "ls"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["image"], "cirros");
    assert!(
        reply.body.get("image_id").is_none(),
        "output names it image"
    );
    assert_eq!(h.containers.creates.lock().unwrap()[0].image, "cirros");

    let same = post(
        &h.app,
        "/v1/containers",
        json!({"image_id": "cirros", "image": "cirros", "bay_uuid": bay.uuid}),
    )
    .await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.text);
    post(
        &h.app,
        "/v1/containers",
        json!({"image_id": "cirros", "image": "fedora", "bay_uuid": bay.uuid}),
    )
    .await
    .assert_error(
        StatusCode::BAD_REQUEST,
        "image fedora and image_id cirros differ; give one of them.",
    );
}

#[tokio::test]
async fn create_body_rules() {
    let h = harness().await;
    let bay = h.bays.insert("swarm", BayStatus::CreateComplete);
    for (body, expected) in [
        (
            json!({"image": "cirros"}),
            "Invalid input for field/attribute bay_uuid. Value: 'None'. Mandatory field missing.",
        ),
        (
            json!({"image": "cirros", "bay_uuid": null}),
            "Invalid input for field/attribute bay_uuid. Value: 'None'. Mandatory field missing.",
        ),
        (
            json!({"bay_uuid": bay.uuid, "name": null, "image": null}),
            "Invalid input for field/attribute image. Value: 'None'. Mandatory field missing.",
        ),
        (
            json!({"image": "cirros", "bay_uuid": bay.uuid, "environment": {"A": "1"}}),
            "Unknown attribute for argument container: environment",
        ),
        (
            json!({"image": "cirros", "bay_uuid": bay.uuid, "links": []}),
            "Invalid input for field/attribute links. Value: '[]'. Cannot set read only field.",
        ),
        (
            json!({"image": "cirros", "bay_uuid": bay.uuid, "name": ""}),
            "Value should have a minimum character requirement of 1",
        ),
        (
            json!({"image": 7, "bay_uuid": bay.uuid}),
            "Invalid input for field/attribute image. Value: '7'. Wrong type. Expected 'str', got 'int'",
        ),
        (
            json!(["cirros"]),
            "Wrong type. Expected 'object', got 'list'",
        ),
    ] {
        post(&h.app, "/v1/containers", body)
            .await
            .assert_error(StatusCode::BAD_REQUEST, expected);
    }
    let empty = send(&h.app, request(Method::POST, "/v1/containers", None)).await;
    empty.assert_error(StatusCode::BAD_REQUEST, "Missing argument: \"container\"");
    assert_eq!(
        calls(&h.containers.recorded).get("create"),
        None,
        "refused before container-svc is called"
    );
}

#[tokio::test]
async fn an_unknown_bay_is_a_400_and_an_ambiguous_one_a_409() {
    let h = harness().await;
    post(
        &h.app,
        "/v1/containers",
        json!({"image": "cirros", "bay_uuid": "nope"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "Bay nope could not be found.");
    h.bays.insert("twin", BayStatus::CreateComplete);
    h.bays.insert("twin", BayStatus::CreateComplete);
    post(
        &h.app,
        "/v1/containers",
        json!({"image": "cirros", "bay_uuid": "twin"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "Multiple bays exist with same name.");
}

#[tokio::test]
async fn list_has_summary_items_and_detail_full_ones() {
    let h = harness().await;
    let first = h.containers.insert("one", ContainerStatus::Running);
    let second = h.containers.insert("two", ContainerStatus::Creating);

    let list = get(&h.app, "/v1/containers").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(keys(&list.body), ["containers"]);
    let items = list.body["containers"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        keys(&items[0]),
        [
            "bay_uuid", "command", "image", "links", "memory", "name", "status", "uuid"
        ]
    );
    assert_eq!(items[0]["uuid"], first.uuid.as_str());
    assert_eq!(items[0]["status"], "Running");
    assert_eq!(items[1]["status"], Value::Null, "creating shows null");

    let detail = get(&h.app, "/v1/containers/detail").await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    let items = detail.body["containers"].as_array().unwrap();
    assert_eq!(
        keys(&items[1]),
        [
            "bay_uuid",
            "command",
            "created_at",
            "image",
            "links",
            "memory",
            "name",
            "status",
            "updated_at",
            "uuid"
        ]
    );

    // Paging: a full page links to the next.
    let page = get(&h.app, "/v1/containers?limit=1").await;
    assert_eq!(page.body["containers"].as_array().unwrap().len(), 1);
    assert_eq!(
        page.body["next"],
        format!(
            "{HOST}/v1/containers?sort_key=id&sort_dir=asc&limit=1&marker={}",
            first.uuid
        )
    );
    let next = get(
        &h.app,
        &format!("/v1/containers?limit=1&marker={}", first.uuid),
    )
    .await;
    assert_eq!(next.body["containers"][0]["uuid"], second.uuid.as_str());

    // The bay filter (an extension).
    let filtered = get(&h.app, "/v1/containers/?bay_ident=one-bay").await;
    assert_eq!(filtered.status, StatusCode::OK, "{}", filtered.text);
    let items = filtered.body["containers"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["uuid"], first.uuid.as_str());

    get(&h.app, "/v1/containers?sort_key=nope")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid field for sorting");
}

#[tokio::test]
async fn show_by_uuid_or_name_and_error_shapes() {
    let h = harness().await;
    let container = h.containers.insert("web", ContainerStatus::Paused);
    for path in [
        format!("/v1/containers/{}", container.uuid),
        "/v1/containers/web".to_owned(),
        "/containers/web".to_owned(),
    ] {
        let reply = get(&h.app, &path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        assert_eq!(reply.body["uuid"], container.uuid.as_str());
        assert_eq!(reply.body["status"], "Paused");
        assert_eq!(reply.body["image"], "cirros:latest");
        assert_eq!(reply.body["bay_uuid"], container.bay_uuid.as_str());
    }
    get(&h.app, "/v1/containers/nope")
        .await
        .assert_error(StatusCode::NOT_FOUND, "Container nope could not be found.");
    h.containers.insert("twin", ContainerStatus::Stopped);
    h.containers.insert("twin", ContainerStatus::Stopped);
    get(&h.app, "/v1/containers/twin").await.assert_error(
        StatusCode::CONFLICT,
        "Multiple containers exist with same name.",
    );
    let reply = get(&h.app, &format!("/v1/containers/{}/detail", container.uuid)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    reply.error();
}

#[tokio::test]
async fn patch_renames_and_refuses_every_other_change() {
    let h = harness().await;
    let container = h.containers.insert("web", ContainerStatus::Running);
    let reply = patch(
        &h.app,
        "/v1/containers/web",
        json!([{"op": "replace", "path": "/name", "value": "www"}]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["name"], "www");
    assert_eq!(reply.body["uuid"], container.uuid.as_str());
    assert_eq!(reply.body["updated_at"], "2016-08-29T06:53:20+00:00");
    let update = h.containers.recorded.lock().unwrap().updates[0].clone();
    assert_eq!(update.ident, container.uuid, "the uuid, not the name");
    assert_eq!(update.update.unwrap().name.as_deref(), Some("www"));
    assert_eq!(update.update_mask.unwrap().paths, ["name"]);

    // Removing the name clears it.
    let reply = patch(
        &h.app,
        "/v1/containers/www",
        json!([{"op": "remove", "path": "/name"}]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["name"], Value::Null);

    // Nothing changed: the container, no update.
    let uri = format!("/v1/containers/{}", container.uuid);
    let reply = patch(
        &h.app,
        &uri,
        json!([{"op": "replace", "path": "/image", "value": "cirros:latest"}]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(h.containers.recorded.lock().unwrap().updates.len(), 2);

    for (operations, expected) in [
        (
            json!([{"op": "replace", "path": "/image", "value": "fedora"}]),
            "cannot change container property(ies) image.",
        ),
        (
            json!([{"op": "replace", "path": "/memory", "value": "1g"},
                   {"op": "replace", "path": "/status", "value": "Stopped"}]),
            "cannot change container property(ies) memory, status.",
        ),
        (
            json!([{"op": "remove", "path": "/bay_uuid"}]),
            "'/bay_uuid' is a mandatory attribute and can not be removed",
        ),
        (
            json!([{"op": "replace", "path": "/uuid", "value": "x"}]),
            "'/uuid' is an internal attribute and can not be updated",
        ),
        (
            json!([{"op": "replace", "path": "/image_id", "value": "x"}]),
            "Couldn't apply patch",
        ),
        (json!({"op": "replace"}), "Expected 'list', got 'dict'"),
    ] {
        patch(&h.app, &uri, operations)
            .await
            .assert_error(StatusCode::BAD_REQUEST, expected);
    }
    patch(
        &h.app,
        "/v1/containers/nope",
        json!([{"op": "replace", "path": "/name", "value": "x"}]),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "Container nope could not be found.");
    assert_eq!(h.containers.recorded.lock().unwrap().updates.len(), 2);
}

#[tokio::test]
async fn delete_answers_204_and_passes_force() {
    let h = harness().await;
    let stopped = h.containers.insert("stopped", ContainerStatus::Stopped);
    let reply = delete(&h.app, "/v1/containers/stopped").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(reply.text.is_empty());
    assert!(h.containers.find_uuid(&stopped.uuid).is_none());

    h.containers.insert("running", ContainerStatus::Running);
    delete(&h.app, "/v1/containers/running")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "stop it first or force");
    delete(&h.app, "/v1/containers/running?force=maybe")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "Unrecognized value 'maybe'");
    let reply = delete(&h.app, "/v1/containers/running?force=True").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let deletes = h.containers.deletes.lock().unwrap().clone();
    assert_eq!(
        deletes
            .iter()
            .map(|d| (d.ident.as_str(), d.force))
            .collect::<Vec<_>>(),
        [("stopped", false), ("running", false), ("running", true)]
    );
    delete(&h.app, "/v1/containers/running").await.assert_error(
        StatusCode::NOT_FOUND,
        "Container running could not be found.",
    );
}

#[tokio::test]
async fn power_actions_answer_null_and_405_on_other_methods() {
    let h = harness().await;
    let container = h.containers.insert("web", ContainerStatus::Stopped);
    for (action, status) in [
        ("start", "Running"),
        ("pause", "Paused"),
        ("unpause", "Running"),
        ("reboot", "Running"),
        ("stop", "Stopped"),
    ] {
        // 1.1.0: PUT with no body, Content-Length: 0, a JSON content type.
        let request = axum::http::Request::builder()
            .method(Method::PUT)
            .uri(format!("/v1/containers/web/{action}"))
            .header("host", "gw.example:9511")
            .header("x-auth-token", "tok")
            .header("content-type", "application/json")
            .header("content-length", "0")
            .body(axum::body::Body::empty())
            .unwrap();
        let reply = send(&h.app, request).await;
        assert_eq!(reply.status, StatusCode::OK, "{action}: {}", reply.text);
        assert_eq!(reply.header("content-type"), "application/json");
        assert_eq!(reply.text, "null", "{action}");
        let shown = get(&h.app, &format!("/v1/containers/{}", container.uuid)).await;
        assert_eq!(shown.body["status"], status, "after {action}");

        for method in [Method::GET, Method::POST, Method::DELETE, Method::PATCH] {
            let reply = send(
                &h.app,
                crate::support::request(
                    method.clone(),
                    &format!("/v1/containers/web/{action}"),
                    None,
                ),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {action}"
            );
            reply.error();
        }
    }
    let actions = h.containers.actions.lock().unwrap().clone();
    assert_eq!(
        actions,
        [
            ("start", "web".to_owned()),
            ("pause", "web".to_owned()),
            ("unpause", "web".to_owned()),
            ("reboot", "web".to_owned()),
            ("stop", "web".to_owned()),
        ]
    );

    // container-svc's refusals and lookups map as everywhere.
    put(&h.app, "/v1/containers/web/unpause")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "Cannot unpause container");
    put(&h.app, "/v1/containers/nope/start")
        .await
        .assert_error(StatusCode::NOT_FOUND, "Container nope could not be found.");
}

#[tokio::test]
async fn logs_answer_an_output_object() {
    let h = harness().await;
    let container = h.containers.insert("web", ContainerStatus::Running);
    let reply = get(&h.app, "/v1/containers/web/logs").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.body,
        json!({"output": format!("log of {}\n", container.uuid)})
    );
    for method in [Method::PUT, Method::POST, Method::DELETE] {
        let reply = send(
            &h.app,
            request(method.clone(), "/v1/containers/web/logs", None),
        )
        .await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    get(&h.app, "/v1/containers/nope/logs")
        .await
        .assert_error(StatusCode::NOT_FOUND, "Container nope could not be found.");
}

#[tokio::test]
async fn execute_takes_the_command_from_the_query() {
    let h = harness().await;
    h.containers.insert("web", ContainerStatus::Running);
    // 1.1.0 `container-exec web --command "ls -l /tmp"`.
    let reply = put(
        &h.app,
        "/v1/containers/web/execute?command=ls%20-l%20%2Ftmp",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body, json!({"output": "ran: ls -l /tmp\n"}));
    let execution = h.containers.executions.lock().unwrap()[0].clone();
    assert_eq!(execution.ident, "web");
    assert_eq!(execution.command, "ls -l /tmp");

    put(&h.app, "/v1/containers/web/execute")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "Missing argument: \"command\"");
    put(&h.app, "/v1/containers/web/execute?cmd=ls")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "Missing argument: \"command\"");
    assert_eq!(h.containers.executions.lock().unwrap().len(), 1);

    for method in [Method::GET, Method::POST] {
        let reply = send(
            &h.app,
            request(
                method.clone(),
                "/v1/containers/web/execute?command=ls",
                None,
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }

    h.containers.insert("idle", ContainerStatus::Stopped);
    put(&h.app, "/v1/containers/idle/execute?command=ls")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "is not running");
}

#[tokio::test]
async fn containers_are_listed_by_v1_and_served_at_every_version() {
    let h = harness().await;
    let v1 = get(&h.app, "/v1").await;
    assert_eq!(
        v1.body["containers"],
        json!([
            {"href": format!("{HOST}/v1/containers/"), "rel": "self"},
            {"href": format!("{HOST}/containers/"), "rel": "bookmark"}
        ])
    );
    h.containers.insert("web", ContainerStatus::Running);
    for version in ["1.1", "1.2", "latest"] {
        let reply = send(
            &h.app,
            at(version, request(Method::GET, "/v1/containers/web", None)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{version}: {}", reply.text);
    }
    let unauthenticated = send(
        &h.app,
        axum::http::Request::builder()
            .uri("/v1/containers")
            .header("x-auth-token", BAD_TOKEN)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
}
