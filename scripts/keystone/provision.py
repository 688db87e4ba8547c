#!/usr/bin/python3
"""Provision the loopback test Keystone through its v3 API, idempotently, then write
the env file. Called by scripts/keystone.sh; standard library only.

Looks everything up before creating it, so a re-run changes nothing (and writes nothing
to Keystone's database). Exit status: 0 done, 3 the bootstrap admin's login was refused
(the caller may re-run `keystone-manage bootstrap` and try again), 1 anything else.

Usage: provision.py ENV_FILE      (environment: KS_URL, KS_ADMIN_USER, KS_ADMIN_PASSWORD,
                                   KS_ADMIN_PROJECT)
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

URL = os.environ.get("KS_URL", "http://127.0.0.1:5000/v3").rstrip("/")
BOOTSTRAP_USER = os.environ.get("KS_ADMIN_USER", "admin")
BOOTSTRAP_PASSWORD = os.environ["KS_ADMIN_PASSWORD"]
BOOTSTRAP_PROJECT = os.environ.get("KS_ADMIN_PROJECT", "admin")
TIMEOUT = 15  # seconds, per request

DOMAIN = "Default"
ROLES = ["admin", "member", "reader", "service"]
# Bootstrap makes these; a member's token then also carries reader, an admin's all three.
IMPLIED_ROLES = [("admin", "member"), ("member", "reader")]
PROJECTS = {
    "admin": "Bootstrap admin project",
    "service": "Service users (magnum-rs)",
    "tenant-a": "magnum-rs test tenant A",
    "tenant-b": "magnum-rs test tenant B",
}
# env-file prefix, user, password, project, roles on that project
USERS = [
    ("SERVICE", "magnum", "magnum-service-password", "service", ["admin", "service"]),
    ("ALICE", "alice", "alice-password", "tenant-a", ["member"]),
    ("BOB", "bob", "bob-password", "tenant-b", ["member"]),
    ("ADMIN", "cloud-admin", "cloud-admin-password", "admin", ["admin"]),
]
# One gateway per region, on fixed ports, so two client tests can run side by side.
REGIONS = [
    ("RegionOne", 19511),
    ("RegionTwo", 19512),
]
SERVICES = [
    ("container-infra", "magnum", "Container Infrastructure Management Service"),
    ("container", "magnum-legacy", "Magnum, legacy service type (python-magnumclient 1.x)"),
]
INTERFACES = ["public", "internal", "admin"]


def gateway_url(port):
    return "http://127.0.0.1:%d/v1" % port


class Refused(Exception):
    pass


class Keystone:
    def __init__(self):
        self.token = None
        self.changes = []

    def call(self, method, path, body=None, token=None, ok=(200, 201, 204)):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(URL + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        tok = token if token is not None else self.token
        if tok:
            req.add_header("X-Auth-Token", tok)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                status, headers, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, headers, raw = err.code, err.headers, err.read()
        except (urllib.error.URLError, OSError) as err:
            raise SystemExit("keystone: %s %s%s: %s" % (method, URL, path, err))
        if status not in ok:
            text = raw.decode("utf-8", "replace").strip().replace("\n", " ")
            raise SystemExit("keystone: %s %s -> HTTP %d: %s" % (method, path, status, text[:300]))
        doc = json.loads(raw) if raw and raw.strip() else {}
        return status, headers, doc

    def get(self, path):
        return self.call("GET", path)[2]

    # Every change is recorded as (kind, what) for the one-line summary.
    def post(self, path, body, what):
        self.changes.append(what)
        return self.call("POST", path, body)[2]

    def patch(self, path, body, what):
        self.changes.append(what)
        return self.call("PATCH", path, body)[2]

    def put(self, path, what):
        self.changes.append(what)
        self.call("PUT", path)

    def delete(self, path, what):
        self.changes.append(what)
        self.call("DELETE", path)

    def login(self, user, password, project):
        """A project-scoped token for user, or None when Keystone answers 401."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": user, "domain": {"name": DOMAIN}, "password": password}
                    },
                },
                "scope": {"project": {"name": project, "domain": {"name": DOMAIN}}},
            }
        }
        status, headers, doc = self.call("POST", "/auth/tokens?nocatalog", body, token="",
                                         ok=(201, 401))
        if status == 401:
            return None, None
        return headers["X-Subject-Token"], doc["token"]


def by_name(items):
    return {item["name"]: item for item in items}


def provision(ks):
    token, _ = ks.login(BOOTSTRAP_USER, BOOTSTRAP_PASSWORD, BOOTSTRAP_PROJECT)
    if token is None:
        raise Refused()
    ks.token = token

    # Domain
    domains = ks.get("/domains?name=" + DOMAIN)["domains"]
    if domains:
        domain = domains[0]
    else:
        domain = ks.post("/domains", {"domain": {"name": DOMAIN, "enabled": True}},
                         ("domain", DOMAIN))["domain"]
    domain_id = domain["id"]

    # Roles, and the implications that make a member a reader too
    roles = by_name(ks.get("/roles")["roles"])
    for name in ROLES:
        if name not in roles:
            roles[name] = ks.post("/roles", {"role": {"name": name}}, ("role", name))["role"]
    inferences = set()
    for inf in ks.get("/role_inferences").get("role_inferences", []):
        for implied in inf["implies"]:
            inferences.add((inf["prior_role"]["id"], implied["id"]))
    for prior, implied in IMPLIED_ROLES:
        pair = (roles[prior]["id"], roles[implied]["id"])
        if pair not in inferences:
            ks.put("/roles/%s/implies/%s" % pair, ("role inference", "%s implies %s" % (prior, implied)))

    # Projects
    projects = by_name(ks.get("/projects?domain_id=" + domain_id)["projects"])
    for name, description in PROJECTS.items():
        project = projects.get(name)
        if project is None:
            projects[name] = ks.post("/projects", {"project": {
                "name": name, "domain_id": domain_id, "description": description,
                "enabled": True}}, ("project", name))["project"]
        elif not project.get("enabled", True):
            ks.patch("/projects/" + project["id"], {"project": {"enabled": True}},
                     ("project", "enabled " + name))

    # Users (a password is only reset when the login below fails: resetting it would
    # revoke the tokens that running tests hold)
    users = by_name(ks.get("/users?domain_id=" + domain_id)["users"])
    for _, name, password, project, _ in USERS:
        user = users.get(name)
        project_id = projects[project]["id"]
        if user is None:
            users[name] = ks.post("/users", {"user": {
                "name": name, "domain_id": domain_id, "password": password,
                "default_project_id": project_id, "enabled": True}}, ("user", name))["user"]
        elif not user.get("enabled", True) or user.get("default_project_id") != project_id:
            ks.patch("/users/" + user["id"], {"user": {
                "enabled": True, "default_project_id": project_id}}, ("user", "updated " + name))

    # Role assignments
    assigned = set()
    for a in ks.get("/role_assignments")["role_assignments"]:
        if "user" in a and "project" in a.get("scope", {}):
            assigned.add((a["user"]["id"], a["scope"]["project"]["id"], a["role"]["id"]))
    for _, name, _, project, user_roles in USERS:
        for role in user_roles:
            key = (users[name]["id"], projects[project]["id"], roles[role]["id"])
            if key not in assigned:
                ks.put("/projects/%s/users/%s/roles/%s" % (key[1], key[0], key[2]),
                       ("role grant", "%s: %s on %s" % (name, role, project)))

    # Regions, services and their endpoints
    regions = {r["id"] for r in ks.get("/regions")["regions"]}
    for region, _ in REGIONS:
        if region not in regions:
            ks.post("/regions", {"region": {"id": region}}, ("region", region))
    services = ks.get("/services")["services"]
    endpoints = ks.get("/endpoints")["endpoints"]
    for stype, name, description in SERVICES:
        found = [s for s in services if s["type"] == stype and s.get("name") == name]
        if found:
            service = found[0]
            if not service.get("enabled", True):
                ks.patch("/services/" + service["id"], {"service": {"enabled": True}},
                         ("service", "enabled " + stype))
        else:
            service = ks.post("/services", {"service": {
                "type": stype, "name": name, "description": description, "enabled": True}},
                ("service", "%s (%s)" % (stype, name)))["service"]
        for region, port in REGIONS:
            url = gateway_url(port)
            for interface in INTERFACES:
                have = [e for e in endpoints if e["service_id"] == service["id"]
                        and e.get("region_id") == region and e["interface"] == interface]
                what = "%s %s %s" % (stype, region, interface)
                if not have:
                    ks.post("/endpoints", {"endpoint": {
                        "service_id": service["id"], "region_id": region,
                        "interface": interface, "url": url, "enabled": True}},
                        ("endpoint", what))
                    continue
                first, extra = have[0], have[1:]
                if first["url"] != url or not first.get("enabled", True):
                    ks.patch("/endpoints/" + first["id"], {"endpoint": {
                        "url": url, "enabled": True}}, ("endpoint", "fixed " + what))
                for e in extra:
                    ks.delete("/endpoints/" + e["id"], ("endpoint", "deleted duplicate " + what))

    # Every user logs in, scoped to its project. A password that does not work is reset;
    # that revokes the user's tokens, and Keystone compares revocations to the second, so
    # a token issued in the same second would be refused: log in again a second later.
    reset = False
    for _, name, password, project, _ in USERS:
        if ks.login(name, password, project)[0] is None:
            ks.patch("/users/" + users[name]["id"], {"user": {"password": password}},
                     ("password", "reset " + name))
            reset = True
    if reset:
        time.sleep(1.1)
    for attempt in (1, 2):
        info = {}
        for key, name, password, project, user_roles in USERS:
            token, body = ks.login(name, password, project)
            if token is None:
                raise SystemExit("keystone: %s cannot log in to %s" % (name, project))
            have = {r["name"].lower() for r in body["roles"]}
            missing = set(user_roles) - have
            if missing:
                raise SystemExit("keystone: %s's token on %s lacks the role %s" % (
                    name, project, ", ".join(sorted(missing))))
            info[key] = (name, users[name]["id"], password, project, projects[project]["id"],
                         token)
        # The service user validates alice's token; its catalog has both types, both regions.
        t0 = time.monotonic()
        status, doc = validate(info["SERVICE"][5], info["ALICE"][5])
        ms = (time.monotonic() - t0) * 1000
        if status == 200:
            break
        if attempt == 2 or status != 404:
            raise SystemExit("keystone: the service user could not validate alice's token: "
                             "HTTP %d" % status)
        time.sleep(1.1)  # a revocation in the same second as the login (see above)
    catalog = doc["token"].get("catalog", [])
    for stype, _, _ in SERVICES:
        regions_seen = {e.get("region_id") for s in catalog if s["type"] == stype
                        for e in s["endpoints"]}
        for region, _ in REGIONS:
            if region not in regions_seen:
                raise SystemExit("keystone: the catalog lacks %s in %s" % (stype, region))
    return domain, info, ms


def validate(service_token, user_token):
    """GET /v3/auth/tokens as the service user: (status, body of the checked token)."""
    req = urllib.request.Request(URL + "/auth/tokens", method="GET")
    req.add_header("Accept", "application/json")
    req.add_header("X-Auth-Token", service_token)
    req.add_header("X-Subject-Token", user_token)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, None
    except (urllib.error.URLError, OSError) as err:
        raise SystemExit("keystone: validating a token: %s" % err)


def write_env(path, domain, info):
    lines = [
        "# Written by scripts/keystone.sh: the loopback test Keystone and what it provisioned.",
        "# Sourceable (set -a; . .deps/keystone-env; set +a). The *_ID values change when",
        "# .deps/keystone is recreated; names and passwords are fixed test values.",
        "MAGNUM_TEST_KEYSTONE_URL=" + URL,
        "MAGNUM_TEST_KEYSTONE_DOMAIN=" + domain["name"],
        "MAGNUM_TEST_KEYSTONE_DOMAIN_ID=" + domain["id"],
        "MAGNUM_TEST_KEYSTONE_BOOTSTRAP_USER=" + BOOTSTRAP_USER,
        "MAGNUM_TEST_KEYSTONE_BOOTSTRAP_PASSWORD=" + BOOTSTRAP_PASSWORD,
        "MAGNUM_TEST_KEYSTONE_BOOTSTRAP_PROJECT=" + BOOTSTRAP_PROJECT,
    ]
    for key, (name, user_id, password, project, project_id, _) in info.items():
        p = "MAGNUM_TEST_KEYSTONE_%s_" % key
        lines += [
            p + "USER=" + name,
            p + "USER_ID=" + user_id,
            p + "PASSWORD=" + password,
            p + "PROJECT=" + project,
            p + "PROJECT_ID=" + project_id,
            p + "USER_DOMAIN=" + domain["name"],
            p + "PROJECT_DOMAIN=" + domain["name"],
        ]
    lines.append("MAGNUM_TEST_KEYSTONE_REGIONS=" + ",".join(r for r, _ in REGIONS))
    for i, (region, port) in enumerate(REGIONS, 1):
        p = "MAGNUM_TEST_KEYSTONE_REGION%d" % i
        lines += [
            p + "=" + region,
            p + "_GATEWAY_PORT=%d" % port,
            p + "_GATEWAY_URL=" + gateway_url(port),
        ]
    lines.append("MAGNUM_TEST_KEYSTONE_SERVICE_TYPES=" + ",".join(t for t, _, _ in SERVICES))
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: provision.py ENV_FILE")
    ks = Keystone()
    try:
        domain, info, ms = provision(ks)
    except Refused:
        print("keystone: the bootstrap admin '%s' cannot log in to project '%s'"
              % (BOOTSTRAP_USER, BOOTSTRAP_PROJECT), file=sys.stderr)
        return 3
    write_env(sys.argv[1], domain, info)
    if not ks.changes:
        changed = "nothing to change"
    elif len(ks.changes) <= 3:
        changed = "changed: " + "; ".join("%s %s" % c for c in ks.changes)
    else:
        counts = {}
        for kind, _ in ks.changes:
            counts[kind] = counts.get(kind, 0) + 1
        changed = "changed: " + ", ".join("%d %s%s" % (n, k, "s" if n > 1 else "")
                                          for k, n in counts.items())
    print("%s; %d users log in; a validation took %.0f ms" % (changed, len(info), ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
