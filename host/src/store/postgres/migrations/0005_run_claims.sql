-- One unfinished run per (connection, sync), enforced by the database for every node, and
-- the lease that lets another node end a run whose node died (store/postgres/store.rs).
ALTER TABLE ats.runs ADD COLUMN kind text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE ats.runs ADD COLUMN lease_until bigint NOT NULL DEFAULT 0;
UPDATE ats.runs SET kind = doc->>'kind';
CREATE UNIQUE INDEX one_unfinished_run_per_sync ON ats.runs (connection_id, kind)
    WHERE state IN ('queued', 'running');
