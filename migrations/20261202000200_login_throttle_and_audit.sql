-- Login throttling without lock-out, and bounded audit rows of failed logins (issue 9).

-- Addresses each account logged in from successfully: failures of that account from elsewhere do not slow
-- these down. `account` is the throttle key 'email:<lower email>', `address` 'addr:<ip>' (IPv6: its /64).
-- Rows not used for 90 days are purged by the hourly housekeeping.
CREATE TABLE login_known_sources (
    account    text NOT NULL,
    address    text NOT NULL,
    last_ok_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, address)
);
CREATE INDEX login_known_sources_last_ok_idx ON login_known_sources (last_ok_at);

-- Repeated failed logins are counted into the open row of the same target and address (audit::record_repeated),
-- and failed-login rows are purged after ESAAS_AUDIT_FAILED_LOGIN_RETENTION_DAYS.
CREATE INDEX audit_log_failed_login_target_idx ON audit_log (target, source_addr, at DESC)
    WHERE action = 'login.failed';
CREATE INDEX audit_log_failed_login_at_idx ON audit_log (at) WHERE action = 'login.failed';
