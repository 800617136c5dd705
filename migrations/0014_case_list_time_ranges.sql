-- A list page of an accept, due or close time range takes the range's
-- cases from that time's index and sorts them into registration order.
-- With the registration key (and the region, for a county's or a
-- supervisor's pages) in the index, the sort reads the index alone, and
-- only the page's cases are read from the table.
DROP INDEX cases_list_accept_time;
DROP INDEX cases_list_due_time;
DROP INDEX cases_list_close_time;
CREATE INDEX cases_list_accept_time ON cases (accept_time) INCLUDE (create_time, seq, region_code) WHERE accept_time IS NOT NULL;
CREATE INDEX cases_list_due_time ON cases (due_time) INCLUDE (create_time, seq, region_code) WHERE due_time IS NOT NULL;
CREATE INDEX cases_list_close_time ON cases (close_time) INCLUDE (create_time, seq, region_code) WHERE close_time IS NOT NULL;
