//! The loopback test Keystone that `scripts/keystone.sh` runs and provisions: its URL,
//! its users, logins and revocations.

use std::collections::HashMap;

/// The test Keystone's URL and users: from the environment (`MAGNUM_TEST_KEYSTONE_*`),
/// else from `.deps/keystone-env` as `scripts/keystone.sh` writes it.
pub struct Keystone {
    vars: HashMap<String, String>,
}

/// One provisioned user.
pub struct User {
    pub name: String,
    pub id: String,
    pub password: String,
    pub project: String,
    pub project_id: String,
    pub domain: String,
}

impl Keystone {
    pub fn get() -> Self {
        let mut vars: HashMap<String, String> = HashMap::new();
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.deps/keystone-env");
        if let Ok(text) = std::fs::read_to_string(file) {
            for line in text.lines() {
                if let Some((k, v)) = line.split_once('=')
                    && k.starts_with("MAGNUM_TEST_KEYSTONE_")
                {
                    vars.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        // The environment wins over the file.
        vars.extend(std::env::vars().filter(|(k, _)| k.starts_with("MAGNUM_TEST_KEYSTONE_")));
        assert!(
            vars.contains_key("MAGNUM_TEST_KEYSTONE_URL"),
            "no test Keystone: run `bash scripts/keystone.sh` (writes .deps/keystone-env) \
             or set MAGNUM_TEST_KEYSTONE_URL and the MAGNUM_TEST_KEYSTONE_<USER>_* variables"
        );
        Self { vars }
    }

    pub fn var(&self, name: &str) -> String {
        self.vars
            .get(&format!("MAGNUM_TEST_KEYSTONE_{name}"))
            .cloned()
            .unwrap_or_else(|| panic!("MAGNUM_TEST_KEYSTONE_{name} is not set"))
    }

    pub fn url(&self) -> String {
        self.var("URL")
    }

    /// `SERVICE`, `ALICE`, `BOB` or `ADMIN`.
    pub fn user(&self, key: &str) -> User {
        User {
            name: self.var(&format!("{key}_USER")),
            id: self.var(&format!("{key}_USER_ID")),
            password: self.var(&format!("{key}_PASSWORD")),
            project: self.var(&format!("{key}_PROJECT")),
            project_id: self.var(&format!("{key}_PROJECT_ID")),
            domain: self.var(&format!("{key}_USER_DOMAIN")),
        }
    }

    /// A fresh project-scoped token of `key`'s user.
    pub async fn token(&self, key: &str) -> String {
        let user = self.user(key);
        let body = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user.name, "domain": {"name": user.domain}, "password": user.password}}},
            "scope": {"project": {"name": user.project, "domain": {"name": user.domain}}}
        }});
        let response = http()
            .post(format!("{}/auth/tokens?nocatalog", self.url()))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "Keystone unreachable for the login of {}: {error}",
                    user.name
                )
            });
        assert_eq!(response.status(), 201, "login of {}", user.name);
        response
            .headers()
            .get("x-subject-token")
            .and_then(|token| token.to_str().ok())
            .unwrap_or_else(|| panic!("Keystone sent no X-Subject-Token for {}", user.name))
            .to_owned()
    }

    /// Revokes `token` (a token may revoke itself).
    pub async fn revoke(&self, token: &str) {
        let response = http()
            .delete(format!("{}/auth/tokens", self.url()))
            .header("x-auth-token", token)
            .header("x-subject-token", token)
            .send()
            .await
            .unwrap_or_else(|error| panic!("Keystone unreachable for a revocation: {error}"));
        assert_eq!(response.status(), 204, "revocation");
    }
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|error| panic!("cannot build an HTTP client: {error}"))
}
