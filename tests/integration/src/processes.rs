//! Services as real processes, for tests that stop them the way an orchestrator does: a
//! child process with its log file, waited for on its gRPC health, stopped with SIGTERM
//! (and killed when the test ends, whatever happened); and a TCP balancer standing in for
//! a Kubernetes Service in front of replicas.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A loopback address nothing listens on now, for a child to bind (the port is free again
/// when this returns; the kernel does not hand a just-released port out again at once).
pub fn free_loopback_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address")
}

/// One service process. Killed (SIGKILL) when dropped if still running; when the test is
/// panicking, the end of its log is printed first.
pub struct ServiceProcess {
    pub name: String,
    /// Where it serves gRPC.
    pub addr: SocketAddr,
    /// Its stdout and stderr.
    pub log: PathBuf,
    pid: i32,
    child: Child,
}

impl ServiceProcess {
    /// Starts `program` with nothing from the test's environment but `env` (so only the
    /// configuration the test wrote applies), logging to `<log_dir>/<name>.log`. `addr` is
    /// where the configuration makes it listen.
    pub fn spawn(
        name: &str,
        program: &Path,
        addr: SocketAddr,
        env: &[(String, String)],
        log_dir: &Path,
    ) -> Self {
        let log = log_dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", log.display()));
        let stderr = file.try_clone().expect("a second handle on the log file");
        let child = Command::new(program)
            .env_clear()
            .envs(env.iter().map(|(key, value)| (key, value)))
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
        let pid = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .expect("a running child has a pid");
        Self {
            name: name.to_owned(),
            addr,
            log,
            pid,
            child,
        }
    }

    /// Waits until its gRPC health check answers SERVING (migrated, listening). Panics if
    /// it exits first or does not get there `within`.
    pub async fn wait_serving(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .expect("a valid endpoint")
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(2))
            .connect_lazy();
        let mut health = HealthClient::new(channel);
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                panic!(
                    "{} exited during start-up ({status}); its log:\n{}",
                    self.name,
                    self.log_tail(40)
                );
            }
            let serving = health
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .is_ok_and(|response| {
                    response.into_inner().status == ServingStatus::Serving as i32
                });
            if serving {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not serve within {within:?}; its log:\n{}",
                self.name,
                self.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM, as the kubelet does when the pod is deleted.
    pub fn terminate(&self) {
        kill(Pid::from_raw(self.pid), Signal::SIGTERM)
            .unwrap_or_else(|error| panic!("cannot send SIGTERM to {}: {error}", self.name));
    }

    /// Whether a TCP connection to its gRPC address is refused (it stopped listening).
    pub async fn refuses_connections(&self) -> bool {
        TcpStream::connect(self.addr).await.is_err()
    }

    /// Waits for the process to exit, at the latest at `deadline`; panics otherwise.
    pub async fn wait_exit(&mut self, deadline: Instant) -> ExitStatus {
        match tokio::time::timeout_at(deadline, self.child.wait()).await {
            Ok(status) => status.expect("the child can be waited for"),
            Err(_) => panic!(
                "{} did not exit in time after SIGTERM; its log:\n{}",
                self.name,
                self.log_tail(40)
            ),
        }
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- last lines of {} ({}) ---\n{}",
                self.name,
                self.log.display(),
                self.log_tail(30)
            );
        }
        // `kill_on_drop` kills it if it still runs.
    }
}

/// A round-robin TCP balancer: what a Kubernetes Service does for callers of a
/// Deployment's pods. Each new connection goes to the next endpoint; an endpoint taken out
/// (its pod is terminating) gets no new connections, while the open ones stay until
/// either side closes them (a gRPC server draining sends GOAWAY, and the caller's channel
/// reconnects through the balancer to a remaining endpoint).
pub struct Balancer {
    pub addr: SocketAddr,
    endpoints: Arc<Mutex<Vec<SocketAddr>>>,
    accept: JoinHandle<()>,
}

impl Balancer {
    pub async fn start(endpoints: Vec<SocketAddr>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the balancer");
        let addr = listener.local_addr().expect("its address");
        let endpoints = Arc::new(Mutex::new(endpoints));
        let chosen = Arc::clone(&endpoints);
        let accept = tokio::spawn(async move {
            let mut next = 0_usize;
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let target = {
                    let endpoints = chosen.lock().expect("endpoints lock");
                    next = next.wrapping_add(1);
                    (!endpoints.is_empty()).then(|| endpoints[next % endpoints.len()])
                };
                // No endpoint left: the connection is closed, as a Service without
                // endpoints refuses.
                let Some(target) = target else { continue };
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });
        Self {
            addr,
            endpoints,
            accept,
        }
    }

    /// Puts `endpoint` in the rotation (a pod became ready).
    pub fn add(&self, endpoint: SocketAddr) {
        self.endpoints
            .lock()
            .expect("endpoints lock")
            .push(endpoint);
    }

    /// Takes `endpoint` out of the rotation.
    pub fn remove(&self, endpoint: SocketAddr) {
        self.endpoints
            .lock()
            .expect("endpoints lock")
            .retain(|candidate| *candidate != endpoint);
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
