-- Cases, their history and the outbox.
--
-- Every change of a case is one statement that compares-and-swaps the case's
-- version, appends one history row and one outbox row. The triggers below
-- make the database itself refuse a case row that disagrees with its history.

-- Case numbering: each region may have its own template, e.g.
-- 西峰调〔{year}〕{seq:5}号. A case uses the scheme of its county, else of its
-- city, else of its province, else the default scheme '000000'. Placeholders:
-- {year}, {region} (the case's region code), {seq} or {seq:N} (the running
-- number of the scheme in that year, zero-padded to N digits, default 5).
CREATE TABLE case_number_schemes (
    region_code text PRIMARY KEY CHECK (region_code ~ '^[0-9]{6}$'),
    template    text NOT NULL CHECK (template ~ '\{seq(:[1-9])?\}' AND length(template) <= 100),
    update_time timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE case_number_counters (
    scheme_region text   NOT NULL REFERENCES case_number_schemes (region_code),
    year          int    NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    last_value    bigint NOT NULL CHECK (last_value > 0),
    PRIMARY KEY (scheme_region, year)
);

CREATE FUNCTION format_case_number(tpl text, region text, yr int, n bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    width int := coalesce(substring(tpl FROM '\{seq:([1-9])\}')::int, 5);
BEGIN
    RETURN regexp_replace(
        replace(replace(tpl, '{year}', yr::text), '{region}', region),
        '\{seq(:[1-9])?\}',
        lpad(n::text, greatest(width, length(n::text)), '0'),
        'g');
END
$$;

INSERT INTO case_number_schemes (region_code, template) VALUES
    ('000000', '{region}调〔{year}〕{seq:5}号'),
    ('621000', '庆阳调〔{year}〕{seq:5}号'),
    ('621002', '西峰调〔{year}〕{seq:5}号'),
    ('621021', '庆城调〔{year}〕{seq:5}号'),
    ('621022', '环县调〔{year}〕{seq:5}号'),
    ('621023', '华池调〔{year}〕{seq:5}号'),
    ('621024', '合水调〔{year}〕{seq:5}号'),
    ('621025', '正宁调〔{year}〕{seq:5}号'),
    ('621026', '宁县调〔{year}〕{seq:5}号'),
    ('621027', '镇原调〔{year}〕{seq:5}号');

CREATE TABLE cases (
    id             uuid PRIMARY KEY,
    -- Insertion order, for keyset pagination.
    seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    case_number    text NOT NULL UNIQUE,
    version        bigint NOT NULL CHECK (version > 0),
    state          text NOT NULL CHECK (state IN ('INTAKE', 'ACCEPTED', 'ASSIGNED', 'MEDIATING', 'AGREED', 'CLOSED')),
    outcome        text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'AGREEMENT', 'FAILED', 'WITHDRAWN', 'REJECTED')),
    dispute_type   text NOT NULL,
    source         text NOT NULL,
    summary        text NOT NULL,
    region_code    text NOT NULL CHECK (region_code ~ '^[1-9][0-9]{5}$'),
    parties        jsonb NOT NULL,
    organization   text NOT NULL DEFAULT '',
    mediator       text NOT NULL DEFAULT '',
    agreement      jsonb,
    closing_reason text NOT NULL DEFAULT '',
    create_time    timestamptz NOT NULL,
    update_time    timestamptz NOT NULL,
    close_time     timestamptz,
    CHECK ((state = 'CLOSED') = (outcome <> '')),
    CHECK ((state = 'CLOSED') = (close_time IS NOT NULL)),
    CHECK (state IN ('INTAKE', 'ACCEPTED') OR outcome IN ('REJECTED', 'WITHDRAWN') OR (organization <> '' AND mediator <> ''))
);

CREATE INDEX cases_state_seq ON cases (state, seq);
CREATE INDEX cases_region_seq ON cases (region_code text_pattern_ops, seq);
CREATE INDEX cases_organization_seq ON cases (organization, seq) WHERE organization <> '';
CREATE INDEX cases_mediator_seq ON cases (mediator, seq) WHERE mediator <> '';
CREATE INDEX cases_create_time ON cases (create_time);

-- Idempotent creation: the request_id a caller sent with CreateCase, a hash
-- of the request, and the case it created.
CREATE TABLE case_create_requests (
    request_id uuid PRIMARY KEY,
    body_hash  bytea NOT NULL,
    case_id    uuid NOT NULL UNIQUE REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED
);

-- The history: one row per change, numbered by the case version it produced.
CREATE TABLE case_events (
    case_id    uuid NOT NULL REFERENCES cases (id),
    version    bigint NOT NULL CHECK (version > 0),
    action     text NOT NULL,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    outcome    text NOT NULL,
    actor      text NOT NULL,
    occur_time timestamptz NOT NULL,
    request_id uuid,
    data       jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (case_id, version),
    UNIQUE (case_id, request_id)
);

-- Changes for other systems (court callbacks), written in the same statement
-- as the change itself and delivered later.
CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      uuid NOT NULL,
    case_version bigint NOT NULL,
    topic        text NOT NULL,
    payload      jsonb NOT NULL,
    create_time  timestamptz NOT NULL,
    deliver_time timestamptz,
    UNIQUE (case_id, case_version),
    FOREIGN KEY (case_id, case_version) REFERENCES case_events (case_id, version)
);

CREATE INDEX outbox_pending ON outbox (id) WHERE deliver_time IS NULL;

-- History is append-only.
CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER case_events_append_only
    BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A case's version moves by exactly one per change.
CREATE FUNCTION cases_check_version() RETURNS trigger
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
    RETURN NEW;
END
$$;

CREATE TRIGGER cases_version
    BEFORE UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_check_version();

-- At commit, every case row must have the history row of its version, and
-- that row must say the state and outcome the case is in.
CREATE FUNCTION cases_check_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM case_events e
        WHERE e.case_id = NEW.id AND e.version = NEW.version
          AND e.to_state = NEW.state AND e.outcome = NEW.outcome
    ) THEN
        RAISE EXCEPTION 'case % version % has no matching history row', NEW.id, NEW.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER cases_history
    AFTER INSERT OR UPDATE ON cases
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION cases_check_history();
