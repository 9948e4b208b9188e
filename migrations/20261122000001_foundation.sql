-- Foundation: users, sessions, tenants, members, quotas, login throttling, audit log.

CREATE TABLE users (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL,
    display_name      text NOT NULL DEFAULT '',
    password_hash     text NOT NULL,
    is_platform_admin boolean NOT NULL DEFAULT false,
    disabled_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Server-side sessions. The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash       bytea NOT NULL UNIQUE,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token       text NOT NULL,
    active_tenant_id uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    revoked_at       timestamptz,
    source_addr      text,
    user_agent       text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE tenants (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug             text NOT NULL CONSTRAINT tenants_slug_key UNIQUE,
    name             text NOT NULL,
    max_clusters     bigint NOT NULL CHECK (max_clusters >= 0),
    max_nodes        bigint NOT NULL CHECK (max_nodes >= 0),
    max_cpu_millis   bigint NOT NULL CHECK (max_cpu_millis >= 0),
    max_memory_mib   bigint NOT NULL CHECK (max_memory_mib >= 0),
    max_storage_gib  bigint NOT NULL CHECK (max_storage_gib >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE sessions ADD CONSTRAINT sessions_active_tenant_fk
    FOREIGN KEY (active_tenant_id) REFERENCES tenants (id) ON DELETE SET NULL;

CREATE TABLE tenant_members (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_members_user_idx ON tenant_members (user_id);

-- Failed login attempts, for throttling per account (key 'email:<lower email>') and per address ('addr:<ip>').
CREATE TABLE login_failures (
    id         bigserial PRIMARY KEY,
    key        text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_at_idx ON login_failures (key, at);

-- Every mutating action, from the UI or the API.
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    actor         text NOT NULL,
    tenant_id     uuid REFERENCES tenants (id) ON DELETE SET NULL,
    action        text NOT NULL,
    target_kind   text NOT NULL DEFAULT '',
    target        text NOT NULL DEFAULT '',
    outcome       text NOT NULL DEFAULT 'ok',
    before        jsonb,
    after         jsonb,
    request_id    text,
    source_addr   text
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, id DESC);
