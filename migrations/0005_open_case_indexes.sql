-- Open-case counts per organization and mediator (routing, the directory's
-- open_case_count) read only these index entries, however many closed cases
-- pile up.
CREATE INDEX cases_open_by_mediator ON cases (mediator) WHERE state IN ('ASSIGNED', 'MEDIATING');
CREATE INDEX cases_open_by_organization ON cases (organization) WHERE state IN ('ASSIGNED', 'MEDIATING');
