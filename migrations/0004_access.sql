-- Who may do what: users, their sessions, API keys of other systems,
-- failed sign-ins (for throttling), and the append-only audit trail.

CREATE TABLE users (
    username        text PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    display_name    text NOT NULL CHECK (display_name <> ''),
    role            text NOT NULL CHECK (role IN ('ADMIN', 'SUPERVISOR', 'ORGANIZATION_LEAD', 'MEDIATOR', 'COURT_DESK', 'AUDITOR')),
    region_code     text REFERENCES regions (code),
    organization_id text REFERENCES organizations (id),
    mediator_id     text REFERENCES mediators (id),
    court_code      text,
    -- argon2id, in the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
    password_hash   text NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    version         bigint NOT NULL DEFAULT 1,
    create_time     timestamptz NOT NULL,
    update_time     timestamptz NOT NULL,
    last_login_time timestamptz,
    CHECK (role <> 'SUPERVISOR' OR region_code IS NOT NULL),
    CHECK (role <> 'ORGANIZATION_LEAD' OR organization_id IS NOT NULL),
    CHECK (role <> 'MEDIATOR' OR mediator_id IS NOT NULL),
    CHECK (role <> 'COURT_DESK' OR court_code IS NOT NULL)
);

-- Bearer tokens of signed-in users, kept only as SHA-256 hashes.
CREATE TABLE auth_sessions (
    token_hash     bytea PRIMARY KEY,
    username       text NOT NULL REFERENCES users (username),
    create_time    timestamptz NOT NULL,
    expire_time    timestamptz NOT NULL,
    revoke_time    timestamptz,
    client_address text NOT NULL DEFAULT ''
);

CREATE INDEX auth_sessions_user ON auth_sessions (username);

-- API keys of other systems, kept only as SHA-256 hashes of their secrets.
CREATE TABLE api_keys (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    display_name    text NOT NULL CHECK (display_name <> ''),
    role            text NOT NULL CHECK (role IN ('SUPERVISOR', 'ORGANIZATION_LEAD', 'COURT_DESK')),
    court_code      text,
    organization_id text REFERENCES organizations (id),
    region_code     text REFERENCES regions (code),
    secret_hash     bytea NOT NULL UNIQUE,
    secret_prefix   text NOT NULL,
    creator         text NOT NULL,
    create_time     timestamptz NOT NULL,
    last_use_time   timestamptz,
    revoke_time     timestamptz,
    CHECK (role <> 'COURT_DESK' OR court_code IS NOT NULL),
    CHECK (role <> 'ORGANIZATION_LEAD' OR organization_id IS NOT NULL),
    CHECK (role <> 'SUPERVISOR' OR region_code IS NOT NULL)
);

-- Failed sign-ins, counted to throttle guessing. Old rows may be purged.
CREATE TABLE login_failures (
    username       text NOT NULL,
    client_address text NOT NULL,
    failure_time   timestamptz NOT NULL
);

CREATE INDEX login_failures_user ON login_failures (username, failure_time);
CREATE INDEX login_failures_address ON login_failures (client_address, failure_time);

-- The audit trail: every write, every sign-in and sign-out, every read of
-- unmasked personal data, every refusal for lack of permission.
CREATE TABLE audit_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_time     timestamptz NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('WRITE', 'LOGIN', 'LOGIN_FAILED', 'LOGOUT', 'READ_PERSONAL_DATA', 'PERMISSION_DENIED')),
    actor          text NOT NULL,
    actor_role     text NOT NULL DEFAULT '',
    client_address text NOT NULL DEFAULT '',
    method         text NOT NULL DEFAULT '',
    resource       text NOT NULL DEFAULT '',
    request_id     text NOT NULL DEFAULT '',
    code           text NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_time ON audit_events (event_time);
CREATE INDEX audit_events_resource ON audit_events (resource, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE FUNCTION refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE of % is not allowed: the table is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

CREATE TRIGGER case_events_no_truncate
    BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- The organization that registered a case: it and its mediators see the
-- case before it is assigned.
ALTER TABLE cases ADD COLUMN intake_organization text NOT NULL DEFAULT '';

CREATE INDEX cases_intake_organization_seq ON cases (intake_organization, seq) WHERE intake_organization <> '';
