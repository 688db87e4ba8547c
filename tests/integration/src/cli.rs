//! Running the real python-magnumclient CLIs that `make test-deps` installs.

use std::path::PathBuf;
use std::time::Duration;

fn deps_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.deps"))
}

fn installed(env_var: &str, default: PathBuf, what: &str) -> String {
    if let Ok(path) = std::env::var(env_var) {
        return path;
    }
    assert!(
        default.exists(),
        "{what} is not installed: run `make test-deps` (or set {env_var})"
    );
    default.display().to_string()
}

/// One version's `magnum` command (for 5.0.0, `openstack`), with the environment it runs in.
pub struct MagnumCli {
    argv: Vec<String>,
    env: Vec<(String, String)>,
}

impl MagnumCli {
    /// python-magnumclient 2.17.0's `magnum`.
    pub fn v2_17() -> Self {
        let program = installed(
            "MAGNUM_TEST_MAGNUMCLIENT_217",
            deps_dir().join("venv-magnumclient-2.17.0/bin/magnum"),
            "python-magnumclient 2.17.0",
        );
        Self {
            argv: vec![program],
            env: Vec::new(),
        }
    }

    /// python-magnumclient 4.11.0's `magnum` (cluster-template, cluster, ca, quotas, stats and
    /// service-list commands; no bays, no nodegroups).
    pub fn v4_11() -> Self {
        let program = installed(
            "MAGNUM_TEST_MAGNUMCLIENT_411",
            deps_dir().join("venv-magnumclient-4.11.0/bin/magnum"),
            "python-magnumclient 4.11.0",
        );
        Self {
            argv: vec![program],
            env: Vec::new(),
        }
    }

    /// python-magnumclient 5.0.0, which has no `magnum` command: its venv's `openstack`
    /// (python-openstackclient), so commands are `coe cluster list` and the like. Slower to
    /// start than `magnum` (about 0.65 s a command against 0.35 s).
    pub fn openstack_v5() -> Self {
        let program = installed(
            "MAGNUM_TEST_MAGNUMCLIENT_500_OPENSTACK",
            deps_dir().join("venv-magnumclient-5.0.0/bin/openstack"),
            "python-magnumclient 5.0.0 (with python-openstackclient)",
        );
        Self {
            argv: vec![program],
            env: Vec::new(),
        }
    }

    /// python-magnumclient 1.1.0's `magnum`, through its Python 3 launcher.
    pub fn v1_1() -> Self {
        let python = installed(
            "MAGNUM_TEST_MAGNUMCLIENT_110_PYTHON",
            deps_dir().join("venv-magnumclient-1.1.0/bin/python"),
            "python-magnumclient 1.1.0",
        );
        let launcher = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/magnumclient/launch-1.1.0.py"
        );
        Self {
            argv: vec![python, launcher.to_owned()],
            env: Vec::new(),
        }
    }

    /// Arguments put before every command (e.g. `--os-token x`).
    pub fn with_args(mut self, args: &[&str]) -> Self {
        self.argv.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Runs one command; returns (success, stdout + stderr).
    pub async fn run(&self, args: &[&str]) -> (bool, String) {
        let mut command = tokio::process::Command::new(&self.argv[0]);
        command.args(&self.argv[1..]).args(args).kill_on_drop(true);
        // Only what the test says: no OS_* of the developer's shell leaks in.
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("OS_")) {
            command.env_remove(name);
        }
        command.envs(self.env.iter().cloned());
        let output = tokio::time::timeout(Duration::from_secs(90), command.output())
            .await
            .expect("magnum CLI finished within 90 s")
            .expect("magnum CLI runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }

    /// Runs one command that must succeed; returns its output.
    pub async fn ok(&self, args: &[&str]) -> String {
        let (success, text) = self.run(args).await;
        assert!(success, "magnum {args:?} failed:\n{text}");
        text
    }

    /// Runs one command that must succeed and print JSON (`-f json`); returns it.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let text = self.ok(args).await;
        let start = text.find(['{', '[']).unwrap_or(0);
        serde_json::from_str(&text[start..])
            .unwrap_or_else(|error| panic!("{args:?} printed no JSON ({error}):\n{text}"))
    }

    /// Polls `show` (e.g. `["cluster-show", "c1"]`) until its output contains `status`;
    /// returns what it showed.
    pub async fn wait_for(&self, show: &[&str], status: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            let (_, shown) = self.run(show).await;
            if shown.contains(status) {
                return shown;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{show:?} never got to {status}: {shown}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Polls `list` until `name` is no longer in its output.
    pub async fn wait_until_gone(&self, list: &[&str], name: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        while self.ok(list).await.contains(name) {
            assert!(tokio::time::Instant::now() < deadline, "{name} never went");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Polls `bay-show` until the bay's status is `status`; returns what it showed.
    pub async fn wait_for_bay(&self, bay: &str, status: &str) -> String {
        self.wait_for(&["bay-show", bay], status).await
    }

    /// Polls `bay-list` until `bay` is no longer in it.
    pub async fn wait_until_bay_gone(&self, bay: &str) {
        self.wait_until_gone(&["bay-list"], bay).await
    }
}
