-- The connectors' state import (store/postgres/state.rs) and the API key hashes
-- (api/auth.rs on PostgreSQL).
CREATE TABLE ats.connector_state (
    scope text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    sealed bytea NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE ats.api_keys (
    digest text COLLATE "C" PRIMARY KEY,
    doc jsonb NOT NULL
);
