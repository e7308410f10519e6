-- Where the cluster-wide objects (health checks, virtual services, real servers) came from when
-- they are a copy of an etcd prefix (`--config-store etcd://…`): the prefix, the etcd revision
-- the node has applied, and the revision of the prefix's last-write key writers compare
-- against. Empty when the objects are this node's own (the SQLite configuration store).
CREATE TABLE config_source (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
