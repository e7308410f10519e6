-- Desired configuration. Each object keeps its full specification as JSON in `spec`; the
-- columns beside it are copies of the fields that other objects reference or that must be
-- unique, so SQLite enforces references and uniqueness even if a check above it is missed.
-- References are deferred to COMMIT so that the store's own checks, which run just before it
-- and explain themselves better, see a violation first.

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('generation', 0);

CREATE TABLE nics (
  name TEXT PRIMARY KEY,
  device TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  resource_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE routes (
  name TEXT PRIMARY KEY,
  nic TEXT NOT NULL REFERENCES nics (name) DEFERRABLE INITIALLY DEFERRED,
  prefix TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  resource_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX routes_nic ON routes (nic);

CREATE TABLE local_address_pools (
  name TEXT PRIMARY KEY,
  nic TEXT NOT NULL REFERENCES nics (name) DEFERRABLE INITIALLY DEFERRED,
  spec TEXT NOT NULL,
  resource_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX local_address_pools_nic ON local_address_pools (nic);

CREATE TABLE health_checks (
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  resource_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE virtual_services (
  name TEXT PRIMARY KEY,
  nic TEXT NOT NULL REFERENCES nics (name) DEFERRABLE INITIALLY DEFERRED,
  local_address_pool TEXT NOT NULL REFERENCES local_address_pools (name) DEFERRABLE INITIALLY DEFERRED,
  health_check TEXT REFERENCES health_checks (name) DEFERRABLE INITIALLY DEFERRED,
  address TEXT NOT NULL,
  port INTEGER NOT NULL,
  protocol TEXT NOT NULL,
  spec TEXT NOT NULL,
  resource_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (address, port, protocol)
) STRICT;
CREATE INDEX virtual_services_nic ON virtual_services (nic);
CREATE INDEX virtual_services_pool ON virtual_services (local_address_pool);
CREATE INDEX virtual_services_health_check ON virtual_services (health_check);

-- Real servers belong to their service and go with it.
CREATE TABLE real_servers (
  virtual_service TEXT NOT NULL REFERENCES virtual_services (name) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  port INTEGER NOT NULL,
  spec TEXT NOT NULL,
  resource_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (virtual_service, name),
  UNIQUE (virtual_service, address, port)
) STRICT;

-- Singletons such as the session-sync settings, by name.
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  resource_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
