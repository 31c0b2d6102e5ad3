-- Uploaded connector builds, content-addressed, so every node can load what one node took
-- (runtime/follow.rs).
CREATE TABLE ats.connector_builds (
    sha256 text COLLATE "C" PRIMARY KEY,
    wasm bytea NOT NULL,
    stored_at bigint NOT NULL
);
