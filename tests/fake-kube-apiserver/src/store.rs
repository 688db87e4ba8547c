//! The in-memory object store: one map for every kind, keyed by
//! (group, version, resource, namespace, name), plus the issued service-account tokens.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// Store key. Cluster-scoped objects have an empty namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// API group.
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Resource (plural).
    pub resource: &'static str,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

/// A token issued by TokenRequest, bound to one service account object (by uid, so a
/// deleted-and-recreated account does not inherit old tokens, as with real bound tokens).
#[derive(Debug, Clone)]
pub struct BoundToken {
    /// Service account namespace.
    pub namespace: String,
    /// Service account name.
    pub name: String,
    /// Service account uid at issue time.
    pub uid: String,
    /// Expiry.
    pub expires: chrono::DateTime<chrono::Utc>,
}

/// Everything the fake holds. Guarded by one mutex in [`crate::server::App`]; no request
/// holds it across an await point.
#[derive(Debug, Default)]
pub struct Store {
    objects: BTreeMap<Key, Value>,
    last_rv: u64,
    /// Issued service-account tokens by token string.
    pub tokens: HashMap<String, BoundToken>,
}

impl Store {
    /// The next resourceVersion: one counter for all kinds, like etcd's revision.
    pub fn next_rv(&mut self) -> String {
        self.last_rv += 1;
        self.last_rv.to_string()
    }

    /// The current resourceVersion (for list metadata).
    pub fn current_rv(&self) -> String {
        self.last_rv.to_string()
    }

    fn key(group: &str, resource: &str, namespace: &str, name: &str) -> Option<Key> {
        // Keys use the kind table's 'static strings; an unknown resource has no objects.
        let spec = crate::kinds::KINDS
            .iter()
            .find(|k| k.group == group && k.resource == resource)?;
        Some(Key {
            group: spec.group,
            version: spec.version,
            resource: spec.resource,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }

    /// One object.
    pub fn get(&self, group: &str, resource: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&Self::key(group, resource, namespace, name)?)
    }

    /// Inserts or replaces an object.
    pub fn put(&mut self, key: Key, value: Value) {
        self.objects.insert(key, value);
    }

    /// Removes an object.
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        self.objects.remove(key)
    }

    /// The objects of one resource, in one namespace (or all, with `None`), in key order.
    pub fn list<'a>(
        &'a self,
        group: &'a str,
        resource: &'a str,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a Key, &'a Value)> + 'a {
        self.objects.iter().filter(move |(k, _)| {
            k.group == group && k.resource == resource && namespace.is_none_or(|n| k.namespace == n)
        })
    }

    /// The objects of one resource in one namespace.
    pub fn in_namespace<'a>(
        &'a self,
        group: &'a str,
        resource: &'a str,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.list(group, resource, Some(namespace)).map(|(_, v)| v)
    }

    /// Removes every namespaced object in `namespace` (what the namespace controller does
    /// while a namespace is terminating).
    pub fn purge_namespace(&mut self, namespace: &str) {
        self.objects.retain(|k, _| k.namespace != namespace);
    }
}
