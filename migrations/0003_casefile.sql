-- The full case file: court referrals, flags, deadlines, recusals, failure,
-- judicial confirmation, performance, sessions and follow-up visits.

ALTER TABLE cases
    ADD COLUMN court_referral      jsonb,
    ADD COLUMN court_code          text,
    ADD COLUMN court_case_number   text,
    ADD COLUMN group_dispute       boolean NOT NULL DEFAULT false,
    ADD COLUMN escalation_risk     boolean NOT NULL DEFAULT false,
    ADD COLUMN family_violence     boolean NOT NULL DEFAULT false,
    ADD COLUMN minors_involved     boolean NOT NULL DEFAULT false,
    ADD COLUMN accept_time         timestamptz,
    -- The time limit: the whole of it in deadline, and the two columns the
    -- overdue job and the filters need.
    ADD COLUMN deadline            jsonb,
    ADD COLUMN due_time            timestamptz,
    ADD COLUMN overdue             boolean NOT NULL DEFAULT false,
    ADD COLUMN recused_mediators   text[] NOT NULL DEFAULT '{}',
    ADD COLUMN failure             jsonb,
    ADD COLUMN confirmation        jsonb,
    ADD COLUMN performance_status  text NOT NULL DEFAULT ''
        CHECK (performance_status IN ('', 'PERFORMED', 'PARTLY_PERFORMED', 'NOT_PERFORMED')),
    ADD COLUMN follow_up_count     int NOT NULL DEFAULT 0 CHECK (follow_up_count >= 0),
    ADD COLUMN session_count       int NOT NULL DEFAULT 0 CHECK (session_count >= 0),
    ADD COLUMN no_follow_up_reason text NOT NULL DEFAULT '',
    ADD CONSTRAINT cases_court_referral CHECK ((court_code IS NULL) = (court_case_number IS NULL)
        AND (court_code IS NULL) = (court_referral IS NULL)),
    ADD CONSTRAINT cases_deadline CHECK ((deadline IS NULL) = (due_time IS NULL)),
    ADD CONSTRAINT cases_accepted CHECK (state IN ('INTAKE') OR outcome IN ('REJECTED', 'WITHDRAWN') OR accept_time IS NOT NULL);

-- The overdue job's work list.
CREATE INDEX cases_due ON cases (due_time) WHERE NOT overdue AND state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING');
CREATE INDEX cases_court ON cases (court_code, court_case_number) WHERE court_code IS NOT NULL;

-- A court and its case number identify one referral: the claim that makes
-- a repeated referral return the case it created.
CREATE TABLE court_referral_claims (
    court_code        text NOT NULL,
    court_case_number text NOT NULL,
    case_id           uuid NOT NULL UNIQUE REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (court_code, court_case_number)
);

CREATE TABLE case_sessions (
    case_id       uuid NOT NULL REFERENCES cases (id),
    number        int NOT NULL CHECK (number > 0),
    kind          text NOT NULL CHECK (kind IN ('BILATERAL', 'TRILATERAL', 'EXPERT', 'JOINT')),
    start_time    timestamptz NOT NULL,
    place         text NOT NULL DEFAULT '',
    online        boolean NOT NULL DEFAULT false,
    participants  jsonb NOT NULL DEFAULT '[]',
    status        text NOT NULL CHECK (status IN ('SCHEDULED', 'HELD', 'CANCELLED')),
    minutes       text NOT NULL DEFAULT '',
    result        text NOT NULL DEFAULT '',
    cancel_reason text NOT NULL DEFAULT '',
    create_time   timestamptz NOT NULL,
    update_time   timestamptz NOT NULL,
    PRIMARY KEY (case_id, number)
);

CREATE TABLE case_follow_ups (
    case_id            uuid NOT NULL REFERENCES cases (id),
    number             int NOT NULL CHECK (number > 0),
    visit_time         timestamptz NOT NULL,
    visitor            text NOT NULL,
    party_ids          jsonb NOT NULL DEFAULT '[]',
    purpose            text NOT NULL DEFAULT '',
    findings           text NOT NULL,
    performance_status text NOT NULL DEFAULT '',
    create_time        timestamptz NOT NULL,
    PRIMARY KEY (case_id, number)
);

-- Follow-up visits, like the history, are kept as recorded.
CREATE TRIGGER case_follow_ups_append_only
    BEFORE UPDATE OR DELETE ON case_follow_ups
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
