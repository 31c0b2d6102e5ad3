-- Documents by id (store/postgres/docs.rs) and the queues among them. Queue tables carry
-- status, next_attempt_at and a lease: a node claims due rows with FOR UPDATE SKIP LOCKED
-- and lease_until, saving a row releases it.
CREATE TABLE ats.meta (
    key text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE ats.automations (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text COLLATE "C" NOT NULL DEFAULT '',
    doc jsonb NOT NULL
);
CREATE INDEX automations_by_tenant ON ats.automations (tenant_id);
CREATE TABLE ats.stage_mappings (LIKE ats.automations INCLUDING ALL);
CREATE TABLE ats.push_defaults (LIKE ats.automations INCLUDING ALL);
CREATE TABLE ats.orders (LIKE ats.automations INCLUDING ALL);
CREATE TABLE ats.webhook_subscriptions (LIKE ats.automations INCLUDING ALL);

CREATE TABLE ats.webhook_deliveries (
    id text COLLATE "C" PRIMARY KEY,
    tenant_id text COLLATE "C" NOT NULL DEFAULT '',
    status text NOT NULL,
    next_attempt_at bigint NOT NULL,
    created_at bigint NOT NULL,
    lease_until bigint NOT NULL DEFAULT 0,
    doc jsonb NOT NULL
);
CREATE INDEX webhook_deliveries_due ON ats.webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_tenant ON ats.webhook_deliveries (tenant_id);
CREATE TABLE ats.firings (LIKE ats.webhook_deliveries INCLUDING ALL);
