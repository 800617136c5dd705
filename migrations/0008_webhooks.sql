-- Webhooks to the courts (诉调对接): endpoints, their signing secrets, and
-- one delivery per (endpoint, case version), fanned out from the outbox.
--
-- An outbox row is dispatched when outbox.deliver_time is set: its
-- deliveries exist from then on, written in the same transaction.

CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY,
    court_code      text NOT NULL CHECK (court_code <> '' AND length(court_code) <= 64),
    url             text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    -- Empty: every event type.
    event_types     text[] NOT NULL DEFAULT '{}',
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    state           text NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'DISABLED')),
    disabled_reason text NOT NULL DEFAULT '',
    version         bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    create_time     timestamptz NOT NULL,
    update_time     timestamptz NOT NULL,
    CHECK ((state = 'DISABLED') = (disabled_reason <> ''))
);

CREATE INDEX webhook_endpoints_court ON webhook_endpoints (court_code);

-- Signing secrets, encrypted (AES-256-GCM: nonce || ciphertext). During a
-- rotation the old secret keeps signing until its expire_time.
CREATE TABLE webhook_secrets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    secret      bytea NOT NULL,
    create_time timestamptz NOT NULL,
    expire_time timestamptz
);

CREATE INDEX webhook_secrets_endpoint ON webhook_secrets (endpoint_id);

-- One message to one endpoint. The body is frozen at fan-out, so that
-- every attempt sends the same bytes under the same webhook-id.
CREATE TABLE webhook_deliveries (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id       uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    case_id           uuid NOT NULL,
    case_version      bigint NOT NULL CHECK (case_version > 0),
    message_id        text NOT NULL,
    event_type        text NOT NULL,
    body              text NOT NULL,
    status            text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_time timestamptz NOT NULL,
    lease_until       timestamptz,
    last_http_status  integer NOT NULL DEFAULT 0,
    last_error        text NOT NULL DEFAULT '',
    create_time       timestamptz NOT NULL,
    update_time       timestamptz NOT NULL,
    deliver_time      timestamptz,
    UNIQUE (endpoint_id, case_id, case_version),
    CHECK ((status = 'DELIVERED') = (deliver_time IS NOT NULL))
);

-- The sender's queue: pending deliveries by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_time) WHERE status = 'PENDING';
-- The delivery log of an endpoint, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
-- Retention of delivered messages.
CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (deliver_time) WHERE status = 'DELIVERED';
-- Retention of dispatched outbox rows.
CREATE INDEX outbox_dispatched ON outbox (deliver_time) WHERE deliver_time IS NOT NULL;
