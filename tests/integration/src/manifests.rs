//! Manifests after Magnum's own examples: a redis master pod (YAML), its service (JSON),
//! and an nginx replication controller (YAML).

pub const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: redis-master
  labels:
    name: redis-master
spec:
  containers:
    - name: master
      image: redis
      ports:
        - containerPort: 6379
";

pub const SERVICE: &str = r#"{"apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "redis", "labels": {"name": "redis"}},
  "spec": {"selector": {"name": "redis-master"},
           "ports": [{"port": 88, "targetPort": 6379, "protocol": "TCP"}]}}"#;

pub const RC: &str = "apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 2
  selector:
    app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx
";
