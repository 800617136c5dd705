-- Downloads of cases or figures as spreadsheets are recorded as their own
-- kind of audit event, EXPORT: who downloaded what, with which query, and
-- how many rows.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_kind_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_kind_check
    CHECK (kind IN ('WRITE', 'LOGIN', 'LOGIN_FAILED', 'LOGOUT', 'READ_PERSONAL_DATA', 'PERMISSION_DENIED', 'EXPORT')) NOT VALID;
ALTER TABLE audit_events VALIDATE CONSTRAINT audit_events_kind_check;
