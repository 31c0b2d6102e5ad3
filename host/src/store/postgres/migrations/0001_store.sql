-- The records of the host's Store (see store/postgres/mod.rs): one table per sled tree,
-- keyed like the sled keys. Key columns use the "C" collation so ordering (cursors,
-- newest-first runs) is byte order, as on sled, whatever the database's locale.
CREATE TABLE ats.tenants (
    id text COLLATE "C" PRIMARY KEY,
    doc jsonb NOT NULL
);
CREATE TABLE ats.connections (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text COLLATE "C" NOT NULL,
    doc jsonb NOT NULL,
    -- sealed by the host's SecretBox: never readable from the database alone
    sealed_secrets bytea
);
CREATE TABLE ats.runs (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text COLLATE "C" NOT NULL,
    connection_id text COLLATE "C" NOT NULL,
    state text NOT NULL,
    doc jsonb NOT NULL
);
CREATE INDEX runs_by_connection ON ats.runs (connection_id, id);
CREATE TABLE ats.checkpoints (
    connection_id text COLLATE "C" NOT NULL,
    kind text COLLATE "C" NOT NULL,
    doc jsonb NOT NULL,
    PRIMARY KEY (connection_id, kind)
);
CREATE TABLE ats.jobs (
    connection_id text COLLATE "C" NOT NULL,
    remote_id text COLLATE "C" NOT NULL,
    tenant_id text COLLATE "C" NOT NULL,
    updated_at bigint NOT NULL,
    doc jsonb NOT NULL,
    PRIMARY KEY (connection_id, remote_id)
);
CREATE TABLE ats.stages (LIKE ats.jobs INCLUDING ALL);
CREATE TABLE ats.applications (LIKE ats.jobs INCLUDING ALL);
CREATE TABLE ats.candidates (LIKE ats.jobs INCLUDING ALL);
CREATE TABLE ats.reference_lists (
    connection_id text COLLATE "C" NOT NULL,
    kind text COLLATE "C" NOT NULL,
    entries jsonb NOT NULL,
    PRIMARY KEY (connection_id, kind)
);
-- One ordered log across nodes: appends take a transaction-scoped advisory lock, so seq is
-- gap-free and a reader never sees seq n+1 before seq n has committed.
CREATE TABLE ats.events (
    seq bigint PRIMARY KEY,
    tenant_id text COLLATE "C" NOT NULL,
    doc jsonb NOT NULL
);
CREATE TABLE ats.connector_versions (
    connector_id text COLLATE "C" PRIMARY KEY,
    doc jsonb NOT NULL
);
