-- Issue 9: a corrective change (scale, resize, reconfigure, upgrade) supersedes an operation that is waiting
-- (possibly stalled) on the same cluster; the older one ends in the new terminal state `superseded`.
-- Still one active operation per cluster: `operations_one_active_key` is unchanged.
ALTER TABLE operations DROP CONSTRAINT operations_state_check;
ALTER TABLE operations ADD CONSTRAINT operations_state_check
    CHECK (state IN ('pending', 'applying', 'waiting', 'succeeded', 'failed', 'cancelled', 'superseded'));
