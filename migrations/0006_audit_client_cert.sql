-- The subject common name of the client certificate a calling system
-- presented and the service verified (mutual TLS), '' without one: which
-- court system made the call, besides the credential it used.
ALTER TABLE audit_events ADD COLUMN client_cert text NOT NULL DEFAULT '';
