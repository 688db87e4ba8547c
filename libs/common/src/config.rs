//! Layered configuration: built-in defaults, then a TOML file, then `MAGNUM_*`
//! environment variables (env wins). Each service reads its own section:
//! `[bay]` in the file is `MAGNUM_BAY__<KEY>` in the environment, and nested tables use
//! `__` again (`MAGNUM_BAY__BUS__URL`).
//!
//! The environment is passed in as a map so tests never touch the process environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
pub use figment::value::{Dict, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub const ENV_PREFIX: &str = "MAGNUM_";
/// Names the TOML file when `--config` is not given.
pub const CONFIG_FILE_ENV: &str = "MAGNUM_CONFIG";

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// The merged file and environment layers; sections are extracted from it.
#[derive(Debug, Clone)]
pub struct Loader {
    figment: Figment,
}

impl Loader {
    /// `file` (if any) must exist. `env` is usually `std::env::vars().collect()`.
    pub fn new(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::with_defaults(Dict::new(), file, env)
    }

    /// Like `new`, with `defaults` (e.g. the embedded mode's ports and paths) below the
    /// file and the environment but above each section type's own defaults.
    pub fn with_defaults(
        defaults: Dict,
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(defaults));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "config file {} not found",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Serialized::defaults(env_layer(env)));
        Ok(Self { figment })
    }

    /// The file named by `explicit`, else by `MAGNUM_CONFIG` in `env`, plus `env`.
    pub fn from_env(
        explicit: Option<PathBuf>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::from_env_with_defaults(Dict::new(), explicit, env)
    }

    /// `from_env` with embedded-mode defaults (see `with_defaults`).
    pub fn from_env_with_defaults(
        defaults: Dict,
        explicit: Option<PathBuf>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let file = explicit.or_else(|| {
            env.iter()
                .find(|(k, _)| k == CONFIG_FILE_ENV)
                .map(|(_, v)| PathBuf::from(v))
        });
        Self::with_defaults(defaults, file.as_deref(), env)
    }

    /// One section, on top of the section type's defaults.
    pub fn section<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        self.service_section(name, &[])
    }

    /// A service's section, where the top-level `shared` tables (e.g. `bus`, `auth`) act
    /// as defaults for the same-named tables inside it: `[bus] url` applies to every
    /// service, `[bay.bus] url` to bay-svc alone.
    pub fn service_section<T>(&self, name: &str, shared: &[&str]) -> Result<T, ConfigError>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        let mut figment = Figment::from(Serialized::defaults(T::default()));
        for table in shared {
            if let Ok(value) = self.figment.find_value(table) {
                figment = figment.merge(Serialized::default(table, value));
            }
        }
        figment
            .merge(self.figment.focus(name))
            .extract_lossy()
            .map_err(|e| ConfigError(format!("[{name}]: {e}")))
    }
}

/// `MAGNUM_BAY__BUS__URL=x` becomes `{bay: {bus: {url: x}}}`.
fn env_layer(env: impl IntoIterator<Item = (String, String)>) -> Dict {
    let mut root = Dict::new();
    for (key, raw) in env {
        let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if key == CONFIG_FILE_ENV {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.len() < 2 || path.iter().any(String::is_empty) {
            continue;
        }
        // Scalars stay text, converted to the field's type on extraction (lossy mode), so a
        // password like `007` keeps its zeros; arrays and tables (`[a, b]`) are parsed.
        let value = if raw.trim_start().starts_with(['[', '{']) {
            raw.parse::<Value>()
                .unwrap_or_else(|_| Value::from(raw.as_str()))
        } else {
            Value::from(raw.as_str())
        };
        insert(&mut root, &path, value);
    }
    root
}

fn insert(dict: &mut Dict, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if entry.as_dict().is_none() {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

/// For `Debug` of configs that hold secrets.
pub fn redacted(value: &Option<String>) -> &'static str {
    if value.is_some() {
        "<redacted>"
    } else {
        "<unset>"
    }
}

/// Environment variables of this process with our prefix, for `Loader::from_env`.
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect()
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
