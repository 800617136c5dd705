-- Every row that belongs to a case carries the case's home region, so that
-- the tables can be distributed by region on a sharded PostgreSQL (Citus)
-- with each case and everything of it on one shard (README "Distributing
-- by region").
--
-- The home region is cases.region_code: the county the case was
-- registered in. No action changes it (a transfer moves a case to another
-- organization, which may be in another county, but the case stays the
-- county's case); from here on the database refuses to change it.
--
-- Each case-owned table gets region_code NOT NULL and a foreign key
-- (case_id, region_code) to cases (id, region_code), so that the database
-- itself guarantees that a child's region is its case's. Its primary key
-- and unique constraints take the region too (Citus wants the
-- distribution column in each), except those that are uniqueness guards
-- across regions (the claims' keys, case numbers): README says what they
-- become. Old rows are backfilled from their case, one statement per
-- table; the migration holds its tables locked throughout.
--
-- A table's indexes are dropped before its backfill and built again after
-- it: building an index is much cheaper than updating it once per row.
-- The backfill leaves each table's old row versions dead: VACUUM (ANALYZE)
-- the tables afterwards (README).

-- The home region never changes.
CREATE OR REPLACE FUNCTION cases_check_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version <> OLD.version + 1 THEN
        RAISE EXCEPTION 'case % version % must be followed by %, not %', OLD.id, OLD.version, OLD.version + 1, NEW.version
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.id <> OLD.id OR NEW.seq <> OLD.seq OR NEW.case_number <> OLD.case_number OR NEW.create_time <> OLD.create_time THEN
        RAISE EXCEPTION 'case % identity columns are immutable', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.region_code <> OLD.region_code THEN
        RAISE EXCEPTION 'case % region_code is its home region (%), which never changes', OLD.id, OLD.region_code
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

-- What the children's foreign keys reference.
ALTER TABLE cases ADD CONSTRAINT cases_id_region_key UNIQUE (id, region_code);

-- The history. The outbox's key into it goes first.
ALTER TABLE outbox
    DROP CONSTRAINT outbox_case_id_case_version_fkey,
    DROP CONSTRAINT outbox_case_id_case_version_key,
    DROP CONSTRAINT outbox_pkey;
ALTER TABLE case_events
    DROP CONSTRAINT case_events_case_id_fkey,
    DROP CONSTRAINT case_events_case_id_request_id_key,
    DROP CONSTRAINT case_events_pkey,
    ADD COLUMN region_code text NOT NULL DEFAULT '';
DROP INDEX case_events_txid;
ALTER TABLE case_events DISABLE TRIGGER case_events_append_only;
UPDATE case_events e SET region_code = c.region_code FROM cases c WHERE c.id = e.case_id;
ALTER TABLE case_events ENABLE TRIGGER case_events_append_only;
ALTER TABLE case_events
    ALTER COLUMN region_code DROP DEFAULT,
    ADD PRIMARY KEY (case_id, version, region_code),
    ADD CONSTRAINT case_events_case_id_request_id_key UNIQUE (case_id, request_id, region_code),
    ADD CONSTRAINT case_events_case_region_fkey FOREIGN KEY (case_id, region_code) REFERENCES cases (id, region_code);
CREATE INDEX case_events_txid ON case_events (txid, case_id, version);

-- The outbox.
DROP INDEX outbox_pending;
DROP INDEX outbox_dispatched;
ALTER TABLE outbox ADD COLUMN region_code text NOT NULL DEFAULT '';
UPDATE outbox o SET region_code = c.region_code FROM cases c WHERE c.id = o.case_id;
ALTER TABLE outbox
    ALTER COLUMN region_code DROP DEFAULT,
    ADD PRIMARY KEY (id, region_code),
    ADD CONSTRAINT outbox_case_id_case_version_key UNIQUE (case_id, case_version, region_code),
    ADD CONSTRAINT outbox_case_id_case_version_fkey FOREIGN KEY (case_id, case_version, region_code)
        REFERENCES case_events (case_id, version, region_code),
    ADD CONSTRAINT outbox_case_region_fkey FOREIGN KEY (case_id, region_code) REFERENCES cases (id, region_code);
CREATE INDEX outbox_pending ON outbox (id) WHERE deliver_time IS NULL;
CREATE INDEX outbox_dispatched ON outbox (deliver_time) WHERE deliver_time IS NOT NULL;

-- Sessions and follow-up visits.
ALTER TABLE case_sessions
    DROP CONSTRAINT case_sessions_case_id_fkey,
    DROP CONSTRAINT case_sessions_pkey,
    ADD COLUMN region_code text NOT NULL DEFAULT '';
UPDATE case_sessions s SET region_code = c.region_code FROM cases c WHERE c.id = s.case_id;
ALTER TABLE case_sessions
    ALTER COLUMN region_code DROP DEFAULT,
    ADD PRIMARY KEY (case_id, number, region_code),
    ADD CONSTRAINT case_sessions_case_region_fkey FOREIGN KEY (case_id, region_code) REFERENCES cases (id, region_code);

ALTER TABLE case_follow_ups
    DROP CONSTRAINT case_follow_ups_case_id_fkey,
    DROP CONSTRAINT case_follow_ups_pkey,
    ADD COLUMN region_code text NOT NULL DEFAULT '';
ALTER TABLE case_follow_ups DISABLE TRIGGER case_follow_ups_append_only;
UPDATE case_follow_ups f SET region_code = c.region_code FROM cases c WHERE c.id = f.case_id;
ALTER TABLE case_follow_ups ENABLE TRIGGER case_follow_ups_append_only;
ALTER TABLE case_follow_ups
    ALTER COLUMN region_code DROP DEFAULT,
    ADD PRIMARY KEY (case_id, number, region_code),
    ADD CONSTRAINT case_follow_ups_case_region_fkey FOREIGN KEY (case_id, region_code) REFERENCES cases (id, region_code);

-- The claims that make creation idempotent. Their keys stay unique across
-- regions: a request id or a court's case number sent again for another
-- county is the same claim, refused as such. The foreign keys stay
-- deferred: a claim is written before its case.
ALTER TABLE case_create_requests
    DROP CONSTRAINT case_create_requests_case_id_fkey,
    ADD COLUMN region_code text NOT NULL DEFAULT '';
UPDATE case_create_requests r SET region_code = c.region_code FROM cases c WHERE c.id = r.case_id;
ALTER TABLE case_create_requests
    ALTER COLUMN region_code DROP DEFAULT,
    ADD CONSTRAINT case_create_requests_case_region_fkey FOREIGN KEY (case_id, region_code) REFERENCES cases (id, region_code)
        DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE court_referral_claims
    DROP CONSTRAINT court_referral_claims_case_id_fkey,
    ADD COLUMN region_code text NOT NULL DEFAULT '';
UPDATE court_referral_claims r SET region_code = c.region_code FROM cases c WHERE c.id = r.case_id;
ALTER TABLE court_referral_claims
    ALTER COLUMN region_code DROP DEFAULT,
    ADD CONSTRAINT court_referral_claims_case_region_fkey FOREIGN KEY (case_id, region_code) REFERENCES cases (id, region_code)
        DEFERRABLE INITIALLY DEFERRED;

-- Webhook deliveries: each is of one case version. They had no foreign
-- key to their case; now they have one.
ALTER TABLE webhook_deliveries
    DROP CONSTRAINT webhook_deliveries_endpoint_id_case_id_case_version_key,
    DROP CONSTRAINT webhook_deliveries_pkey,
    ADD COLUMN region_code text NOT NULL DEFAULT '';
UPDATE webhook_deliveries d SET region_code = c.region_code FROM cases c WHERE c.id = d.case_id;
ALTER TABLE webhook_deliveries
    ALTER COLUMN region_code DROP DEFAULT,
    ADD PRIMARY KEY (id, region_code),
    ADD CONSTRAINT webhook_deliveries_endpoint_id_case_id_case_version_key UNIQUE (endpoint_id, case_id, case_version, region_code),
    ADD CONSTRAINT webhook_deliveries_case_region_fkey FOREIGN KEY (case_id, region_code) REFERENCES cases (id, region_code);

-- The audit trail: a record about a case (cases/{id}, or below it)
-- carries the case's region, any other record ''. No foreign key: a
-- refused request may name a case that does not exist.
ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_pkey,
    ADD COLUMN region_code text NOT NULL DEFAULT '';
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
UPDATE audit_events a SET region_code = c.region_code FROM cases c
WHERE a.resource LIKE 'cases/%'
    AND c.id = CASE WHEN a.resource ~ '^cases/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}($|/)'
        THEN substr(a.resource, 7, 36)::uuid END;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
ALTER TABLE audit_events
    ALTER COLUMN region_code DROP DEFAULT,
    ADD PRIMARY KEY (id, region_code);

-- The tallies' deltas: the region is in the row already.
ALTER TABLE case_tally_deltas
    DROP CONSTRAINT case_tally_deltas_pkey,
    ADD PRIMARY KEY (id, region_code);
