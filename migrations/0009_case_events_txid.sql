-- The change feed (GET /v1/caseChanges) reads the history across cases in
-- the order of the writing transactions' ids, and only below the oldest
-- transaction still running: every such transaction has ended, so no event
-- can later appear behind a reader's cursor, however late it commits.
-- Existing rows all get this migration's transaction id; their order
-- within it is (case_id, version).
ALTER TABLE case_events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX case_events_txid ON case_events (txid, case_id, version);
