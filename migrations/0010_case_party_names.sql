-- ListCases filters on a party's name (party_name = "王秀英"), which the
-- workbench's search box sends; it compiles to parties @> '[{"name": …}]',
-- which this index answers without reading every case.
CREATE INDEX cases_parties_names ON cases USING gin (parties jsonb_path_ops);
