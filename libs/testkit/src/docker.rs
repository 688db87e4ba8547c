//! The test Docker engine that `scripts/docker.sh` starts: its address and the tiny image it
//! imports. Read from the environment (`DOCKER_HOST`, `MAGNUM_TEST_DOCKER_IMAGE`), else from
//! `.deps/docker-env` as the script writes it.

use std::collections::HashMap;

fn vars() -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = HashMap::new();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.deps/docker-env");
    if let Ok(text) = std::fs::read_to_string(file) {
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                vars.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
    }
    // The environment wins over the file.
    for key in ["DOCKER_HOST", "MAGNUM_TEST_DOCKER_IMAGE"] {
        if let Ok(value) = std::env::var(key) {
            vars.insert(key.to_owned(), value);
        }
    }
    vars
}

/// The engine's address, when one is configured.
pub fn try_host() -> Option<String> {
    vars().remove("DOCKER_HOST").filter(|host| !host.is_empty())
}

/// The engine's address, e.g. `unix:///run/magnum-rs-docker/docker.sock`.
pub fn host() -> String {
    try_host().unwrap_or_else(|| {
        panic!(
            "no test Docker engine: run `bash scripts/docker.sh` (writes .deps/docker-env) \
             or set DOCKER_HOST"
        )
    })
}

/// The image the tests run (imported from a local busybox, never pulled).
pub fn image() -> String {
    vars()
        .remove("MAGNUM_TEST_DOCKER_IMAGE")
        .unwrap_or_else(|| "magnum-rs/busybox:test".to_owned())
}
