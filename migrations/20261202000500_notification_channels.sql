-- Notification channels of a tenant (webhook or email) and the outbox of their deliveries.

CREATE TABLE notification_channels (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name             text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('webhook', 'email')),
    -- Webhook: where to POST, which body (`json` or the Slack-compatible `slack`) and the HMAC secret.
    -- The secret is write-only: only the sender reads it; no listing query selects it.
    webhook_url      text,
    webhook_format   text CHECK (webhook_format IN ('json', 'slack')),
    webhook_secret   text,
    -- Email: the recipients (SMTP settings are the platform's, not the channel's).
    email_recipients text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_channels_name_key UNIQUE (tenant_id, name),
    CONSTRAINT notification_channels_settings_check CHECK (
        (kind = 'webhook' AND webhook_url IS NOT NULL AND webhook_format IS NOT NULL
            AND webhook_secret IS NOT NULL AND cardinality(email_recipients) = 0)
        OR (kind = 'email' AND webhook_url IS NULL AND webhook_secret IS NULL
            AND cardinality(email_recipients) > 0)
    )
);

-- One row per (notification, channel): the outbox written in the transaction of what caused it, sent by the
-- delivery worker. `next_attempt_at` is both the retry schedule and the lease of a claimed row: a worker
-- that claims a row moves it past the send timeout, so a crashed worker's rows come back by themselves.
CREATE TABLE notification_deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id       uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    event            text NOT NULL CHECK (event IN ('firing', 'resolved', 'test')),
    -- The facts of the notification (tenant, cluster, rule, state, value, times, dashboard link).
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer NOT NULL CHECK (max_attempts > 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    last_attempt_at  timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- The worker's claim: due rows that are not finished.
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'sending');
-- The delivery log of a channel, newest first.
CREATE INDEX notification_deliveries_channel_idx ON notification_deliveries (channel_id, created_at DESC);
-- The purge of finished deliveries past the log's retention.
CREATE INDEX notification_deliveries_finished_idx ON notification_deliveries (updated_at)
    WHERE status IN ('delivered', 'failed');
