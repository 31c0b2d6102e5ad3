-- The idempotency journal of writes (store/postgres/journal.rs): one row per
-- tenant \0 connection \0 Idempotency-Key (bytea: the key parts are separated by NUL).
CREATE TABLE ats.write_journal (
    key bytea PRIMARY KEY,
    doc jsonb NOT NULL
);
