//! The auth client: asks identity-svc who a token stands for and caches the answer until
//! the token expires (bounded by a TTL cap), so the identity hop is paid once per token,
//! not once per request. Refusals are cached briefly; outages are never cached and never
//! let a request through.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::GrpcChannel as Channel;
use magnum_common::RequestContext;
use magnum_proto::identity::v1::identity_service_client::IdentityServiceClient;
use magnum_proto::identity::v1::{Identity, NoAuthHints, ValidateTokenRequest};
use moka::Expiry;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthClientConfig {
    /// identity-svc's gRPC endpoint.
    pub identity_url: String,
    /// Longest time a validated token is trusted without asking again (a revoked token
    /// keeps working up to this long; keystonemiddleware's default is 300 s too).
    pub cache_ttl_secs: u64,
    /// Most tokens remembered at once.
    pub cache_capacity: u64,
    /// How long a refused token stays refused without asking again.
    pub negative_cache_ttl_secs: u64,
}

impl Default for AuthClientConfig {
    fn default() -> Self {
        Self {
            identity_url: "http://127.0.0.1:9520".to_owned(),
            cache_ttl_secs: 300,
            cache_capacity: 10_000,
            negative_cache_ttl_secs: 5,
        }
    }
}

/// What a caller presented.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Credentials {
    pub token: String,
    /// No-auth hints (`X-Project-Id`, `X-User-Id`, `X-Roles`); Keystone mode ignores them.
    pub project_id: String,
    pub user_id: String,
    pub roles: Vec<String>,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    token: String,
    project_id: String,
    user_id: String,
    roles: Vec<String>,
}

#[derive(Debug, Clone)]
enum Verdict {
    Valid {
        identity: Arc<Identity>,
        until: Instant,
    },
    Refused {
        message: String,
        until: Instant,
    },
}

impl Verdict {
    fn until(&self) -> Instant {
        match self {
            Self::Valid { until, .. } | Self::Refused { until, .. } => *until,
        }
    }
}

struct VerdictExpiry;

impl Expiry<CacheKey, Verdict> for VerdictExpiry {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Verdict,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.until().saturating_duration_since(created_at))
    }
}

#[derive(Clone)]
pub struct Authenticator {
    client: IdentityServiceClient<Channel>,
    cache: moka::future::Cache<CacheKey, Verdict>,
    ttl: Duration,
    negative_ttl: Duration,
}

impl Authenticator {
    pub fn new(identity: Channel, config: &AuthClientConfig) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(config.cache_capacity.max(1))
            .expire_after(VerdictExpiry)
            .build();
        Self {
            client: IdentityServiceClient::new(identity),
            cache,
            ttl: Duration::from_secs(config.cache_ttl_secs),
            negative_ttl: Duration::from_secs(config.negative_cache_ttl_secs),
        }
    }

    /// The caller's context, or UNAUTHENTICATED (bad token) / UNAVAILABLE (identity-svc
    /// or Keystone down).
    pub async fn authenticate(
        &self,
        credentials: Credentials,
    ) -> Result<RequestContext, tonic::Status> {
        let key = CacheKey {
            token: credentials.token.clone(),
            project_id: credentials.project_id.clone(),
            user_id: credentials.user_id.clone(),
            roles: credentials.roles.clone(),
        };
        let cached = self.cache.get(&key).await;
        magnum_telemetry::metrics::cache_lookup("caller_identities", cached.is_some());
        let verdict = match cached {
            Some(verdict) => verdict,
            None => {
                let verdict = self.ask(&credentials).await?;
                self.cache.insert(key, verdict.clone()).await;
                verdict
            }
        };
        match verdict {
            Verdict::Valid { identity, .. } => Ok(context_from(&identity, credentials)),
            Verdict::Refused { message, .. } => Err(tonic::Status::unauthenticated(message)),
        }
    }

    async fn ask(&self, credentials: &Credentials) -> Result<Verdict, tonic::Status> {
        let request = ValidateTokenRequest {
            token: credentials.token.clone(),
            noauth_hints: Some(NoAuthHints {
                project_id: credentials.project_id.clone(),
                user_id: credentials.user_id.clone(),
                roles: credentials.roles.clone(),
            }),
        };
        let mut request = tonic::Request::new(request);
        if let Ok(value) = credentials.request_id.parse() {
            request
                .metadata_mut()
                .insert(crate::metadata::REQUEST_ID, value);
        }
        let now = Instant::now();
        match self.client.clone().validate_token(request).await {
            Ok(response) => {
                let Some(identity) = response.into_inner().identity else {
                    return Err(tonic::Status::internal(
                        "identity service answered without an identity",
                    ));
                };
                let until = later(now, self.ttl.min(time_left(&identity)));
                Ok(Verdict::Valid {
                    identity: Arc::new(identity),
                    until,
                })
            }
            Err(status) if status.code() == tonic::Code::Unauthenticated => Ok(Verdict::Refused {
                message: status.message().to_owned(),
                until: later(now, self.negative_ttl),
            }),
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "token validation failed");
                Err(tonic::Status::unavailable(
                    "The identity service is not available; please retry later.",
                ))
            }
        }
    }
}

/// `now + ttl`, saturating: a huge configured TTL must not overflow `Instant`.
fn later(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl)
        .unwrap_or(now + Duration::from_secs(365 * 24 * 3600))
}

/// How long the token remains valid; no expiry means the TTL cap alone applies.
fn time_left(identity: &Identity) -> Duration {
    let Some(expires_at) = identity.expires_at else {
        return Duration::MAX;
    };
    let now = chrono::Utc::now().timestamp();
    let secs = expires_at.seconds.saturating_sub(now);
    Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

fn context_from(identity: &Identity, credentials: Credentials) -> RequestContext {
    RequestContext {
        user_id: identity.user_id.clone(),
        user_name: identity.user_name.clone(),
        project_id: identity.project_id.clone(),
        project_name: identity.project_name.clone(),
        roles: identity.roles.clone(),
        is_admin: identity.is_admin,
        request_id: credentials.request_id,
        auth_token: credentials.token,
    }
}
