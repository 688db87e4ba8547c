//! HTTP routing and the REST verbs, generic over the kinds in [`crate::kinds::KINDS`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::{Attributes, Principal, authorize, check_escalation};
use crate::error::{Cause, Error, Result};
use crate::kinds::{KINDS, KindSpec, labels_of, lookup};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{BoundToken, Key, Store};
use crate::validation::{metadata_map_causes, name_causes, unknown_fields};
use crate::{Options, UnknownFields};

/// Shared server state.
#[derive(Debug)]
pub struct App {
    store: Mutex<Store>,
    admin_token: String,
    options: Options,
}

/// Namespaces every real cluster has.
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Largest request body the real server accepts (3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

impl App {
    /// A fresh state with the system namespaces already there.
    pub fn new(admin_token: String, options: Options) -> Arc<Self> {
        let mut store = Store::default();
        for ns in SYSTEM_NAMESPACES {
            let rv = store.next_rv();
            store.put(
                ns_key(ns),
                json!({
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {
                        "name": ns,
                        "uid": uuid::Uuid::new_v4().to_string(),
                        "resourceVersion": rv,
                        "creationTimestamp": now(),
                        "labels": { "kubernetes.io/metadata.name": ns },
                    },
                    "spec": { "finalizers": ["kubernetes"] },
                    "status": { "phase": "Active" },
                }),
            );
        }
        Arc::new(Self {
            store: Mutex::new(store),
            admin_token,
            options,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave a half-written map entry, so the data
        // is still consistent; keep serving.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The axum router serving the fake API.
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(dispatch).with_state(app)
}

/// The current time as the API server writes timestamps.
pub(crate) fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn ns_key(name: &str) -> Key {
    Key {
        group: "",
        version: "v1",
        resource: "namespaces",
        namespace: String::new(),
        name: name.to_owned(),
    }
}

fn key_of(spec: &KindSpec, namespace: &str, name: &str) -> Key {
    Key {
        group: spec.group,
        version: spec.version,
        resource: spec.resource,
        namespace: if spec.namespaced {
            namespace.to_owned()
        } else {
            String::new()
        },
        name: name.to_owned(),
    }
}

async fn dispatch(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return Error::bad_request(format!("request body: {e}")).into_response(),
    };
    match handle(&app, &parts.method, &parts.uri, &parts.headers, &bytes) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(method = %parts.method, uri = %parts.uri, error = %e, "refused");
            e.into_response()
        }
    }
}

fn authenticate(app: &App, headers: &HeaderMap) -> Result<Principal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(Error::unauthorized)?;
    if token == app.admin_token {
        return Ok(Principal::Admin);
    }
    let st = app.lock();
    let bound = st.tokens.get(token).ok_or_else(Error::unauthorized)?;
    // A bound token dies with its service account (same uid) and at its expiry.
    let sa_alive = st
        .get("", "serviceaccounts", &bound.namespace, &bound.name)
        .is_some_and(|sa| sa["metadata"]["uid"].as_str() == Some(bound.uid.as_str()));
    if !sa_alive || bound.expires <= chrono::Utc::now() {
        return Err(Error::unauthorized());
    }
    Ok(Principal::ServiceAccount {
        namespace: bound.namespace.clone(),
        name: bound.name.clone(),
    })
}

fn json_response(code: StatusCode, body: &Value, warnings: &[String]) -> Response {
    let mut resp = (code, axum::Json(body)).into_response();
    for w in warnings {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - {w:?}")) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

fn handle(
    app: &Arc<App>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response> {
    let who = authenticate(app, headers)?;
    let query: HashMap<String, String> = Query::try_from_uri(uri)
        .map(|Query(q)| q)
        .map_err(|e| Error::bad_request(format!("invalid query: {e}")))?;
    let segs: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    if method == Method::GET
        && let Some(doc) = discovery(&segs, uri)
    {
        return Ok(json_response(StatusCode::OK, &doc, &[]));
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] if !rest.is_empty() => ("", "v1", rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return Err(Error::no_such_path()),
    };
    let t = resolve(group, version, rest)?;
    let req = Req {
        app,
        who: &who,
        query: &query,
        headers,
        body,
        t: &t,
    };
    type Op = fn(&Req<'_>) -> Result<Response>;
    let (verb, op): (&str, Op) = match (method.clone(), t.name.is_empty(), t.sub.as_str()) {
        (Method::GET, true, "") => {
            if query.get("watch").is_some_and(|w| w == "true" || w == "1") {
                return Err(Error::method_not_allowed(
                    "watch is not implemented by the fake API server",
                ));
            }
            ("list", list)
        }
        (Method::GET, false, "") => ("get", get),
        (Method::POST, true, "") => ("create", create),
        (Method::POST, false, "token") if t.spec.resource == "serviceaccounts" => {
            ("create", token_request)
        }
        (Method::GET, false, "scale") if t.spec.resource == "replicationcontrollers" => {
            ("get", get_scale)
        }
        (Method::PUT, false, "scale") if t.spec.resource == "replicationcontrollers" => {
            ("update", replace_scale)
        }
        (Method::PATCH, false, "scale") if t.spec.resource == "replicationcontrollers" => {
            ("patch", patch_scale)
        }
        (Method::PUT, false, "") => ("update", replace),
        (Method::PATCH, false, "") => ("patch", patch),
        (Method::DELETE, false, "") => ("delete", delete),
        (Method::DELETE, true, "") if t.spec.verbs.contains(&"deletecollection") => {
            ("deletecollection", delete_collection)
        }
        (_, _, "") => {
            return Err(Error::method_not_allowed(format!(
                "the server does not allow this method on the requested resource ({method} {})",
                uri.path()
            )));
        }
        _ => return Err(Error::no_such_path()),
    };
    // Authorisation comes first, as on the real server: a caller learns nothing about a
    // request it may not make.
    req.authorize(verb)?;
    if query.contains_key("dryRun") {
        return Err(Error::bad_request(
            "dryRun is not implemented by the fake API server",
        ));
    }
    op(&req)
}

/// A resolved resource URL.
#[derive(Debug)]
struct Target {
    spec: &'static KindSpec,
    /// URL namespace; empty for cluster-scoped kinds and all-namespace lists.
    namespace: String,
    name: String,
    sub: String,
}

fn resolve(group: &str, version: &str, rest: &[&str]) -> Result<Target> {
    let owned = |s: Option<&&str>| s.map(|s| (*s).to_owned()).unwrap_or_default();
    if let ["namespaces", ns, resource, tail @ ..] = rest
        && let Some(spec) = lookup(group, version, resource).filter(|s| s.namespaced)
    {
        if tail.len() > 2 {
            return Err(Error::no_such_path());
        }
        return Ok(Target {
            spec,
            namespace: (*ns).to_owned(),
            name: owned(tail.first()),
            sub: owned(tail.get(1)),
        });
    }
    let [resource, tail @ ..] = rest else {
        return Err(Error::no_such_path());
    };
    let spec = lookup(group, version, resource).ok_or_else(Error::no_such_path)?;
    // A namespaced kind without a namespace in the URL is only a cross-namespace list.
    if tail.len() > 2 || (spec.namespaced && !tail.is_empty()) {
        return Err(Error::no_such_path());
    }
    Ok(Target {
        spec,
        namespace: String::new(),
        name: owned(tail.first()),
        sub: owned(tail.get(1)),
    })
}

struct Req<'a> {
    app: &'a Arc<App>,
    who: &'a Principal,
    query: &'a HashMap<String, String>,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    t: &'a Target,
}

impl Req<'_> {
    fn spec(&self) -> &'static KindSpec {
        self.t.spec
    }

    fn authorize(&self, verb: &str) -> Result<()> {
        let t = self.t;
        // The real request-info resolver treats /api/v1/namespaces/{name} as being in
        // namespace {name}, so a RoleBinding there can grant `get` on its own namespace.
        let namespace = if t.spec.resource == "namespaces" {
            t.name.as_str()
        } else {
            t.namespace.as_str()
        };
        let st = self.app.lock();
        authorize(
            &st,
            self.who,
            &Attributes {
                verb,
                group: t.spec.group,
                resource: t.spec.resource,
                subresource: &t.sub,
                namespace,
                name: &t.name,
            },
        )
    }

    fn not_found(&self) -> Error {
        Error::not_found(self.spec().group, self.spec().resource, &self.t.name)
    }

    fn key(&self, name: &str) -> Key {
        key_of(self.spec(), &self.t.namespace, name)
    }

    /// The body as a JSON object, with the media type checked.
    fn json_body(&self, accepted: &[&str]) -> Result<Value> {
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json");
        let media = ct.split(';').next().unwrap_or_default().trim();
        if !accepted.contains(&media) {
            return Err(Error::unsupported_media_type(media));
        }
        let v: Value = serde_json::from_slice(self.body).map_err(|e| {
            Error::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?;
        Ok(v)
    }

    fn field_validation(&self) -> Result<UnknownFields> {
        let requested = match self.query.get("fieldValidation").map(String::as_str) {
            None | Some("") => None,
            Some("Strict") => Some(UnknownFields::Strict),
            Some("Warn") => Some(UnknownFields::Warn),
            Some("Ignore") => Some(UnknownFields::Ignore),
            Some(other) => {
                return Err(Error::bad_request(format!(
                    "fieldValidation parameter unsupported: {other:?}"
                )));
            }
        };
        Ok(match (self.app.options.unknown_fields, requested) {
            // The default strict mode refuses unknown fields whatever the request asks.
            (UnknownFields::Strict, _) => UnknownFields::Strict,
            (default, None) => default,
            (_, Some(asked)) => asked,
        })
    }
}

/// Decodes a request object into the kind's type and applies the server's rules. `old` is
/// the stored object on update/patch. Returns the object to store (without a new
/// resourceVersion) and any warnings.
fn admit(
    req: &Req<'_>,
    st: &Store,
    mut obj: Value,
    old: Option<&Value>,
) -> Result<(Value, Vec<String>)> {
    let spec = req.spec();
    let t = req.t;
    let Some(o) = obj.as_object_mut() else {
        return Err(Error::bad_request(
            "Object 'Kind' is missing in the request body",
        ));
    };
    let api_version = spec.api_version();
    match o.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {}
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(Error::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
    }
    match o.get("kind").and_then(Value::as_str) {
        None | Some("") => {}
        Some(k) if k == spec.kind => {}
        Some(k) => {
            return Err(Error::bad_request(format!(
                "{k} in version {:?} cannot be handled as a {}: the kind in the data does not match the expected kind",
                spec.version, spec.kind
            )));
        }
    }
    o.insert("apiVersion".into(), json!(api_version));
    o.insert("kind".into(), json!(spec.kind));
    let meta = o
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(meta) = meta.as_object_mut() else {
        return Err(Error::bad_request(format!(
            "{} in version {:?} cannot be handled as a {}: metadata must be an object",
            spec.kind, spec.version, spec.kind
        )));
    };
    if spec.namespaced {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {}
            Some(ns) if ns == t.namespace => {}
            Some(_) => {
                return Err(Error::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        meta.insert("namespace".into(), json!(t.namespace));
    } else {
        meta.remove("namespace");
    }
    let body_name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if old.is_some() && body_name != t.name {
        return Err(Error::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({})",
            t.name
        )));
    }

    let decoded = (spec.decode)(&obj).map_err(|e| {
        Error::bad_request(format!(
            "{} in version {:?} cannot be handled as a {}: {e}",
            spec.kind, spec.version, spec.kind
        ))
    })?;
    let unknown = unknown_fields(&obj, &decoded);
    let mut warnings = Vec::new();
    if !unknown.is_empty() {
        let msgs: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field {f:?}"))
            .collect();
        match req.field_validation()? {
            UnknownFields::Strict => {
                return Err(Error::bad_request(format!(
                    "strict decoding error: {}",
                    msgs.join(", ")
                )));
            }
            UnknownFields::Warn => warnings = msgs,
            UnknownFields::Ignore => {}
        }
    } else {
        // Still refuse a bad fieldValidation value.
        req.field_validation()?;
    }
    let mut v = decoded;

    // Admission (NamespaceLifecycle) runs before validation, as on the real server.
    if spec.namespaced && old.is_none() {
        let ns = st
            .get("", "namespaces", "", &t.namespace)
            .ok_or_else(|| Error::not_found("", "namespaces", &t.namespace))?;
        if ns["status"]["phase"] == "Terminating" {
            let name = v["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            return Err(Error::forbidden(
                spec.group,
                spec.resource,
                &name,
                &format!(
                    "unable to create new content in namespace {} because it is being terminated",
                    t.namespace
                ),
            ));
        }
    }

    let mut causes = Vec::new();
    let meta = &mut v["metadata"];
    match old {
        None => {
            if meta["name"].as_str().is_none_or(str::is_empty) {
                match meta["generateName"].as_str().filter(|g| !g.is_empty()) {
                    Some(prefix) => meta["name"] = json!(format!("{prefix}{}", random_suffix())),
                    None => causes.push(Cause::required(
                        "metadata.name",
                        "name or generateName is required",
                    )),
                }
            }
            if meta["resourceVersion"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
            {
                return Err(Error::internal(
                    "resourceVersion should not be set on objects to be created",
                ));
            }
            meta["uid"] = json!(uuid::Uuid::new_v4().to_string());
            meta["creationTimestamp"] = json!(now());
            if let Some(m) = meta.as_object_mut() {
                m.remove("deletionTimestamp");
                m.remove("deletionGracePeriodSeconds");
                m.remove("generation");
            }
            if spec.generation {
                meta["generation"] = json!(1);
            }
            if spec.status_subresource
                && let Some(o) = v.as_object_mut()
            {
                o.remove("status");
            }
        }
        Some(old) => {
            let name = t.name.as_str();
            let old_rv = old["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default();
            match meta["resourceVersion"].as_str().filter(|s| !s.is_empty()) {
                // Stricter than most real kinds (which allow an unconditional PUT): every
                // update must say which version it read, so lost updates show up in tests.
                None => causes.push(Cause::invalid(
                    "metadata.resourceVersion",
                    "0",
                    "must be specified for an update",
                )),
                Some(rv) if rv != old_rv => {
                    return Err(Error::stale(spec.group, spec.resource, name));
                }
                Some(_) => {}
            }
            let old_uid = old["metadata"]["uid"].as_str().unwrap_or_default();
            if let Some(uid) = meta["uid"].as_str().filter(|u| !u.is_empty())
                && uid != old_uid
            {
                return Err(Error::conflict(
                    spec.group,
                    spec.resource,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {old_uid}"
                    ),
                ));
            }
            for f in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "generation",
            ] {
                match old["metadata"].get(f) {
                    Some(x) => meta[f] = x.clone(),
                    None => {
                        if let Some(m) = meta.as_object_mut() {
                            m.remove(f);
                        }
                    }
                }
            }
            if spec.status_subresource {
                match old.get("status") {
                    Some(s) => v["status"] = s.clone(),
                    None => {
                        if let Some(o) = v.as_object_mut() {
                            o.remove("status");
                        }
                    }
                }
            }
        }
    }
    (spec.default)(&mut v, old, st)?;
    if spec.generation
        && let Some(old) = old
        && spec_part(&v) != spec_part(old)
    {
        let g = old["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        v["metadata"]["generation"] = json!(g);
    }

    let name = v["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !name.is_empty() {
        causes.extend(name_causes(spec.name_rule, "metadata.name", &name));
    }
    causes.extend(metadata_map_causes(&v["metadata"]));
    causes.extend((spec.validate)(&v, old, st));
    if !causes.is_empty() {
        return Err(Error::invalid(spec.group, spec.kind, &name, causes));
    }
    (spec.simulate)(&mut v, old, st);
    Ok((v, warnings))
}

/// Everything outside `metadata` and `status`: what `generation` tracks.
fn spec_part(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("metadata");
        o.remove("status");
    }
    v
}

/// A random 5-character suffix, as `generateName` and generated volume names use.
pub(crate) fn random_suffix() -> String {
    // The real generator's alphabet (no vowels, no confusable characters), 5 characters.
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

fn create(req: &Req<'_>) -> Result<Response> {
    let spec = req.spec();
    let body = req.json_body(&["application/json"])?;
    let mut st = req.app.lock();
    let (mut v, warnings) = admit(req, &st, body, None)?;
    let name = v["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let key = req.key(&name);
    check_escalation(&st, req.who, spec.resource, &req.t.namespace, &name, &v)?;
    if st
        .get(spec.group, spec.resource, &key.namespace, &name)
        .is_some()
    {
        return Err(Error::already_exists(spec.group, spec.resource, &name));
    }
    v["metadata"]["resourceVersion"] = json!(st.next_rv());
    st.put(key, v.clone());
    Ok(json_response(StatusCode::CREATED, &v, &warnings))
}

fn get(req: &Req<'_>) -> Result<Response> {
    let st = req.app.lock();
    let v = st
        .get(
            req.spec().group,
            req.spec().resource,
            &req.key("").namespace,
            &req.t.name,
        )
        .ok_or_else(|| req.not_found())?;
    Ok(json_response(StatusCode::OK, v, &[]))
}

fn list_items(req: &Req<'_>, st: &Store) -> Result<Vec<(Key, Value)>> {
    let spec = req.spec();
    let labels = LabelSelector::parse(req.query.get("labelSelector").map_or("", String::as_str))?;
    let fields = FieldSelector::parse(req.query.get("fieldSelector").map_or("", String::as_str))?;
    let ns = (spec.namespaced && !req.t.namespace.is_empty()).then_some(req.t.namespace.as_str());
    Ok(st
        .list(spec.group, spec.resource, ns)
        .filter(|(k, v)| labels.matches(&labels_of(v)) && fields.matches(&k.name, &k.namespace))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect())
}

fn list(req: &Req<'_>) -> Result<Response> {
    let spec = req.spec();
    let st = req.app.lock();
    let mut items = list_items(req, &st)?;
    // Pagination: the continue token is the last returned key, opaque to clients.
    if let Some(cont) = req.query.get("continue").filter(|c| !c.is_empty()) {
        let (ns, name) = cont
            .split_once('/')
            .ok_or_else(|| Error::bad_request("continue key is not valid"))?;
        items.retain(|(k, _)| (k.namespace.as_str(), k.name.as_str()) > (ns, name));
    }
    let mut meta = json!({ "resourceVersion": st.current_rv() });
    if let Some(limit) = req
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        && items.len() > limit
    {
        let remaining = items.len() - limit;
        items.truncate(limit);
        if let Some((k, _)) = items.last() {
            meta["continue"] = json!(format!("{}/{}", k.namespace, k.name));
            meta["remainingItemCount"] = json!(remaining);
        }
    }
    let items: Vec<Value> = items.into_iter().map(|(_, v)| strip_type(v)).collect();
    let body = json!({
        "kind": format!("{}List", spec.kind),
        "apiVersion": spec.api_version(),
        "metadata": meta,
        "items": items,
    });
    Ok(json_response(StatusCode::OK, &body, &[]))
}

/// List items from the real server carry no `apiVersion`/`kind`.
fn strip_type(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("apiVersion");
        o.remove("kind");
    }
    v
}

/// Stores an update of an existing object (shared by PUT and PATCH).
fn update_with(req: &Req<'_>, st: &mut Store, new: Value, old: &Value) -> Result<Response> {
    let (mut v, warnings) = admit(req, st, new, Some(old))?;
    check_escalation(
        st,
        req.who,
        req.spec().resource,
        &req.t.namespace,
        &req.t.name,
        &v,
    )?;
    // A no-op write does not bump the resourceVersion, as on the real server.
    if &v == old {
        return Ok(json_response(StatusCode::OK, old, &warnings));
    }
    v["metadata"]["resourceVersion"] = json!(st.next_rv());
    st.put(req.key(&req.t.name), v.clone());
    Ok(json_response(StatusCode::OK, &v, &warnings))
}

fn current(req: &Req<'_>, st: &Store) -> Result<Value> {
    st.get(
        req.spec().group,
        req.spec().resource,
        &req.key("").namespace,
        &req.t.name,
    )
    .cloned()
    .ok_or_else(|| req.not_found())
}

fn replace(req: &Req<'_>) -> Result<Response> {
    let body = req.json_body(&["application/json"])?;
    let mut st = req.app.lock();
    // PUT cannot create these kinds (AllowCreateOnUpdate is false for all of them).
    let old = current(req, &st)?;
    update_with(req, &mut st, body, &old)
}

const MERGE_PATCH: &str = "application/merge-patch+json";
const STRATEGIC_PATCH: &str = "application/strategic-merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";

/// The patch media type and document of a PATCH request.
fn patch_body(req: &Req<'_>) -> Result<(String, Value)> {
    let ct = req
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim().to_owned();
    if media == "application/apply-patch+yaml" {
        return Err(Error::unsupported_media_type(
            "application/apply-patch+yaml (server-side apply is not implemented by the fake API server)",
        ));
    }
    let doc = req.json_body(&[MERGE_PATCH, STRATEGIC_PATCH, JSON_PATCH])?;
    Ok((media, doc))
}

/// `base` with the patch applied; `(group, kind)` name the object in a failed JSON patch.
fn apply_patch(
    req: &Req<'_>,
    (media, patch_doc): (&str, Value),
    base: &Value,
    (group, kind): (&str, &str),
) -> Result<Value> {
    let mut doc = base.clone();
    match media {
        JSON_PATCH => {
            let ops: json_patch::Patch = serde_json::from_value(patch_doc)
                .map_err(|e| Error::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut doc, &ops).map_err(|e| {
                Error::invalid(
                    group,
                    kind,
                    &req.t.name,
                    vec![Cause::invalid(
                        "",
                        "",
                        &format!("the JSON patch could not be applied: {e}"),
                    )],
                )
            })?;
        }
        STRATEGIC_PATCH => {
            crate::strategic_merge::apply(&mut doc, &patch_doc, kind)
                .map_err(Error::bad_request)?;
        }
        _ => {
            if !patch_doc.is_object() {
                return Err(Error::bad_request("a merge patch must be a JSON object"));
            }
            json_patch::merge(&mut doc, &patch_doc);
        }
    }
    Ok(doc)
}

fn patch(req: &Req<'_>) -> Result<Response> {
    let (media, patch_doc) = patch_body(req)?;
    let spec = req.spec();
    let mut st = req.app.lock();
    let old = current(req, &st)?;
    let doc = apply_patch(req, (&media, patch_doc), &old, (spec.group, spec.kind))?;
    update_with(req, &mut st, doc, &old)
}

/// `GET .../replicationcontrollers/{name}/scale`.
fn get_scale(req: &Req<'_>) -> Result<Response> {
    let st = req.app.lock();
    let rc = current(req, &st)?;
    Ok(json_response(
        StatusCode::OK,
        &crate::replication_controller::scale_of(&rc),
        &[],
    ))
}

/// `PUT .../replicationcontrollers/{name}/scale`.
fn replace_scale(req: &Req<'_>) -> Result<Response> {
    let body = req.json_body(&["application/json"])?;
    let mut st = req.app.lock();
    let old = current(req, &st)?;
    scale_to(req, &mut st, body, &old)
}

/// `PATCH .../replicationcontrollers/{name}/scale` (the patch applies to the `Scale`).
fn patch_scale(req: &Req<'_>) -> Result<Response> {
    let (media, patch_doc) = patch_body(req)?;
    let mut st = req.app.lock();
    let old = current(req, &st)?;
    let base = crate::replication_controller::scale_of(&old);
    let doc = apply_patch(req, (&media, patch_doc), &base, ("autoscaling", "Scale"))?;
    scale_to(req, &mut st, doc, &old)
}

/// Writes `spec.replicas` of the replication controller `old` from a `Scale` body.
fn scale_to(req: &Req<'_>, st: &mut Store, mut scale: Value, old: &Value) -> Result<Response> {
    use k8s_openapi::api::autoscaling::v1::Scale;
    let Some(o) = scale.as_object_mut() else {
        return Err(Error::bad_request(
            "Object 'Kind' is missing in the request body",
        ));
    };
    for (field, want) in [("apiVersion", "autoscaling/v1"), ("kind", "Scale")] {
        match o.get(field).and_then(Value::as_str) {
            None | Some("") => {
                o.insert(field.into(), json!(want));
            }
            Some(v) if v == want => {}
            Some(v) => {
                return Err(Error::bad_request(format!(
                    "Scale: {field} {v:?} does not match the expected {want:?}"
                )));
            }
        }
    }
    let typed: Scale = serde_json::from_value(scale.clone()).map_err(|e| {
        Error::bad_request(format!(
            "Scale in version \"v1\" cannot be handled as a Scale: {e}"
        ))
    })?;
    let round_trip = serde_json::to_value(&typed).map_err(|e| Error::internal(e.to_string()))?;
    let unknown = unknown_fields(&scale, &round_trip);
    if !unknown.is_empty() && req.field_validation()? == UnknownFields::Strict {
        let msgs: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field {f:?}"))
            .collect();
        return Err(Error::bad_request(format!(
            "strict decoding error: {}",
            msgs.join(", ")
        )));
    }
    let name = &req.t.name;
    if let Some(body_name) = typed.metadata.name.as_deref().filter(|n| !n.is_empty())
        && body_name != name
    {
        return Err(Error::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    // A Scale's resourceVersion is a precondition on the replication controller's.
    if let Some(rv) = typed
        .metadata
        .resource_version
        .as_deref()
        .filter(|r| !r.is_empty())
        && Some(rv) != old["metadata"]["resourceVersion"].as_str()
    {
        return Err(Error::stale("", "replicationcontrollers", name));
    }
    let replicas = typed.spec.and_then(|s| s.replicas).unwrap_or(0);
    if replicas < 0 {
        return Err(Error::invalid(
            "autoscaling",
            "Scale",
            name,
            vec![Cause::invalid_raw(
                "spec.replicas",
                &replicas.to_string(),
                "must be greater than or equal to 0",
            )],
        ));
    }
    let mut rc = old.clone();
    rc["spec"]["replicas"] = json!(replicas);
    // The ordinary update path bumps the generation and has the controller report.
    let (mut v, _) = admit(req, st, rc, Some(old))?;
    if &v != old {
        v["metadata"]["resourceVersion"] = json!(st.next_rv());
        st.put(req.key(name), v.clone());
    }
    Ok(json_response(
        StatusCode::OK,
        &crate::replication_controller::scale_of(&v),
        &[],
    ))
}

/// The request's `DeleteOptions`: the body, with the query parameters a client may send
/// instead (`gracePeriodSeconds`, `propagationPolicy`, `orphanDependents`).
fn delete_options(req: &Req<'_>) -> Result<Value> {
    let mut opts = if req.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(req.body)
            .map_err(|e| Error::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    if !opts.is_object() {
        return Err(Error::bad_request("invalid DeleteOptions: not an object"));
    }
    if let Some(g) = req.query.get("gracePeriodSeconds") {
        let g: i64 = g
            .parse()
            .map_err(|_| Error::bad_request(format!("invalid gracePeriodSeconds: {g:?}")))?;
        opts["gracePeriodSeconds"] = json!(g);
    }
    if let Some(p) = req.query.get("propagationPolicy") {
        opts["propagationPolicy"] = json!(p);
    }
    if let Some(o) = req.query.get("orphanDependents") {
        opts["orphanDependents"] = json!(o == "true");
    }
    if opts["dryRun"].as_array().is_some_and(|a| !a.is_empty()) {
        return Err(Error::bad_request(
            "dryRun is not implemented by the fake API server",
        ));
    }
    match opts["propagationPolicy"].as_str() {
        None | Some("Orphan" | "Background" | "Foreground") => Ok(opts),
        Some(other) => Err(Error::invalid(
            "meta.k8s.io",
            "DeleteOptions",
            "",
            vec![Cause::not_supported(
                "propagationPolicy",
                other,
                &["Foreground", "Background", "Orphan", "nil"],
            )],
        )),
    }
}

/// DeleteOptions preconditions.
fn check_preconditions(req: &Req<'_>, opts: &Value, old: &Value) -> Result<()> {
    let spec = req.spec();
    let pre = &opts["preconditions"];
    let meta = &old["metadata"];
    for (field, label) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        if let Some(want) = pre[field].as_str()
            && Some(want) != meta[field].as_str()
        {
            return Err(Error::conflict(
                spec.group,
                spec.resource,
                &req.t.name,
                &format!(
                    "Precondition failed: {label} in precondition: {want}, {label} in object meta: {}",
                    meta[field].as_str().unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

fn delete(req: &Req<'_>) -> Result<Response> {
    let spec = req.spec();
    let opts = delete_options(req)?;
    let mut st = req.app.lock();
    let old = current(req, &st)?;
    check_preconditions(req, &opts, &old)?;
    if spec.resource == "namespaces" {
        return delete_namespace(req, &mut st, old);
    }
    st.remove(&req.key(&req.t.name));
    let answer = deleted_answer(spec, &req.t.name, old, &opts, &mut st);
    Ok(json_response(StatusCode::OK, &answer, &[]))
}

/// What DELETE answers. Where the real server only marks the object (graceful pod
/// deletion, an `orphan` or `foregroundDeletion` finalizer for the garbage collector), the
/// answer is the marked object; the fake's kubelet and garbage collector finish at once, so
/// the object is already gone from the store.
fn deleted_answer(
    spec: &KindSpec,
    name: &str,
    mut obj: Value,
    opts: &Value,
    st: &mut Store,
) -> Value {
    let policy = match (
        opts["propagationPolicy"].as_str(),
        opts["orphanDependents"].as_bool(),
    ) {
        (Some(p), _) => p,
        (None, Some(true)) => "Orphan",
        (None, Some(false)) => "Background",
        (None, None) if spec.orphan_by_default => "Orphan",
        (None, None) => "Background",
    };
    let finalizer = match policy {
        "Orphan" => Some("orphan"),
        "Foreground" => Some("foregroundDeletion"),
        _ => None,
    };
    // A pod not bound to a node, or already finished, is deleted at once.
    let running = obj["spec"]["nodeName"]
        .as_str()
        .is_some_and(|n| !n.is_empty())
        && !matches!(
            obj["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        );
    let grace = if spec.graceful_delete && running {
        opts["gracePeriodSeconds"]
            .as_i64()
            .or_else(|| obj["spec"]["terminationGracePeriodSeconds"].as_i64())
            .unwrap_or(30)
            .max(0)
    } else {
        0
    };
    if finalizer.is_none() && grace == 0 {
        if spec.return_deleted_object {
            return obj;
        }
        return success_status(
            spec,
            name,
            obj["metadata"]["uid"].as_str().unwrap_or_default(),
        );
    }
    let at = chrono::Utc::now() + chrono::Duration::seconds(grace);
    let meta = &mut obj["metadata"];
    meta["deletionTimestamp"] = json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    meta["deletionGracePeriodSeconds"] = json!(grace);
    if let Some(f) = finalizer {
        let mut finalizers: Vec<Value> = meta["finalizers"].as_array().cloned().unwrap_or_default();
        if !finalizers.iter().any(|x| x == f) {
            finalizers.push(json!(f));
        }
        meta["finalizers"] = json!(finalizers);
    }
    meta["resourceVersion"] = json!(st.next_rv());
    obj
}

fn success_status(spec: &KindSpec, name: &str, uid: &str) -> Value {
    let mut details = json!({ "name": name, "kind": spec.resource, "uid": uid });
    if !spec.group.is_empty() {
        details["group"] = json!(spec.group);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

/// A namespace goes to `Terminating` (the answer shows it), its content is removed at once,
/// and it is removed when `Options::namespace_termination` has passed (at once by default).
fn delete_namespace(req: &Req<'_>, st: &mut Store, mut ns: Value) -> Result<Response> {
    let name = req.t.name.clone();
    if ns["status"]["phase"] == "Terminating" {
        return Ok(json_response(StatusCode::OK, &ns, &[]));
    }
    ns["status"]["phase"] = json!("Terminating");
    ns["metadata"]["deletionTimestamp"] = json!(now());
    ns["metadata"]["resourceVersion"] = json!(st.next_rv());
    st.purge_namespace(&name);
    let grace = req.app.options.namespace_termination;
    if grace.is_zero() {
        st.remove(&ns_key(&name));
    } else {
        st.put(ns_key(&name), ns.clone());
        let app = Arc::clone(req.app);
        let uid = ns["metadata"]["uid"].clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let mut st = app.lock();
            // Only remove the namespace this deletion was for.
            if st
                .get("", "namespaces", "", &name)
                .is_some_and(|n| n["metadata"]["uid"] == uid)
            {
                st.purge_namespace(&name);
                st.remove(&ns_key(&name));
            }
        });
    }
    Ok(json_response(StatusCode::OK, &ns, &[]))
}

fn delete_collection(req: &Req<'_>) -> Result<Response> {
    let spec = req.spec();
    let mut st = req.app.lock();
    let items = list_items(req, &st)?;
    for (k, _) in &items {
        st.remove(k);
    }
    let body = json!({
        "kind": format!("{}List", spec.kind),
        "apiVersion": spec.api_version(),
        "metadata": { "resourceVersion": st.current_rv() },
        "items": items.into_iter().map(|(_, v)| strip_type(v)).collect::<Vec<_>>(),
    });
    Ok(json_response(StatusCode::OK, &body, &[]))
}

/// `POST .../serviceaccounts/{name}/token`: issues a bearer token bound to the account.
fn token_request(req: &Req<'_>) -> Result<Response> {
    use k8s_openapi::api::authentication::v1::TokenRequest;
    let mut body = req.json_body(&["application/json"])?;
    let Some(o) = body.as_object_mut() else {
        return Err(Error::bad_request(
            "Object 'Kind' is missing in the request body",
        ));
    };
    for (field, want) in [
        ("apiVersion", "authentication.k8s.io/v1"),
        ("kind", "TokenRequest"),
    ] {
        match o.get(field).and_then(Value::as_str) {
            None | Some("") => {
                o.insert(field.into(), json!(want));
            }
            Some(v) if v == want => {}
            Some(v) => {
                return Err(Error::bad_request(format!(
                    "TokenRequest: {field} {v:?} does not match the expected {want:?}"
                )));
            }
        }
    }
    let decoded = serde_json::from_value::<TokenRequest>(body.clone()).map_err(|e| {
        Error::bad_request(format!(
            "TokenRequest in version \"v1\" cannot be handled as a TokenRequest: {e}"
        ))
    })?;
    let typed = serde_json::to_value(&decoded).map_err(|e| Error::internal(e.to_string()))?;
    let unknown = unknown_fields(&body, &typed);
    if !unknown.is_empty() && req.field_validation()? == UnknownFields::Strict {
        let msgs: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field {f:?}"))
            .collect();
        return Err(Error::bad_request(format!(
            "strict decoding error: {}",
            msgs.join(", ")
        )));
    }
    let t = req.t;
    let mut causes = Vec::new();
    let secs = decoded.spec.expiration_seconds.unwrap_or(3600);
    if secs < 600 {
        causes.push(Cause::invalid(
            "spec.expirationSeconds",
            &secs.to_string(),
            "may not specify a duration less than 10 minutes",
        ));
    }
    if secs > 1 << 32 {
        causes.push(Cause::invalid(
            "spec.expirationSeconds",
            &secs.to_string(),
            "may not specify a duration larger than 2^32 seconds",
        ));
    }
    if decoded.spec.bound_object_ref.is_some() {
        causes.push(Cause::forbidden(
            "spec.boundObjectRef",
            "binding to an object is not implemented by the fake API server",
        ));
    }
    if !causes.is_empty() {
        return Err(Error::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            &t.name,
            causes,
        ));
    }
    let mut st = req.app.lock();
    let sa = st
        .get("", "serviceaccounts", &t.namespace, &t.name)
        .ok_or_else(|| Error::not_found("", "serviceaccounts", &t.name))?;
    let uid = sa["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let token = format!(
        "fake-sa.{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let expires = chrono::Utc::now() + Duration::from_secs(secs.unsigned_abs());
    st.tokens.insert(
        token.clone(),
        BoundToken {
            namespace: t.namespace.clone(),
            name: t.name.clone(),
            uid,
            expires,
        },
    );
    let audiences = if decoded.spec.audiences.is_empty() {
        vec!["https://kubernetes.default.svc.cluster.local".to_owned()]
    } else {
        decoded.spec.audiences.clone()
    };
    let resp = json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "metadata": { "name": t.name, "namespace": t.namespace, "creationTimestamp": now() },
        "spec": { "audiences": audiences, "expirationSeconds": secs, "boundObjectRef": null },
        "status": {
            "token": token,
            "expirationTimestamp": expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        },
    });
    Ok(json_response(StatusCode::CREATED, &resp, &[]))
}

fn resource_list(group: &str, version: &str) -> Option<Value> {
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let mut resources: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .map(|k| {
            json!({
                "name": k.resource,
                "singularName": k.singular,
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": k.verbs,
            })
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    if group.is_empty() {
        resources.push(json!({
            "name": "serviceaccounts/token",
            "singularName": "",
            "namespaced": true,
            "group": "authentication.k8s.io",
            "version": "v1",
            "kind": "TokenRequest",
            "verbs": ["create"],
        }));
        resources.push(json!({
            "name": "replicationcontrollers/scale",
            "singularName": "",
            "namespaced": true,
            "group": "autoscaling",
            "version": "v1",
            "kind": "Scale",
            "verbs": ["get", "patch", "update"],
        }));
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}

fn api_group(name: &str) -> Option<Value> {
    let version = KINDS.iter().find(|k| k.group == name)?.version;
    let gv = json!({ "groupVersion": format!("{name}/{version}"), "version": version });
    Some(json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": [gv.clone()],
        "preferredVersion": gv,
    }))
}

fn discovery(segs: &[&str], uri: &Uri) -> Option<Value> {
    match segs {
        ["version"] => Some(json!({
            "major": "1",
            "minor": "33",
            "gitVersion": "v1.33.0-fake",
            "gitCommit": "",
            "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "",
            "compiler": "rustc",
            "platform": "linux/amd64",
        })),
        ["api"] => Some(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{
                "clientCIDR": "0.0.0.0/0",
                "serverAddress": uri.authority().map(|a| a.to_string()).unwrap_or_default(),
            }],
        })),
        ["api", "v1"] => resource_list("", "v1"),
        ["apis"] => {
            let mut names: Vec<&str> = KINDS
                .iter()
                .map(|k| k.group)
                .filter(|g| !g.is_empty())
                .collect();
            names.dedup();
            Some(json!({
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": names.into_iter().filter_map(api_group).collect::<Vec<_>>(),
            }))
        }
        ["apis", g] => api_group(g),
        ["apis", g, v] => resource_list(g, v),
        _ => None,
    }
}
