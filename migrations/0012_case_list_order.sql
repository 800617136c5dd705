-- ListCases pages in registration order (create_time, then seq among
-- cases registered at the same instant), as the API documents, from
-- indexes that give that order for each filter a list page is asked for:
-- a page is then a short walk of one index from the cursor on, however
-- deep, instead of a walk of the insertion order that discards every
-- case the filter does not want.
--
-- The indexes of the insertion order they replace are dropped; the open
-- cases' indexes by organization and mediator (routing) stay.

DROP INDEX cases_state_seq;
DROP INDEX cases_region_seq;
DROP INDEX cases_organization_seq;
DROP INDEX cases_mediator_seq;
DROP INDEX cases_create_time;

-- No filter, and create_time ranges.
CREATE INDEX cases_list ON cases (create_time, seq);

CREATE INDEX cases_list_state ON cases (state, create_time, seq);
-- A county (region_code = "621002"); a city or province prefix walks
-- cases_list, most of whose cases it wants.
CREATE INDEX cases_list_region ON cases (region_code, create_time, seq);
CREATE INDEX cases_list_organization ON cases (organization, create_time, seq) WHERE organization <> '';
CREATE INDEX cases_list_mediator ON cases (mediator, create_time, seq) WHERE mediator <> '';
CREATE INDEX cases_list_dispute_type ON cases (dispute_type, create_time, seq);
CREATE INDEX cases_list_source ON cases (source, create_time, seq);
CREATE INDEX cases_list_closed ON cases (outcome, create_time, seq) WHERE outcome <> '';
CREATE INDEX cases_list_court ON cases (court_code, create_time, seq) WHERE court_code IS NOT NULL;
CREATE INDEX cases_list_court_case ON cases (court_case_number) WHERE court_case_number IS NOT NULL;
CREATE INDEX cases_list_performance ON cases (performance_status, create_time, seq) WHERE performance_status <> '';
-- The rare flags: only the cases that have them.
CREATE INDEX cases_list_overdue ON cases (create_time, seq) WHERE overdue;
CREATE INDEX cases_list_group_dispute ON cases (create_time, seq) WHERE group_dispute;
CREATE INDEX cases_list_escalation_risk ON cases (create_time, seq) WHERE escalation_risk;
CREATE INDEX cases_list_family_violence ON cases (create_time, seq) WHERE family_violence;
CREATE INDEX cases_list_minors_involved ON cases (create_time, seq) WHERE minors_involved;
-- The other times' ranges: the planner may take the cases in the range
-- and sort them, rather than walk the registration order. update_time is
-- left out: it changes with every action, and an index on it would make
-- every update rewrite every index.
CREATE INDEX cases_list_accept_time ON cases (accept_time) WHERE accept_time IS NOT NULL;
CREATE INDEX cases_list_due_time ON cases (due_time) WHERE due_time IS NOT NULL;
CREATE INDEX cases_list_close_time ON cases (close_time) WHERE close_time IS NOT NULL;
