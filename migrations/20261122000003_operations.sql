-- Cluster lifecycle: operations (immutable requests with a state machine), observed status, pods, history,
-- and the admin-managed allow-list of Elasticsearch versions.

-- What the reconciler last applied and what the observer last saw, per cluster.
ALTER TABLE clusters
    ADD COLUMN restart_trigger      text,
    -- Production clusters keep an odd number of master-eligible nodes (from the template; custom specs: true).
    ADD COLUMN production           boolean NOT NULL DEFAULT true,
    ADD COLUMN applied_generation   bigint NOT NULL DEFAULT 0,
    ADD COLUMN applied_at           timestamptz,
    ADD COLUMN health               text NOT NULL DEFAULT 'unknown'
        CHECK (health IN ('green', 'yellow', 'red', 'unknown')),
    ADD COLUMN phase                text NOT NULL DEFAULT '',
    ADD COLUMN available_nodes      integer NOT NULL DEFAULT 0,
    ADD COLUMN observed_version     text NOT NULL DEFAULT '',
    ADD COLUMN observed_generation  bigint NOT NULL DEFAULT 0,
    ADD COLUMN conditions           jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN in_progress          jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN kibana_health        text NOT NULL DEFAULT '',
    ADD COLUMN status_observed_at   timestamptz,
    ADD COLUMN deleting             boolean NOT NULL DEFAULT false;

CREATE TABLE operations (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    cluster_id        uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind              text NOT NULL
        CHECK (kind IN ('create', 'scale', 'resize', 'restart', 'upgrade', 'reconfigure', 'delete')),
    state             text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'applying', 'waiting', 'succeeded', 'failed', 'cancelled')),
    params            jsonb NOT NULL DEFAULT '{}',
    spec_before       jsonb,
    spec_after        jsonb,
    target_generation bigint NOT NULL,
    -- metadata.generation of the Elasticsearch object right after this operation was applied; the operation
    -- completes when ECK's status.observedGeneration reaches it and the cluster is Ready.
    k8s_generation    bigint,
    steps             jsonb NOT NULL DEFAULT '[]',
    last_error        text,
    stalled_reason    text,
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    requested_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    applied_at        timestamptz,
    last_progress_at  timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);
-- One active operation per cluster, enforced by the database.
CREATE UNIQUE INDEX operations_one_active_key ON operations (cluster_id)
    WHERE state IN ('pending', 'applying', 'waiting');
CREATE INDEX operations_cluster_idx ON operations (cluster_id, created_at DESC);
CREATE INDEX operations_tenant_idx ON operations (tenant_id, created_at DESC);
CREATE INDEX operations_runnable_idx ON operations (next_attempt_at) WHERE state IN ('pending', 'applying');
CREATE INDEX operations_waiting_idx ON operations (cluster_id) WHERE state = 'waiting';

-- Pods as the observer last saw them.
CREATE TABLE cluster_pods (
    cluster_id   uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    name         text NOT NULL,
    node_set     text NOT NULL DEFAULT '',
    component    text NOT NULL DEFAULT 'elasticsearch',
    phase        text NOT NULL DEFAULT '',
    ready        boolean NOT NULL DEFAULT false,
    restarts     integer NOT NULL DEFAULT 0,
    node_name    text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    started_at   timestamptz,
    observed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster_id, name)
);

-- Status history for charts, written at a bounded rate (on change, or at most every few seconds).
CREATE TABLE cluster_status_history (
    id             bigserial PRIMARY KEY,
    cluster_id     uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    at             timestamptz NOT NULL DEFAULT now(),
    health         text NOT NULL,
    nodes_ready    integer NOT NULL,
    nodes_desired  integer NOT NULL
);
CREATE INDEX cluster_status_history_idx ON cluster_status_history (cluster_id, at DESC);

-- Elasticsearch versions tenants may choose (admin-managed).
CREATE TABLE es_versions (
    version    text PRIMARY KEY,
    enabled    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO es_versions (version) VALUES ('8.18.8'), ('8.19.7'), ('9.1.6'), ('9.2.1');

-- When the portal last had a working connection to Kubernetes (its watches were up), and since when it has not.
-- The observer keeps this single row current; dashboards use it to say since when the status is stale.
CREATE TABLE kube_contact (
    id                boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_ok_at        timestamptz NOT NULL DEFAULT now(),
    unreachable_since timestamptz
);
INSERT INTO kube_contact DEFAULT VALUES;
