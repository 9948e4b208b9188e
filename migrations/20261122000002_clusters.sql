-- Clusters: the desired spec users asked for. Resource totals are derived from `spec` by the application in
-- the same transaction that writes it, so quota usage is a SUM over live rows (never a drifting counter).

CREATE TABLE clusters (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    name                text NOT NULL,
    engine              text NOT NULL DEFAULT 'eck',
    spec                jsonb NOT NULL,
    generation          bigint NOT NULL DEFAULT 1,
    nodes               bigint NOT NULL,
    cpu_millis          bigint NOT NULL,
    memory_mib          bigint NOT NULL,
    storage_gib         bigint NOT NULL,
    deletion_protection boolean NOT NULL DEFAULT false,
    created_by          uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz
);
-- A name is unique among a tenant's live clusters; a deleted cluster's name can be reused.
CREATE UNIQUE INDEX clusters_tenant_name_key ON clusters (tenant_id, name) WHERE deleted_at IS NULL;
CREATE INDEX clusters_tenant_live_idx ON clusters (tenant_id) WHERE deleted_at IS NULL;
