//! Keystone v3 token validation, as keystonemiddleware does it, with a bounded cache.
//!
//! - A token is checked with `GET {auth_url}/auth/tokens?nocatalog`, our service token in
//!   `X-Auth-Token` and the caller's in `X-Subject-Token`. 200 with a project-scoped token
//!   is an identity; 404 (invalid, expired, revoked) or any other scope is a refusal; 401
//!   means *our* token went bad, so we log in again and retry once; 403, 5xx, timeouts and
//!   network errors are outages: the caller gets UNAVAILABLE, never a pass.
//! - The service token comes from a password login, is reused until shortly before it
//!   expires, and is refreshed by one task at a time (the others wait for its result).
//! - Answers are cached per token: identities until the token expires but at most
//!   `cache_ttl_secs` (so a revoked token may keep working that long, as with
//!   keystonemiddleware), refusals for `negative_cache_ttl_secs`, outages never.
//!   Concurrent requests for one uncached token share a single Keystone call. The cache is
//!   keyed by the token's SHA-256, as keystonemiddleware's is: no token is kept in memory,
//!   and every key has the same small size whatever callers send.
//!
//! Tokens and passwords are never logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use magnum_common::error::ErrorChain;
use magnum_proto::identity::v1::Identity;
use moka::Expiry;
use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::config::{KeystoneConfig, Secret};
use crate::error::{IdentityError, KeystoneFault};

/// Longer tokens are refused without asking Keystone (fernet tokens are at most 255
/// bytes; this leaves ample room for other formats).
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// The service token is replaced this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// After a failed login, requests fail at once for this long instead of each trying
/// again: a wrong password must not turn every request into a login.
const LOGIN_BACKOFF: Duration = Duration::from_secs(1);
/// A Keystone answer larger than this is not a token (the catalog is not requested).
const MAX_BODY_BYTES: usize = 1024 * 1024;

const SUBJECT_TOKEN: &str = "x-subject-token";
const AUTH_TOKEN: &str = "x-auth-token";

/// Validates Keystone tokens. Cheap to clone; clones share the cache and service token.
#[derive(Clone)]
pub struct KeystoneValidator {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `{auth_url}/auth/tokens?nocatalog`, for validations and logins.
    tokens_url: String,
    config: KeystoneConfig,
    service: Mutex<ServiceState>,
    cache: moka::future::Cache<TokenHash, Verdict>,
    ttl: Duration,
    negative_ttl: Duration,
    counters: Counters,
}

/// Counts since the validator was built, for tests and diagnostics (the same numbers go
/// to the `metrics` counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidatorStats {
    /// Answers served from the cache (including requests that waited for another
    /// request's Keystone call for the same token).
    pub cache_hits: u64,
    /// Answers that needed a Keystone validation.
    pub cache_misses: u64,
    /// `GET /v3/auth/tokens` requests sent (retries after a 401 count twice).
    pub keystone_validations: u64,
    /// Password logins of the service user attempted.
    pub keystone_logins: u64,
}

#[derive(Default)]
struct Counters {
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    keystone_validations: AtomicU64,
    keystone_logins: AtomicU64,
}

/// SHA-256 of a token: the cache key.
type TokenHash = [u8; 32];

fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Clone)]
enum Verdict {
    Valid {
        identity: Arc<Identity>,
        until: Instant,
    },
    Refused {
        until: Instant,
    },
}

impl Verdict {
    fn until(&self) -> Instant {
        match self {
            Self::Valid { until, .. } | Self::Refused { until } => *until,
        }
    }
}

/// Each cache entry lives until its own `until`.
struct VerdictExpiry;

impl Expiry<TokenHash, Verdict> for VerdictExpiry {
    fn expire_after_create(
        &self,
        _key: &TokenHash,
        value: &Verdict,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.until().saturating_duration_since(created_at))
    }
}

#[derive(Default)]
struct ServiceState {
    token: Option<ServiceToken>,
    last_failure: Option<(Instant, KeystoneFault)>,
}

#[derive(Clone)]
struct ServiceToken {
    value: Secret,
    refresh_at: Instant,
    expires_at: Instant,
}

impl ServiceState {
    /// The current token if it has not expired yet (even when it is due for refresh).
    fn unexpired(&self, now: Instant) -> Option<Secret> {
        self.token
            .as_ref()
            .filter(|token| now < token.expires_at)
            .map(|token| token.value.clone())
    }
}

/// What one validation request found out.
enum Checked {
    Verdict(Verdict),
    /// Keystone refused our service token (401).
    ServiceTokenRejected,
}

impl KeystoneValidator {
    /// Builds the HTTP client and checks the configuration (and that the password file,
    /// if any, is readable). Does not contact Keystone: see `warm_up`.
    pub fn new(config: KeystoneConfig) -> Result<Self, IdentityError> {
        config.validate()?;
        if let Some(path) = &config.password_file {
            read_password_file_blocking(path).map_err(IdentityError::Config)?;
        }
        // reqwest is built without a crypto provider; it panics unless one is installed.
        // Failing here only means another one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = Duration::from_secs(config.request_timeout_secs);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // Keystone never redirects token calls; following one could hand our tokens
            // to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "magnum-rs identity-svc/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| {
                IdentityError::Config(format!("cannot build the HTTP client: {}", ErrorChain(&e)))
            })?;
        let cache = moka::future::Cache::builder()
            .max_capacity(config.cache_capacity)
            .expire_after(VerdictExpiry)
            .build();
        let tokens_url = format!(
            "{}/auth/tokens?nocatalog",
            config.auth_url.trim_end_matches('/')
        );
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                tokens_url,
                ttl: Duration::from_secs(config.cache_ttl_secs),
                negative_ttl: Duration::from_secs(config.negative_cache_ttl_secs),
                config,
                service: Mutex::new(ServiceState::default()),
                cache,
                counters: Counters::default(),
            }),
        })
    }

    /// Who `token` stands for. UNAUTHENTICATED when Keystone says the token is not valid
    /// (or it is not project-scoped); UNAVAILABLE when Keystone cannot tell us.
    pub async fn validate(&self, token: &str) -> Result<Identity, IdentityError> {
        if !is_plausible(token) {
            return Err(IdentityError::Unauthenticated);
        }
        let inner = &self.inner;
        let entry = inner
            .cache
            .entry(token_hash(token))
            .or_try_insert_with(inner.ask(token))
            .await
            .map_err(|fault| IdentityError::Unavailable((*fault).clone()))?;
        if !entry.is_fresh() {
            inner.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            magnum_telemetry::metrics::cache_lookup("keystone_tokens", true);
        }
        match entry.into_value() {
            Verdict::Valid { identity, .. } => Ok((*identity).clone()),
            Verdict::Refused { .. } => Err(IdentityError::Unauthenticated),
        }
    }

    /// Logs the service user in now, so a wrong password or an unreachable Keystone shows
    /// in the log at start-up rather than at the first request.
    pub async fn warm_up(&self) -> Result<(), IdentityError> {
        self.inner
            .service_token()
            .await
            .map(drop)
            .map_err(IdentityError::Unavailable)
    }

    /// Counts since start (see `ValidatorStats`).
    pub fn stats(&self) -> ValidatorStats {
        let c = &self.inner.counters;
        ValidatorStats {
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            cache_misses: c.cache_misses.load(Ordering::Relaxed),
            keystone_validations: c.keystone_validations.load(Ordering::Relaxed),
            keystone_logins: c.keystone_logins.load(Ordering::Relaxed),
        }
    }
}

/// Tokens that cannot be valid are refused without a Keystone call or a cache entry.
fn is_plausible(token: &str) -> bool {
    !token.is_empty() && token.len() <= MAX_TOKEN_LEN && HeaderValue::from_str(token).is_ok()
}

impl Inner {
    /// The uncached path: one validation, and on 401 one new login and one retry.
    async fn ask(&self, token: &str) -> Result<Verdict, KeystoneFault> {
        self.counters.cache_misses.fetch_add(1, Ordering::Relaxed);
        magnum_telemetry::metrics::cache_lookup("keystone_tokens", false);
        let service = self.service_token().await?;
        match self.check(token, &service).await? {
            Checked::Verdict(verdict) => Ok(verdict),
            Checked::ServiceTokenRejected => {
                tracing::warn!(
                    "Keystone rejected the service token (expired or revoked); logging in again"
                );
                self.forget_service_token(&service).await;
                let service = self.service_token().await?;
                match self.check(token, &service).await? {
                    Checked::Verdict(verdict) => Ok(verdict),
                    Checked::ServiceTokenRejected => {
                        self.forget_service_token(&service).await;
                        tracing::error!("Keystone rejected a service token it had just issued");
                        Err(KeystoneFault::ServiceTokenRejected)
                    }
                }
            }
        }
    }

    /// `GET /v3/auth/tokens` for `token` with our service token.
    async fn check(&self, token: &str, service: &Secret) -> Result<Checked, KeystoneFault> {
        const REQUEST: &str = "token validation";
        self.counters
            .keystone_validations
            .fetch_add(1, Ordering::Relaxed);
        let outcome = |outcome: &'static str| {
            metrics::counter!(
                "magnum_identity_keystone_requests_total",
                "request" => "validate",
                "outcome" => outcome
            )
            .increment(1);
        };
        let now = Instant::now();
        let (Ok(subject), Ok(auth)) = (sensitive(token), sensitive(service.expose())) else {
            // `is_plausible` let it through, so this is our own token: cannot happen.
            return Ok(Checked::Verdict(Verdict::Refused {
                until: later(now, self.negative_ttl),
            }));
        };
        let response = self
            .http
            .get(&self.tokens_url)
            .header(AUTH_TOKEN, auth)
            .header(SUBJECT_TOKEN, subject)
            .send()
            .await
            .map_err(|e| {
                outcome("unreachable");
                unreachable(REQUEST, &e)
            })?;
        let status = response.status();
        match status {
            StatusCode::OK => {
                let body = read_body(response, REQUEST).await.inspect_err(|_| {
                    outcome("error");
                })?;
                match parse_validation(&body, Utc::now()) {
                    Ok(Some((identity, remaining))) => {
                        outcome("valid");
                        tracing::debug!(
                            user_id = identity.user_id,
                            project_id = identity.project_id,
                            "token valid"
                        );
                        Ok(Checked::Verdict(Verdict::Valid {
                            identity: Arc::new(identity),
                            until: later(now, self.ttl.min(remaining)),
                        }))
                    }
                    Ok(None) => {
                        outcome("invalid");
                        tracing::debug!("token refused: not scoped to a project");
                        Ok(Checked::Verdict(Verdict::Refused {
                            until: later(now, self.negative_ttl),
                        }))
                    }
                    Err(detail) => {
                        outcome("error");
                        Err(KeystoneFault::BadAnswer {
                            request: REQUEST,
                            detail,
                        })
                    }
                }
            }
            StatusCode::NOT_FOUND => {
                outcome("invalid");
                tracing::debug!("token refused by Keystone (invalid, expired or revoked)");
                Ok(Checked::Verdict(Verdict::Refused {
                    until: later(now, self.negative_ttl),
                }))
            }
            StatusCode::UNAUTHORIZED => {
                outcome("service_token_rejected");
                Ok(Checked::ServiceTokenRejected)
            }
            StatusCode::FORBIDDEN => {
                outcome("forbidden");
                let fault = KeystoneFault::Forbidden;
                tracing::error!(
                    user = self.config.username,
                    project = self.config.project_name,
                    "{fault}"
                );
                Err(fault)
            }
            _ => {
                outcome("error");
                Err(KeystoneFault::Status {
                    request: REQUEST,
                    status: status.as_u16(),
                })
            }
        }
    }

    /// A service token that is not due for refresh; logs in (one task at a time) when
    /// there is none.
    async fn service_token(&self) -> Result<Secret, KeystoneFault> {
        // Held across the login: whoever comes meanwhile waits for its result instead of
        // logging in too.
        let mut state = self.service.lock().await;
        let now = Instant::now();
        if let Some(token) = state.token.as_ref().filter(|t| now < t.refresh_at) {
            return Ok(token.value.clone());
        }
        if let Some((at, fault)) = &state.last_failure
            && now.saturating_duration_since(*at) < LOGIN_BACKOFF
        {
            return state.unexpired(now).ok_or_else(|| fault.clone());
        }
        match self.login().await {
            Ok(token) => {
                let value = token.value.clone();
                state.token = Some(token);
                state.last_failure = None;
                Ok(value)
            }
            Err(fault) => {
                let now = Instant::now();
                state.last_failure = Some((now, fault.clone()));
                // A token we only wanted to refresh early still works meanwhile.
                match state.unexpired(now) {
                    Some(value) => {
                        tracing::warn!(error = %fault, "service token refresh failed; using the current one until it expires");
                        Ok(value)
                    }
                    None => {
                        state.token = None;
                        Err(fault)
                    }
                }
            }
        }
    }

    /// Drops `stale` after Keystone refused it, unless someone already replaced it.
    async fn forget_service_token(&self, stale: &Secret) {
        let mut state = self.service.lock().await;
        if state.token.as_ref().is_some_and(|t| &t.value == stale) {
            state.token = None;
        }
    }

    /// Password login of the service user, scoped to its project.
    async fn login(&self) -> Result<ServiceToken, KeystoneFault> {
        const REQUEST: &str = "service user login";
        let config = &self.config;
        let password =
            match (&config.password, &config.password_file) {
                (Some(password), _) => password.clone(),
                (None, Some(path)) => read_password_file(path).await.map_err(|reason| {
                    KeystoneFault::PasswordFile {
                        path: path.display().to_string(),
                        reason,
                    }
                })?,
                // `KeystoneConfig::validate` refuses this at start-up.
                (None, None) => {
                    return Err(KeystoneFault::PasswordFile {
                        path: String::new(),
                        reason: "no password configured".to_owned(),
                    });
                }
            };
        self.counters
            .keystone_logins
            .fetch_add(1, Ordering::Relaxed);
        let outcome = |outcome: &'static str| {
            metrics::counter!(
                "magnum_identity_keystone_requests_total",
                "request" => "login",
                "outcome" => outcome
            )
            .increment(1);
        };
        let body = serde_json::json!({
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": config.username,
                            "domain": {"name": config.user_domain_name},
                            "password": password.expose(),
                        }
                    }
                },
                "scope": {
                    "project": {
                        "name": config.project_name,
                        "domain": {"name": config.project_domain_name},
                    }
                }
            }
        });
        let sent = Instant::now();
        let response = self
            .http
            .post(&self.tokens_url)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                outcome("unreachable");
                unreachable(REQUEST, &e)
            })?;
        let status = response.status();
        if !status.is_success() {
            if status.is_client_error() {
                outcome("refused");
                let fault = KeystoneFault::LoginRefused {
                    status: status.as_u16(),
                };
                tracing::error!(
                    user = config.username,
                    project = config.project_name,
                    "{fault}"
                );
                return Err(fault);
            }
            outcome("error");
            return Err(KeystoneFault::Status {
                request: REQUEST,
                status: status.as_u16(),
            });
        }
        let value = response
            .headers()
            .get(SUBJECT_TOKEN)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(Secret::new);
        let body = read_body(response, REQUEST).await.inspect_err(|_| {
            outcome("error");
        })?;
        let bad_answer = |detail: &str| {
            outcome("error");
            KeystoneFault::BadAnswer {
                request: REQUEST,
                detail: detail.to_owned(),
            }
        };
        let value = value.ok_or_else(|| bad_answer("no X-Subject-Token header"))?;
        let remaining = serde_json::from_slice::<TokenBody>(&body)
            .ok()
            .and_then(|b| parse_time(&b.token.expires_at))
            .map(|expires_at| remaining(expires_at, Utc::now()))
            .ok_or_else(|| bad_answer("no readable token.expires_at"))?;
        outcome("ok");
        // Refresh a minute early, or halfway through a token lifetime shorter than that.
        let margin = REFRESH_MARGIN.min(remaining / 2);
        tracing::info!(
            user = config.username,
            project = config.project_name,
            valid_for_secs = remaining.as_secs(),
            "service user logged in to Keystone"
        );
        Ok(ServiceToken {
            value,
            refresh_at: later(sent, remaining.saturating_sub(margin)),
            expires_at: later(sent, remaining),
        })
    }
}

/// A header value that HTTP/2 never indexes and `Debug` never shows.
fn sensitive(value: &str) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut value = HeaderValue::from_str(value)?;
    value.set_sensitive(true);
    Ok(value)
}

fn unreachable(request: &'static str, error: &reqwest::Error) -> KeystoneFault {
    KeystoneFault::Unreachable {
        request,
        reason: ErrorChain(error).to_string(),
    }
}

/// The whole body, refusing oversized ones.
async fn read_body(
    mut response: reqwest::Response,
    request: &'static str,
) -> Result<Vec<u8>, KeystoneFault> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| unreachable(request, &e))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(KeystoneFault::BadAnswer {
                request,
                detail: format!("body larger than {MAX_BODY_BYTES} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `now + ttl`, saturating instead of overflowing on absurd TTLs.
fn later(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

fn remaining(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (expires_at - now).to_std().unwrap_or(Duration::ZERO)
}

fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

async fn read_password_file(path: &std::path::Path) -> Result<Secret, String> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| e.to_string())?;
    password_from_file_text(text)
}

fn read_password_file_blocking(path: &std::path::Path) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read keystone.password_file {}: {e}", path.display()))?;
    password_from_file_text(text)
        .map_err(|e| format!("keystone.password_file {}: {e}", path.display()))
}

/// The file's text without its trailing line break (editors and `echo` add one).
fn password_from_file_text(mut text: String) -> Result<Secret, String> {
    while text.ends_with('\n') || text.ends_with('\r') {
        text.pop();
    }
    if text.is_empty() {
        return Err("the file is empty".to_owned());
    }
    Ok(Secret::new(text))
}

// ---- Keystone's token body (only what we read) ----

#[derive(Deserialize)]
struct TokenBody {
    token: TokenData,
}

#[derive(Deserialize)]
struct TokenData {
    expires_at: String,
    user: Option<Named>,
    project: Option<Project>,
    #[serde(default)]
    roles: Vec<Role>,
}

#[derive(Deserialize)]
struct Named {
    id: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Project {
    id: String,
    #[serde(default)]
    name: String,
    domain: Option<Named>,
}

#[derive(Deserialize)]
struct Role {
    name: String,
}

/// The identity in a validation answer and how long it stays valid; `None` when the
/// token is not scoped to a project (domain, system or unscoped tokens carry no tenant).
/// `Err` when the body is not a token.
fn parse_validation(
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<(Identity, Duration)>, String> {
    let token = serde_json::from_slice::<TokenBody>(body)
        .map_err(|e| format!("not a token body: {e}"))?
        .token;
    let expires_at = parse_time(&token.expires_at)
        .ok_or_else(|| format!("unreadable expires_at {:?}", token.expires_at))?;
    let user = token.user.ok_or("no token.user")?;
    let Some(project) = token.project else {
        return Ok(None);
    };
    if user.id.is_empty() || project.id.is_empty() {
        return Err("empty user or project id".to_owned());
    }
    let mut roles: Vec<String> = Vec::with_capacity(token.roles.len());
    for role in token.roles {
        let role = role.name.to_lowercase();
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    let is_admin = roles.iter().any(|r| r == "admin");
    let (domain_id, domain_name) = project.domain.map(|d| (d.id, d.name)).unwrap_or_default();
    let identity = Identity {
        user_id: user.id,
        user_name: user.name,
        project_id: project.id,
        project_name: project.name,
        domain_id,
        domain_name,
        roles,
        is_admin,
        expires_at: Some(prost_types::Timestamp {
            seconds: expires_at.timestamp(),
            nanos: i32::try_from(expires_at.timestamp_subsec_nanos()).unwrap_or(0),
        }),
    };
    Ok(Some((identity, remaining(expires_at, now))))
}

#[cfg(test)]
#[path = "keystone_test.rs"]
mod tests;
