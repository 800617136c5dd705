-- Statistics from summary rows instead of a scan of every case.
--
-- Every case counts in exactly one tally: the one of its region, intake
-- month (in the zone of case_tally_settings), organization, mediator,
-- dispute type and source, where it adds its figures (a one in the count of
-- its state, of "accepted", of "succeeded", its agreement's amount, ...).
-- A statement that inserts, updates or deletes cases appends the change of
-- the figures to case_tally_deltas in the same transaction, from the
-- statement's transition tables: one INSERT per statement, never an UPDATE
-- of a shared row, so concurrent actions do not wait for each other. The
-- service folds the deltas into case_tallies (every dimension) and
-- case_tally_rollups (one dimension at a time, the shape dashboards ask
-- for) in the background, in one transaction that deletes the deltas it
-- folded; a reader sums the summary rows and the deltas left in one
-- snapshot, so its figures are exact at every moment.
--
-- What depends on the directory at reading time (needing reassignment,
-- the organization's type, display names) is not tallied: it is read
-- with the figures.

CREATE TABLE case_tally_settings (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    -- The zone whose calendar months tally create times; the statistics
    -- answer create_time filters and the create_month grouping from the
    -- tallies only in this zone.
    time_zone text NOT NULL
);
INSERT INTO case_tally_settings (time_zone) VALUES ('Asia/Shanghai');

-- The summary rows: the figures of the cases sharing the six dimensions.
CREATE TABLE case_tallies (
    region_code  text NOT NULL,
    create_month timestamptz NOT NULL,
    organization text NOT NULL,
    mediator     text NOT NULL,
    dispute_type text NOT NULL,
    source       text NOT NULL,
    cases                        bigint NOT NULL DEFAULT 0,
    state_intake                 bigint NOT NULL DEFAULT 0,
    state_accepted               bigint NOT NULL DEFAULT 0,
    state_assigned               bigint NOT NULL DEFAULT 0,
    state_mediating              bigint NOT NULL DEFAULT 0,
    state_agreed                 bigint NOT NULL DEFAULT 0,
    state_closed                 bigint NOT NULL DEFAULT 0,
    overdue                      bigint NOT NULL DEFAULT 0,
    accepted                     bigint NOT NULL DEFAULT 0,
    succeeded                    bigint NOT NULL DEFAULT 0,
    failed                       bigint NOT NULL DEFAULT 0,
    withdrawn_after              bigint NOT NULL DEFAULT 0,
    withdrawn_before             bigint NOT NULL DEFAULT 0,
    rejected                     bigint NOT NULL DEFAULT 0,
    closed_accepted              bigint NOT NULL DEFAULT 0,
    close_seconds                numeric NOT NULL DEFAULT 0,
    amount                       numeric NOT NULL DEFAULT 0,
    confirmation_requested       bigint NOT NULL DEFAULT 0,
    confirmation_confirmed       bigint NOT NULL DEFAULT 0,
    confirmation_refused         bigint NOT NULL DEFAULT 0,
    performed                    bigint NOT NULL DEFAULT 0,
    partly_performed             bigint NOT NULL DEFAULT 0,
    not_performed                bigint NOT NULL DEFAULT 0,
    group_disputes               bigint NOT NULL DEFAULT 0,
    escalation_risks             bigint NOT NULL DEFAULT 0,
    court_referrals              bigint NOT NULL DEFAULT 0,
    oral_agreements              bigint NOT NULL DEFAULT 0,
    written_agreements           bigint NOT NULL DEFAULT 0,
    escalation_prevented         bigint NOT NULL DEFAULT 0,
    escalation_prevented_people  bigint NOT NULL DEFAULT 0,
    petition_prevented           bigint NOT NULL DEFAULT 0,
    petition_prevented_people    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (region_code, create_month, organization, mediator, dispute_type, source)
);

-- Appended by every statement that changes cases, folded into the two
-- summary tables by the service (see Store.FoldCaseTallies).
CREATE TABLE case_tally_deltas (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_code  text NOT NULL,
    create_month timestamptz NOT NULL,
    organization text NOT NULL,
    mediator     text NOT NULL,
    dispute_type text NOT NULL,
    source       text NOT NULL,
    cases                        bigint NOT NULL DEFAULT 0,
    state_intake                 bigint NOT NULL DEFAULT 0,
    state_accepted               bigint NOT NULL DEFAULT 0,
    state_assigned               bigint NOT NULL DEFAULT 0,
    state_mediating              bigint NOT NULL DEFAULT 0,
    state_agreed                 bigint NOT NULL DEFAULT 0,
    state_closed                 bigint NOT NULL DEFAULT 0,
    overdue                      bigint NOT NULL DEFAULT 0,
    accepted                     bigint NOT NULL DEFAULT 0,
    succeeded                    bigint NOT NULL DEFAULT 0,
    failed                       bigint NOT NULL DEFAULT 0,
    withdrawn_after              bigint NOT NULL DEFAULT 0,
    withdrawn_before             bigint NOT NULL DEFAULT 0,
    rejected                     bigint NOT NULL DEFAULT 0,
    closed_accepted              bigint NOT NULL DEFAULT 0,
    close_seconds                numeric NOT NULL DEFAULT 0,
    amount                       numeric NOT NULL DEFAULT 0,
    confirmation_requested       bigint NOT NULL DEFAULT 0,
    confirmation_confirmed       bigint NOT NULL DEFAULT 0,
    confirmation_refused         bigint NOT NULL DEFAULT 0,
    performed                    bigint NOT NULL DEFAULT 0,
    partly_performed             bigint NOT NULL DEFAULT 0,
    not_performed                bigint NOT NULL DEFAULT 0,
    group_disputes               bigint NOT NULL DEFAULT 0,
    escalation_risks             bigint NOT NULL DEFAULT 0,
    court_referrals              bigint NOT NULL DEFAULT 0,
    oral_agreements              bigint NOT NULL DEFAULT 0,
    written_agreements           bigint NOT NULL DEFAULT 0,
    escalation_prevented         bigint NOT NULL DEFAULT 0,
    escalation_prevented_people  bigint NOT NULL DEFAULT 0,
    petition_prevented           bigint NOT NULL DEFAULT 0,
    petition_prevented_people    bigint NOT NULL DEFAULT 0
);

-- One dimension at a time: dim is '' (none), 'organization', 'mediator',
-- 'dispute_type' or 'source'; of the four, only that one is kept, the others
-- are ''. The rows have the shape of case_tallies so that one filter applies
-- to either.
CREATE TABLE case_tally_rollups (
    dim          text NOT NULL CHECK (dim IN ('', 'organization', 'mediator', 'dispute_type', 'source')),
    region_code  text NOT NULL,
    create_month timestamptz NOT NULL,
    organization text NOT NULL,
    mediator     text NOT NULL,
    dispute_type text NOT NULL,
    source       text NOT NULL,
    cases                        bigint NOT NULL DEFAULT 0,
    state_intake                 bigint NOT NULL DEFAULT 0,
    state_accepted               bigint NOT NULL DEFAULT 0,
    state_assigned               bigint NOT NULL DEFAULT 0,
    state_mediating              bigint NOT NULL DEFAULT 0,
    state_agreed                 bigint NOT NULL DEFAULT 0,
    state_closed                 bigint NOT NULL DEFAULT 0,
    overdue                      bigint NOT NULL DEFAULT 0,
    accepted                     bigint NOT NULL DEFAULT 0,
    succeeded                    bigint NOT NULL DEFAULT 0,
    failed                       bigint NOT NULL DEFAULT 0,
    withdrawn_after              bigint NOT NULL DEFAULT 0,
    withdrawn_before             bigint NOT NULL DEFAULT 0,
    rejected                     bigint NOT NULL DEFAULT 0,
    closed_accepted              bigint NOT NULL DEFAULT 0,
    close_seconds                numeric NOT NULL DEFAULT 0,
    amount                       numeric NOT NULL DEFAULT 0,
    confirmation_requested       bigint NOT NULL DEFAULT 0,
    confirmation_confirmed       bigint NOT NULL DEFAULT 0,
    confirmation_refused         bigint NOT NULL DEFAULT 0,
    performed                    bigint NOT NULL DEFAULT 0,
    partly_performed             bigint NOT NULL DEFAULT 0,
    not_performed                bigint NOT NULL DEFAULT 0,
    group_disputes               bigint NOT NULL DEFAULT 0,
    escalation_risks             bigint NOT NULL DEFAULT 0,
    court_referrals              bigint NOT NULL DEFAULT 0,
    oral_agreements              bigint NOT NULL DEFAULT 0,
    written_agreements           bigint NOT NULL DEFAULT 0,
    escalation_prevented         bigint NOT NULL DEFAULT 0,
    escalation_prevented_people  bigint NOT NULL DEFAULT 0,
    petition_prevented           bigint NOT NULL DEFAULT 0,
    petition_prevented_people    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, region_code, create_month, organization, mediator, dispute_type, source)
);

-- case_tally_of is the tally row of one case, times sign (1 to add it,
-- -1 to take it away). The definitions are those of the API's CaseFigures.
CREATE FUNCTION case_tally_of(c cases, sign int, zone text) RETURNS SETOF case_tallies
LANGUAGE sql IMMUTABLE AS $$
    SELECT c.region_code,
        date_trunc('month', c.create_time, zone),
        c.organization, c.mediator, c.dispute_type, c.source,
        sign::bigint,
        sign * (c.state = 'INTAKE')::int,
        sign * (c.state = 'ACCEPTED')::int,
        sign * (c.state = 'ASSIGNED')::int,
        sign * (c.state = 'MEDIATING')::int,
        sign * (c.state = 'AGREED')::int,
        sign * (c.state = 'CLOSED')::int,
        sign * (c.overdue AND c.state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING'))::int,
        sign * (accepted)::int,
        sign * (succeeded)::int,
        sign * (c.outcome = 'FAILED')::int,
        sign * (c.outcome = 'WITHDRAWN' AND accepted)::int,
        sign * (c.outcome = 'WITHDRAWN' AND NOT accepted)::int,
        sign * (c.outcome = 'REJECTED')::int,
        sign * (c.state = 'CLOSED' AND accepted)::int,
        CASE WHEN c.state = 'CLOSED' AND accepted THEN sign * extract(epoch FROM c.close_time - c.accept_time) ELSE 0 END,
        CASE WHEN succeeded THEN sign * COALESCE((SELECT sum((o->>'amount')::numeric)
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.agreement->'obligations') = 'array'
                THEN c.agreement->'obligations' ELSE '[]'::jsonb END) o
            WHERE o->>'amount' ~ '^[0-9]{1,15}(\.[0-9]{1,2})?$'), 0) ELSE 0 END,
        sign * (confirmation IS NOT NULL)::int,
        sign * (confirmation IS NOT DISTINCT FROM 'CONFIRMED')::int,
        sign * (confirmation IS NOT DISTINCT FROM 'REFUSED')::int,
        sign * (c.performance_status = 'PERFORMED')::int,
        sign * (c.performance_status = 'PARTLY_PERFORMED')::int,
        sign * (c.performance_status = 'NOT_PERFORMED')::int,
        sign * (c.group_dispute)::int,
        sign * (c.escalation_risk)::int,
        sign * (c.court_code IS NOT NULL)::int,
        sign * (succeeded AND c.agreement->>'form' IS NOT DISTINCT FROM 'ORAL')::int,
        sign * (succeeded AND c.agreement IS NOT NULL AND c.agreement->>'form' IS DISTINCT FROM 'ORAL')::int,
        sign * (succeeded AND c.escalation_risk)::int,
        CASE WHEN succeeded AND c.escalation_risk THEN sign * people ELSE 0 END,
        sign * (succeeded AND c.group_dispute)::int,
        CASE WHEN succeeded AND c.group_dispute THEN sign * people ELSE 0 END
    FROM (SELECT c.accept_time IS NOT NULL AS accepted,
            c.accept_time IS NOT NULL AND (c.state = 'AGREED' OR c.outcome = 'AGREEMENT') AS succeeded,
            CASE WHEN jsonb_typeof(c.confirmation) = 'object' THEN COALESCE(c.confirmation->>'decision', '') END AS confirmation,
            CASE WHEN jsonb_typeof(c.parties) = 'array' THEN jsonb_array_length(c.parties) ELSE 0 END AS people) d
$$;

-- The triggers: the change of the figures a statement made, grouped by
-- tally, appended as deltas; nothing when no figure changed (an update of
-- a case's summary, a session recorded).
CREATE FUNCTION case_tallies_track_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT time_zone FROM case_tally_settings);
BEGIN
    INSERT INTO case_tally_deltas (region_code, create_month, organization, mediator, dispute_type, source,
        cases, state_intake, state_accepted, state_assigned, state_mediating, state_agreed,
        state_closed, overdue, accepted, succeeded, failed, withdrawn_after,
        withdrawn_before, rejected, closed_accepted, close_seconds, amount, confirmation_requested,
        confirmation_confirmed, confirmation_refused, performed, partly_performed, not_performed, group_disputes,
        escalation_risks, court_referrals, oral_agreements, written_agreements, escalation_prevented, escalation_prevented_people,
        petition_prevented, petition_prevented_people)
    SELECT region_code, create_month, organization, mediator, dispute_type, source,
        sum(cases), sum(state_intake), sum(state_accepted), sum(state_assigned), sum(state_mediating), sum(state_agreed),
        sum(state_closed), sum(overdue), sum(accepted), sum(succeeded), sum(failed), sum(withdrawn_after),
        sum(withdrawn_before), sum(rejected), sum(closed_accepted), sum(close_seconds), sum(amount), sum(confirmation_requested),
        sum(confirmation_confirmed), sum(confirmation_refused), sum(performed), sum(partly_performed), sum(not_performed), sum(group_disputes),
        sum(escalation_risks), sum(court_referrals), sum(oral_agreements), sum(written_agreements), sum(escalation_prevented), sum(escalation_prevented_people),
        sum(petition_prevented), sum(petition_prevented_people)
    FROM (SELECT t.* FROM new_rows c, case_tally_of(c::cases, 1, zone) t) x
    GROUP BY region_code, create_month, organization, mediator, dispute_type, source
    HAVING sum(cases) <> 0 OR sum(state_intake) <> 0 OR sum(state_accepted) <> 0 OR sum(state_assigned) <> 0 OR sum(state_mediating) <> 0 OR sum(state_agreed) <> 0 OR sum(state_closed) <> 0 OR sum(overdue) <> 0 OR sum(accepted) <> 0 OR sum(succeeded) <> 0 OR sum(failed) <> 0 OR sum(withdrawn_after) <> 0 OR sum(withdrawn_before) <> 0 OR sum(rejected) <> 0 OR sum(closed_accepted) <> 0 OR sum(close_seconds) <> 0 OR sum(amount) <> 0 OR sum(confirmation_requested) <> 0 OR sum(confirmation_confirmed) <> 0 OR sum(confirmation_refused) <> 0 OR sum(performed) <> 0 OR sum(partly_performed) <> 0 OR sum(not_performed) <> 0 OR sum(group_disputes) <> 0 OR sum(escalation_risks) <> 0 OR sum(court_referrals) <> 0 OR sum(oral_agreements) <> 0 OR sum(written_agreements) <> 0 OR sum(escalation_prevented) <> 0 OR sum(escalation_prevented_people) <> 0 OR sum(petition_prevented) <> 0 OR sum(petition_prevented_people) <> 0;
    RETURN NULL;
END
$$;
CREATE FUNCTION case_tallies_track_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT time_zone FROM case_tally_settings);
BEGIN
    INSERT INTO case_tally_deltas (region_code, create_month, organization, mediator, dispute_type, source,
        cases, state_intake, state_accepted, state_assigned, state_mediating, state_agreed,
        state_closed, overdue, accepted, succeeded, failed, withdrawn_after,
        withdrawn_before, rejected, closed_accepted, close_seconds, amount, confirmation_requested,
        confirmation_confirmed, confirmation_refused, performed, partly_performed, not_performed, group_disputes,
        escalation_risks, court_referrals, oral_agreements, written_agreements, escalation_prevented, escalation_prevented_people,
        petition_prevented, petition_prevented_people)
    SELECT region_code, create_month, organization, mediator, dispute_type, source,
        sum(cases), sum(state_intake), sum(state_accepted), sum(state_assigned), sum(state_mediating), sum(state_agreed),
        sum(state_closed), sum(overdue), sum(accepted), sum(succeeded), sum(failed), sum(withdrawn_after),
        sum(withdrawn_before), sum(rejected), sum(closed_accepted), sum(close_seconds), sum(amount), sum(confirmation_requested),
        sum(confirmation_confirmed), sum(confirmation_refused), sum(performed), sum(partly_performed), sum(not_performed), sum(group_disputes),
        sum(escalation_risks), sum(court_referrals), sum(oral_agreements), sum(written_agreements), sum(escalation_prevented), sum(escalation_prevented_people),
        sum(petition_prevented), sum(petition_prevented_people)
    FROM (SELECT t.* FROM new_rows c, case_tally_of(c::cases, 1, zone) t
          UNION ALL
          SELECT t.* FROM old_rows c, case_tally_of(c::cases, -1, zone) t) x
    GROUP BY region_code, create_month, organization, mediator, dispute_type, source
    HAVING sum(cases) <> 0 OR sum(state_intake) <> 0 OR sum(state_accepted) <> 0 OR sum(state_assigned) <> 0 OR sum(state_mediating) <> 0 OR sum(state_agreed) <> 0 OR sum(state_closed) <> 0 OR sum(overdue) <> 0 OR sum(accepted) <> 0 OR sum(succeeded) <> 0 OR sum(failed) <> 0 OR sum(withdrawn_after) <> 0 OR sum(withdrawn_before) <> 0 OR sum(rejected) <> 0 OR sum(closed_accepted) <> 0 OR sum(close_seconds) <> 0 OR sum(amount) <> 0 OR sum(confirmation_requested) <> 0 OR sum(confirmation_confirmed) <> 0 OR sum(confirmation_refused) <> 0 OR sum(performed) <> 0 OR sum(partly_performed) <> 0 OR sum(not_performed) <> 0 OR sum(group_disputes) <> 0 OR sum(escalation_risks) <> 0 OR sum(court_referrals) <> 0 OR sum(oral_agreements) <> 0 OR sum(written_agreements) <> 0 OR sum(escalation_prevented) <> 0 OR sum(escalation_prevented_people) <> 0 OR sum(petition_prevented) <> 0 OR sum(petition_prevented_people) <> 0;
    RETURN NULL;
END
$$;
CREATE FUNCTION case_tallies_track_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT time_zone FROM case_tally_settings);
BEGIN
    INSERT INTO case_tally_deltas (region_code, create_month, organization, mediator, dispute_type, source,
        cases, state_intake, state_accepted, state_assigned, state_mediating, state_agreed,
        state_closed, overdue, accepted, succeeded, failed, withdrawn_after,
        withdrawn_before, rejected, closed_accepted, close_seconds, amount, confirmation_requested,
        confirmation_confirmed, confirmation_refused, performed, partly_performed, not_performed, group_disputes,
        escalation_risks, court_referrals, oral_agreements, written_agreements, escalation_prevented, escalation_prevented_people,
        petition_prevented, petition_prevented_people)
    SELECT region_code, create_month, organization, mediator, dispute_type, source,
        sum(cases), sum(state_intake), sum(state_accepted), sum(state_assigned), sum(state_mediating), sum(state_agreed),
        sum(state_closed), sum(overdue), sum(accepted), sum(succeeded), sum(failed), sum(withdrawn_after),
        sum(withdrawn_before), sum(rejected), sum(closed_accepted), sum(close_seconds), sum(amount), sum(confirmation_requested),
        sum(confirmation_confirmed), sum(confirmation_refused), sum(performed), sum(partly_performed), sum(not_performed), sum(group_disputes),
        sum(escalation_risks), sum(court_referrals), sum(oral_agreements), sum(written_agreements), sum(escalation_prevented), sum(escalation_prevented_people),
        sum(petition_prevented), sum(petition_prevented_people)
    FROM (SELECT t.* FROM old_rows c, case_tally_of(c::cases, -1, zone) t) x
    GROUP BY region_code, create_month, organization, mediator, dispute_type, source
    HAVING sum(cases) <> 0 OR sum(state_intake) <> 0 OR sum(state_accepted) <> 0 OR sum(state_assigned) <> 0 OR sum(state_mediating) <> 0 OR sum(state_agreed) <> 0 OR sum(state_closed) <> 0 OR sum(overdue) <> 0 OR sum(accepted) <> 0 OR sum(succeeded) <> 0 OR sum(failed) <> 0 OR sum(withdrawn_after) <> 0 OR sum(withdrawn_before) <> 0 OR sum(rejected) <> 0 OR sum(closed_accepted) <> 0 OR sum(close_seconds) <> 0 OR sum(amount) <> 0 OR sum(confirmation_requested) <> 0 OR sum(confirmation_confirmed) <> 0 OR sum(confirmation_refused) <> 0 OR sum(performed) <> 0 OR sum(partly_performed) <> 0 OR sum(not_performed) <> 0 OR sum(group_disputes) <> 0 OR sum(escalation_risks) <> 0 OR sum(court_referrals) <> 0 OR sum(oral_agreements) <> 0 OR sum(written_agreements) <> 0 OR sum(escalation_prevented) <> 0 OR sum(escalation_prevented_people) <> 0 OR sum(petition_prevented) <> 0 OR sum(petition_prevented_people) <> 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER case_tallies_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION case_tallies_track_insert();
CREATE TRIGGER case_tallies_update AFTER UPDATE ON cases
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION case_tallies_track_update();
CREATE TRIGGER case_tallies_delete AFTER DELETE ON cases
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION case_tallies_track_delete();

-- case_tallies_fold folds up to batch deltas, oldest first, into the
-- summary tables and deletes them, in the caller's transaction; it returns
-- how many it folded (0 when another session is folding: one at a time).
CREATE FUNCTION case_tallies_fold(batch int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('case_tallies_fold')) THEN
        RETURN 0;
    END IF;
    WITH moved AS (
        DELETE FROM case_tally_deltas
        WHERE id IN (SELECT id FROM case_tally_deltas ORDER BY id LIMIT batch)
        RETURNING *
    ),
    g AS (
        SELECT region_code, create_month, organization, mediator, dispute_type, source,
        sum(cases) AS cases, sum(state_intake) AS state_intake, sum(state_accepted) AS state_accepted, sum(state_assigned) AS state_assigned, sum(state_mediating) AS state_mediating, sum(state_agreed) AS state_agreed,
        sum(state_closed) AS state_closed, sum(overdue) AS overdue, sum(accepted) AS accepted, sum(succeeded) AS succeeded, sum(failed) AS failed, sum(withdrawn_after) AS withdrawn_after,
        sum(withdrawn_before) AS withdrawn_before, sum(rejected) AS rejected, sum(closed_accepted) AS closed_accepted, sum(close_seconds) AS close_seconds, sum(amount) AS amount, sum(confirmation_requested) AS confirmation_requested,
        sum(confirmation_confirmed) AS confirmation_confirmed, sum(confirmation_refused) AS confirmation_refused, sum(performed) AS performed, sum(partly_performed) AS partly_performed, sum(not_performed) AS not_performed, sum(group_disputes) AS group_disputes,
        sum(escalation_risks) AS escalation_risks, sum(court_referrals) AS court_referrals, sum(oral_agreements) AS oral_agreements, sum(written_agreements) AS written_agreements, sum(escalation_prevented) AS escalation_prevented, sum(escalation_prevented_people) AS escalation_prevented_people,
        sum(petition_prevented) AS petition_prevented, sum(petition_prevented_people) AS petition_prevented_people
        FROM moved
        GROUP BY region_code, create_month, organization, mediator, dispute_type, source
    ),
    t_all AS (
        INSERT INTO case_tallies AS t (region_code, create_month, organization, mediator, dispute_type, source,
        cases, state_intake, state_accepted, state_assigned, state_mediating, state_agreed,
        state_closed, overdue, accepted, succeeded, failed, withdrawn_after,
        withdrawn_before, rejected, closed_accepted, close_seconds, amount, confirmation_requested,
        confirmation_confirmed, confirmation_refused, performed, partly_performed, not_performed, group_disputes,
        escalation_risks, court_referrals, oral_agreements, written_agreements, escalation_prevented, escalation_prevented_people,
        petition_prevented, petition_prevented_people)
        SELECT * FROM g
        ON CONFLICT (region_code, create_month, organization, mediator, dispute_type, source) DO UPDATE SET
            cases = t.cases + excluded.cases, state_intake = t.state_intake + excluded.state_intake, state_accepted = t.state_accepted + excluded.state_accepted,
            state_assigned = t.state_assigned + excluded.state_assigned, state_mediating = t.state_mediating + excluded.state_mediating, state_agreed = t.state_agreed + excluded.state_agreed,
            state_closed = t.state_closed + excluded.state_closed, overdue = t.overdue + excluded.overdue, accepted = t.accepted + excluded.accepted,
            succeeded = t.succeeded + excluded.succeeded, failed = t.failed + excluded.failed, withdrawn_after = t.withdrawn_after + excluded.withdrawn_after,
            withdrawn_before = t.withdrawn_before + excluded.withdrawn_before, rejected = t.rejected + excluded.rejected, closed_accepted = t.closed_accepted + excluded.closed_accepted,
            close_seconds = t.close_seconds + excluded.close_seconds, amount = t.amount + excluded.amount, confirmation_requested = t.confirmation_requested + excluded.confirmation_requested,
            confirmation_confirmed = t.confirmation_confirmed + excluded.confirmation_confirmed, confirmation_refused = t.confirmation_refused + excluded.confirmation_refused, performed = t.performed + excluded.performed,
            partly_performed = t.partly_performed + excluded.partly_performed, not_performed = t.not_performed + excluded.not_performed, group_disputes = t.group_disputes + excluded.group_disputes,
            escalation_risks = t.escalation_risks + excluded.escalation_risks, court_referrals = t.court_referrals + excluded.court_referrals, oral_agreements = t.oral_agreements + excluded.oral_agreements,
            written_agreements = t.written_agreements + excluded.written_agreements, escalation_prevented = t.escalation_prevented + excluded.escalation_prevented, escalation_prevented_people = t.escalation_prevented_people + excluded.escalation_prevented_people,
            petition_prevented = t.petition_prevented + excluded.petition_prevented, petition_prevented_people = t.petition_prevented_people + excluded.petition_prevented_people
        RETURNING 1
    ),
    -- Every rollup at once: a grouping set per dimension.
    r_all AS (
        INSERT INTO case_tally_rollups AS t (dim, region_code, create_month, organization, mediator, dispute_type, source,
        cases, state_intake, state_accepted, state_assigned, state_mediating, state_agreed,
        state_closed, overdue, accepted, succeeded, failed, withdrawn_after,
        withdrawn_before, rejected, closed_accepted, close_seconds, amount, confirmation_requested,
        confirmation_confirmed, confirmation_refused, performed, partly_performed, not_performed, group_disputes,
        escalation_risks, court_referrals, oral_agreements, written_agreements, escalation_prevented, escalation_prevented_people,
        petition_prevented, petition_prevented_people)
        SELECT CASE WHEN GROUPING(organization) = 0 THEN 'organization' WHEN GROUPING(mediator) = 0 THEN 'mediator'
            WHEN GROUPING(dispute_type) = 0 THEN 'dispute_type' WHEN GROUPING(source) = 0 THEN 'source' ELSE '' END,
            region_code, create_month,
            COALESCE(organization, ''), COALESCE(mediator, ''), COALESCE(dispute_type, ''), COALESCE(source, ''),
        sum(cases), sum(state_intake), sum(state_accepted), sum(state_assigned), sum(state_mediating), sum(state_agreed),
        sum(state_closed), sum(overdue), sum(accepted), sum(succeeded), sum(failed), sum(withdrawn_after),
        sum(withdrawn_before), sum(rejected), sum(closed_accepted), sum(close_seconds), sum(amount), sum(confirmation_requested),
        sum(confirmation_confirmed), sum(confirmation_refused), sum(performed), sum(partly_performed), sum(not_performed), sum(group_disputes),
        sum(escalation_risks), sum(court_referrals), sum(oral_agreements), sum(written_agreements), sum(escalation_prevented), sum(escalation_prevented_people),
        sum(petition_prevented), sum(petition_prevented_people)
        FROM g
        GROUP BY region_code, create_month, GROUPING SETS ((), (organization), (mediator), (dispute_type), (source))
        ON CONFLICT (dim, region_code, create_month, organization, mediator, dispute_type, source) DO UPDATE SET
            cases = t.cases + excluded.cases, state_intake = t.state_intake + excluded.state_intake, state_accepted = t.state_accepted + excluded.state_accepted,
            state_assigned = t.state_assigned + excluded.state_assigned, state_mediating = t.state_mediating + excluded.state_mediating, state_agreed = t.state_agreed + excluded.state_agreed,
            state_closed = t.state_closed + excluded.state_closed, overdue = t.overdue + excluded.overdue, accepted = t.accepted + excluded.accepted,
            succeeded = t.succeeded + excluded.succeeded, failed = t.failed + excluded.failed, withdrawn_after = t.withdrawn_after + excluded.withdrawn_after,
            withdrawn_before = t.withdrawn_before + excluded.withdrawn_before, rejected = t.rejected + excluded.rejected, closed_accepted = t.closed_accepted + excluded.closed_accepted,
            close_seconds = t.close_seconds + excluded.close_seconds, amount = t.amount + excluded.amount, confirmation_requested = t.confirmation_requested + excluded.confirmation_requested,
            confirmation_confirmed = t.confirmation_confirmed + excluded.confirmation_confirmed, confirmation_refused = t.confirmation_refused + excluded.confirmation_refused, performed = t.performed + excluded.performed,
            partly_performed = t.partly_performed + excluded.partly_performed, not_performed = t.not_performed + excluded.not_performed, group_disputes = t.group_disputes + excluded.group_disputes,
            escalation_risks = t.escalation_risks + excluded.escalation_risks, court_referrals = t.court_referrals + excluded.court_referrals, oral_agreements = t.oral_agreements + excluded.oral_agreements,
            written_agreements = t.written_agreements + excluded.written_agreements, escalation_prevented = t.escalation_prevented + excluded.escalation_prevented, escalation_prevented_people = t.escalation_prevented_people + excluded.escalation_prevented_people,
            petition_prevented = t.petition_prevented + excluded.petition_prevented, petition_prevented_people = t.petition_prevented_people + excluded.petition_prevented_people
        RETURNING 1
    )
    SELECT count(*) INTO folded FROM moved;
    IF folded > 0 THEN
        DELETE FROM case_tallies WHERE cases = 0;
        DELETE FROM case_tally_rollups WHERE cases = 0;
    END IF;
    RETURN folded;
END
$$;

-- case_tallies_rebuild recomputes the summary tables from the cases,
-- writes held off meanwhile; for a bulk load made with the triggers off.
CREATE FUNCTION case_tallies_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE cases IN SHARE MODE;
    PERFORM pg_advisory_xact_lock(hashtext('case_tallies_fold'));
    DELETE FROM case_tally_deltas;
    DELETE FROM case_tallies;
    DELETE FROM case_tally_rollups;
    INSERT INTO case_tallies (region_code, create_month, organization, mediator, dispute_type, source,
        cases, state_intake, state_accepted, state_assigned, state_mediating, state_agreed,
        state_closed, overdue, accepted, succeeded, failed, withdrawn_after,
        withdrawn_before, rejected, closed_accepted, close_seconds, amount, confirmation_requested,
        confirmation_confirmed, confirmation_refused, performed, partly_performed, not_performed, group_disputes,
        escalation_risks, court_referrals, oral_agreements, written_agreements, escalation_prevented, escalation_prevented_people,
        petition_prevented, petition_prevented_people)
    SELECT region_code, create_month, organization, mediator, dispute_type, source,
        sum(cases), sum(state_intake), sum(state_accepted), sum(state_assigned), sum(state_mediating), sum(state_agreed),
        sum(state_closed), sum(overdue), sum(accepted), sum(succeeded), sum(failed), sum(withdrawn_after),
        sum(withdrawn_before), sum(rejected), sum(closed_accepted), sum(close_seconds), sum(amount), sum(confirmation_requested),
        sum(confirmation_confirmed), sum(confirmation_refused), sum(performed), sum(partly_performed), sum(not_performed), sum(group_disputes),
        sum(escalation_risks), sum(court_referrals), sum(oral_agreements), sum(written_agreements), sum(escalation_prevented), sum(escalation_prevented_people),
        sum(petition_prevented), sum(petition_prevented_people)
    FROM (SELECT t.* FROM cases c, case_tally_of(c, 1, (SELECT time_zone FROM case_tally_settings)) t) x
    GROUP BY region_code, create_month, organization, mediator, dispute_type, source;
    INSERT INTO case_tally_rollups AS t (dim, region_code, create_month, organization, mediator, dispute_type, source,
        cases, state_intake, state_accepted, state_assigned, state_mediating, state_agreed,
        state_closed, overdue, accepted, succeeded, failed, withdrawn_after,
        withdrawn_before, rejected, closed_accepted, close_seconds, amount, confirmation_requested,
        confirmation_confirmed, confirmation_refused, performed, partly_performed, not_performed, group_disputes,
        escalation_risks, court_referrals, oral_agreements, written_agreements, escalation_prevented, escalation_prevented_people,
        petition_prevented, petition_prevented_people)
    SELECT CASE WHEN GROUPING(organization) = 0 THEN 'organization' WHEN GROUPING(mediator) = 0 THEN 'mediator'
            WHEN GROUPING(dispute_type) = 0 THEN 'dispute_type' WHEN GROUPING(source) = 0 THEN 'source' ELSE '' END,
        region_code, create_month,
        COALESCE(organization, ''), COALESCE(mediator, ''), COALESCE(dispute_type, ''), COALESCE(source, ''),
        sum(cases), sum(state_intake), sum(state_accepted), sum(state_assigned), sum(state_mediating), sum(state_agreed),
        sum(state_closed), sum(overdue), sum(accepted), sum(succeeded), sum(failed), sum(withdrawn_after),
        sum(withdrawn_before), sum(rejected), sum(closed_accepted), sum(close_seconds), sum(amount), sum(confirmation_requested),
        sum(confirmation_confirmed), sum(confirmation_refused), sum(performed), sum(partly_performed), sum(not_performed), sum(group_disputes),
        sum(escalation_risks), sum(court_referrals), sum(oral_agreements), sum(written_agreements), sum(escalation_prevented), sum(escalation_prevented_people),
        sum(petition_prevented), sum(petition_prevented_people)
    FROM case_tallies
    GROUP BY region_code, create_month, GROUPING SETS ((), (organization), (mediator), (dispute_type), (source));
END
$$;

CREATE INDEX case_tallies_empty ON case_tallies (region_code) WHERE cases = 0;
CREATE INDEX case_tally_rollups_empty ON case_tally_rollups (dim) WHERE cases = 0;

SELECT case_tallies_rebuild();
