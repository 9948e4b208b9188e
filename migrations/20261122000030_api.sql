-- REST API v1: bearer tokens and idempotency keys.

-- API tokens. The token itself (`esaas_<43 base62 characters>`, 256 random bits) is shown once at creation;
-- only its SHA-256 is stored (a fast hash is right for a high-entropy secret). `prefix` is the first 8
-- characters after `esaas_`, shown in lists so people can tell their tokens apart.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    prefix       text NOT NULL,
    token_hash   bytea NOT NULL CONSTRAINT api_tokens_token_hash_key UNIQUE,
    -- When set, the token only reaches this tenant (other tenants answer 404).
    tenant_id    uuid REFERENCES tenants (id) ON DELETE CASCADE,
    -- Read-only tokens may only GET.
    read_only    boolean NOT NULL DEFAULT false,
    expires_at   timestamptz NOT NULL DEFAULT now() + interval '90 days',
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Written at most once a minute per token.
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at DESC);

-- Responses of mutating API requests that carried an `Idempotency-Key`, per token, kept 24 hours. A row is
-- inserted (status NULL) before the request runs, so a concurrent duplicate sees it and is refused with 409;
-- the response is filled in when the request finishes. Responses that carried a secret (a new token,
-- credentials) are not kept: `secret` is set and their body stays NULL.
CREATE TABLE idempotency_keys (
    token_id     uuid NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    key          text NOT NULL,
    -- SHA-256 of method, path and query, and body: the same key with another request is refused (422).
    request_hash bytea NOT NULL,
    status       smallint,
    headers      jsonb,
    body         bytea,
    secret       boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
