-- What the inspector last saw inside each cluster's Elasticsearch: one row per cluster (bounded), the latest
-- snapshot as JSONB (health detail, nodes, indices, shards, the explained problems), when it was taken, and
-- the last error with its time, so pages show "as of ..." and why Elasticsearch cannot be reached while
-- keeping the last known data.
CREATE TABLE es_inspections (
    cluster_id     uuid PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
    -- When the snapshot below was taken (NULL: never reached).
    observed_at    timestamptz,
    -- green | yellow | red ('' before the first success).
    status         text NOT NULL DEFAULT '',
    health         jsonb NOT NULL DEFAULT '{}'::jsonb,
    nodes          jsonb NOT NULL DEFAULT '[]'::jsonb,
    indices        jsonb NOT NULL DEFAULT '[]'::jsonb,
    shards         jsonb NOT NULL DEFAULT '[]'::jsonb,
    problems       jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- The last failed poll: its kind (unreachable, authentication, timeout, ...) and message; NULL after a success.
    error_kind     text,
    error          text,
    error_at       timestamptz,
    -- Scheduling: when the next poll is due, and until when someone watches the dashboard (polled faster).
    next_poll_at   timestamptz NOT NULL DEFAULT now(),
    watched_until  timestamptz,
    polls          bigint NOT NULL DEFAULT 0
);
CREATE INDEX es_inspections_due_idx ON es_inspections (next_poll_at);
