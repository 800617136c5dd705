package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/store"
)

// How each table of the schema would be laid out on a sharded PostgreSQL
// (Citus), as README "Distributing by region" describes. Every table of
// the migrated schema must be in exactly one of the three lists: a table
// added later fails TestSchemaReadyToDistribute until it is placed.

// distribution is a distributed table's distribution column and whether
// its rows belong to a case (then the column is the case's home region,
// kept so by a foreign key to cases (id, region_code)).
type distribution struct {
	column    string
	caseOwned bool
}

// distributedTables are hash-distributed, all colocated: a region's rows
// of every table are on the same shard.
var distributedTables = map[string]distribution{
	"cases":                 {column: "region_code"},
	"case_events":           {column: "region_code", caseOwned: true},
	"outbox":                {column: "region_code", caseOwned: true},
	"case_sessions":         {column: "region_code", caseOwned: true},
	"case_follow_ups":       {column: "region_code", caseOwned: true},
	"case_create_requests":  {column: "region_code", caseOwned: true},
	"court_referral_claims": {column: "region_code", caseOwned: true},
	"webhook_deliveries":    {column: "region_code", caseOwned: true},
	// The trail: a record about a case carries its region, others ''.
	"audit_events": {column: "region_code"},
	// Figures by region, and their pending changes.
	"case_tallies":       {column: "region_code"},
	"case_tally_rollups": {column: "region_code"},
	"case_tally_deltas":  {column: "region_code"},
	// A numbering scheme's counters live with the scheme's region.
	"case_number_counters": {column: "scheme_region"},
}

// referenceTables are small, read by every shard, written rarely: a copy
// on every node.
var referenceTables = []string{
	"regions", "organizations", "mediators", "deadline_rules", "case_number_schemes", "case_tally_settings",
	"users", "api_keys", "webhook_endpoints", "webhook_secrets",
}

// localTables stay on the coordinator the service connects to: sign-in
// state and the migrations' own record.
var localTables = []string{"auth_sessions", "login_failures", "schema_migrations"}

// uniqueWithoutRegion are the unique constraints and indexes of
// distributed tables that do not include the distribution column, with
// why. Citus would refuse each; README says what each becomes there.
var uniqueWithoutRegion = map[string]string{
	// A case's id is its name (cases/{id}) nationwide and GetCase finds
	// it by the id alone; cases_id_region_key is the key Citus would keep.
	"cases.cases_pkey": "the case id is unique nationwide; on Citus the id would carry its region or be resolved by a lookup table",
	// The insertion order that breaks ties of the list order.
	"cases.cases_seq_key": "a single-node insertion counter; on Citus a per-node identity range, unique by generation",
	// Printed on documents, so unique nationwide.
	"cases.cases_case_number_key": "case numbers are unique nationwide; on Citus a lookup table distributed by case_number",
	// Idempotency claims: the same request id or court case number sent
	// again with another region is the same claim and must be found.
	"case_create_requests.case_create_requests_pkey":          "a request id is one claim whatever its region; on Citus distributed by request_id",
	"case_create_requests.case_create_requests_case_id_key":   "one claim per case; on Citus the claim table is distributed by request_id",
	"court_referral_claims.court_referral_claims_pkey":        "a court's case number is one referral whatever the region; on Citus distributed by court_code",
	"court_referral_claims.court_referral_claims_case_id_key": "one claim per case; on Citus the claim table is distributed by court_code",
}

// catalog is what the checks read of a database's schema.
type catalog struct {
	tables  []string
	columns map[string]map[string]bool // table → column → NOT NULL
	uniques []struct {
		table, name string
		columns     []string
	}
	fks []struct {
		table, name, ref    string
		columns, refColumns []string
	}
}

func readCatalog(t *testing.T, db *pgx.Conn) catalog {
	t.Helper()
	ctx := context.Background()
	c := catalog{columns: map[string]map[string]bool{}}
	rows, err := db.Query(ctx, `SELECT c.relname, a.attname, a.attnotnull
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition`)
	if err != nil {
		t.Fatal(err)
	}
	var table, column string
	var notNull bool
	if _, err := pgx.ForEachRow(rows, []any{&table, &column, &notNull}, func() error {
		if c.columns[table] == nil {
			c.columns[table] = map[string]bool{}
			c.tables = append(c.tables, table)
		}
		c.columns[table][column] = notNull
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(c.tables)

	rows, err = db.Query(ctx, `SELECT t.relname, i.relname,
			ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) AS k(n) JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n)
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
		WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	var columns []string
	if _, err := pgx.ForEachRow(rows, []any{&table, &name, &columns}, func() error {
		c.uniques = append(c.uniques, struct {
			table, name string
			columns     []string
		}{table, name, columns})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	rows, err = db.Query(ctx, `SELECT k.conrelid::regclass::text, k.conname, k.confrelid::regclass::text,
			ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS x(n, i)
				JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.n ORDER BY x.i),
			ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS x(n, i)
				JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.n ORDER BY x.i)
		FROM pg_constraint k WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	var ref string
	var refColumns []string
	if _, err := pgx.ForEachRow(rows, []any{&table, &name, &ref, &columns, &refColumns}, func() error {
		c.fks = append(c.fks, struct {
			table, name, ref    string
			columns, refColumns []string
		}{table, name, ref, columns, refColumns})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// distributionProblems lists what keeps the schema from being distributed
// as the lists above say.
func distributionProblems(c catalog) []string {
	var out []string
	class := map[string]string{}
	place := func(table, as string) {
		if prev, ok := class[table]; ok {
			out = append(out, fmt.Sprintf("%s is classified twice: %s and %s", table, prev, as))
		}
		class[table] = as
	}
	for table := range distributedTables {
		place(table, "distributed")
	}
	for _, table := range referenceTables {
		place(table, "reference")
	}
	for _, table := range localTables {
		place(table, "local")
	}
	for table := range class {
		if c.columns[table] == nil {
			out = append(out, fmt.Sprintf("%s is classified (%s) but not in the schema: remove it from the lists", table, class[table]))
		}
	}
	for _, table := range c.tables {
		cols := c.columns[table]
		if _, hasCase := cols["case_id"]; hasCase && !distributedTables[table].caseOwned {
			out = append(out, fmt.Sprintf("%s has a case_id but is not classified as case-owned (distributed by region_code)", table))
		}
		switch class[table] {
		case "":
			out = append(out, fmt.Sprintf("%s is not classified: add it to distributedTables (with its distribution column; a case's rows carry region_code), referenceTables or localTables", table))
			continue
		case "distributed":
			d := distributedTables[table]
			if notNull, ok := cols[d.column]; !ok || !notNull {
				out = append(out, fmt.Sprintf("%s: distribution column %s missing or nullable", table, d.column))
			}
		}
		if !distributedTables[table].caseOwned {
			continue
		}
		if notNull, ok := cols["region_code"]; !ok || !notNull {
			out = append(out, fmt.Sprintf("%s: a case-owned table needs region_code NOT NULL, its case's home region", table))
		}
		if !slices.ContainsFunc(c.fks, func(fk struct {
			table, name, ref    string
			columns, refColumns []string
		}) bool {
			return fk.table == table && fk.ref == "cases" && pairs(fk.columns, fk.refColumns)["case_id"] == "id" &&
				pairs(fk.columns, fk.refColumns)["region_code"] == "region_code"
		}) {
			out = append(out, fmt.Sprintf("%s: no foreign key (case_id, region_code) REFERENCES cases (id, region_code)", table))
		}
	}

	for _, u := range c.uniques {
		d, ok := distributedTables[u.table]
		key := u.table + "." + u.name
		_, allowed := uniqueWithoutRegion[key]
		switch {
		case !ok:
		case slices.Contains(u.columns, d.column) && allowed:
			out = append(out, fmt.Sprintf("%s includes %s now: take it off uniqueWithoutRegion", key, d.column))
		case !slices.Contains(u.columns, d.column) && !allowed:
			out = append(out, fmt.Sprintf("%s (%s) lacks the distribution column %s: add it, or say why not in uniqueWithoutRegion",
				key, strings.Join(u.columns, ", "), d.column))
		}
	}
	for key := range uniqueWithoutRegion {
		if !slices.ContainsFunc(c.uniques, func(u struct {
			table, name string
			columns     []string
		}) bool {
			return u.table+"."+u.name == key
		}) {
			out = append(out, fmt.Sprintf("uniqueWithoutRegion names %s, which the schema does not have", key))
		}
	}

	// What Citus allows a foreign key to reference: a reference table
	// from anywhere; a distributed table only from a colocated one, on
	// the distribution columns; nothing but a reference table from a
	// reference table.
	for _, fk := range c.fks {
		from, to := cmp.Or(class[fk.table], "unclassified"), cmp.Or(class[fk.ref], "unclassified")
		switch {
		case to == "reference":
		case from == "distributed" && to == "distributed" &&
			pairs(fk.columns, fk.refColumns)[distributedTables[fk.table].column] == distributedTables[fk.ref].column:
		default:
			out = append(out, fmt.Sprintf("%s.%s: a %s table's foreign key to %s table %s (%s → %s) would not hold on Citus",
				fk.table, fk.name, from, to, fk.ref, strings.Join(fk.columns, ", "), strings.Join(fk.refColumns, ", ")))
		}
	}
	slices.Sort(out)
	return out
}

// pairs maps each referencing column of a foreign key to the column it
// references.
func pairs(columns, refColumns []string) map[string]string {
	m := map[string]string{}
	for i, col := range columns {
		m[col] = refColumns[i]
	}
	return m
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	db, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// TestSchemaReadyToDistribute reads the migrated schema's catalog: every
// table is classified; every case-owned table carries region_code NOT
// NULL with a foreign key to cases (id, region_code); every unique
// constraint of a distributed table includes its distribution column or
// says why not; every foreign key is one Citus could keep. Then it adds
// tables that break each rule and sees each named.
func TestSchemaReadyToDistribute(t *testing.T) {
	_, dsn := newStore(t)
	db := connect(t, dsn)
	if problems := distributionProblems(readCatalog(t, db)); len(problems) > 0 {
		t.Errorf("the schema is not ready to distribute by region:\n  %s", strings.Join(problems, "\n  "))
	}

	ctx := context.Background()
	for _, sql := range []string{
		// A case's notes without the region.
		`CREATE TABLE case_notes (case_id uuid NOT NULL REFERENCES cases (id), number int NOT NULL, PRIMARY KEY (case_id, number))`,
		// A new case-owned table with the region, classified as case-owned
		// by no list.
		`CREATE TABLE case_documents (case_id uuid NOT NULL, region_code text NOT NULL, name text NOT NULL,
			FOREIGN KEY (case_id, region_code) REFERENCES cases (id, region_code), UNIQUE (case_id, name))`,
		// A unique constraint without the region on a classified table.
		`CREATE UNIQUE INDEX case_sessions_start ON case_sessions (case_id, start_time)`,
		// A case-owned table that lost its region's foreign key.
		`ALTER TABLE case_follow_ups DROP CONSTRAINT case_follow_ups_case_region_fkey`,
	} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(distributionProblems(readCatalog(t, db)), "\n")
	for _, want := range []string{
		"case_notes is not classified",
		"case_notes has a case_id but is not classified as case-owned",
		"case_documents is not classified",
		"case_sessions.case_sessions_start (case_id, start_time) lacks the distribution column region_code",
		"case_notes.case_notes_case_id_fkey: a unclassified table's foreign key to distributed table cases",
		"case_follow_ups: no foreign key (case_id, region_code) REFERENCES cases (id, region_code)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems of the broken schema lack %q; they are:\n%s", want, got)
		}
	}
}

// TestCaseRowsCarryTheirCasesRegion writes cases of two regions through
// every writer: registration (with a request id, with a court referral),
// the action pipeline (sessions, follow-up visits, the overdue action),
// the overdue job, the webhook fan-out, the audit trail (in the statement
// of a change and recorded after a request), and WriteCaseHistories; then
// every row that belongs to a case carries that case's region, and a
// case's region cannot change.
func TestCaseRowsCarryTheirCasesRegion(t *testing.T) {
	ctx := context.Background()
	one, _ := newCaseStore(t)
	bulk, _ := newCaseStore(t)
	flow := caseflow.New(one, nil, casework.Policy{}, nil)
	auditOf := func() *store.AuditContext {
		return &store.AuditContext{ClientAddress: "192.0.2.1", Method: "/mediation.v1.CaseService/Test", RequestID: uuid.NewString()}
	}
	caller := func() caseflow.Caller { return caseflow.Caller{Principal: caseflow.System.Principal, Audit: auditOf()} }

	cases, histories := liveHistories(t, one, func(i int, p *store.CreateParams) {
		if i%2 == 0 {
			p.RequestID = uuid.NewString()
		}
		p.Audit = auditOf()
	}, caller)
	var ids []uuid.UUID
	for _, c := range cases {
		ids = append(ids, c.ID)
	}
	if _, err := bulk.WriteCaseHistories(ctx, histories); err != nil {
		t.Fatal(err)
	}

	// A case of 镇原县 left open for the overdue job.
	open := caseworktest.NewCase("镇原县逾期未结的纠纷")
	open.RegionCode = "621027"
	c, _, err := one.CreateCase(ctx, store.CreateParams{New: open, ID: uuid.New(), Actor: "tester", Now: caseworktest.T0, Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flow.Act(ctx, caseflow.System, c.ID, 1, caseworktest.Command(casework.ActionAccept, 0)); err != nil {
		t.Fatal(err)
	}
	if n, err := one.MarkOverdue(ctx, caseworktest.T0.AddDate(1, 0, 0), 100); err != nil || n != 1 {
		t.Fatalf("MarkOverdue = %d, %v; want the one open case", n, err)
	}

	// The court's webhook gets the referred case's changes.
	if _, err := one.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{ID: uuid.New(), CourtCode: "甘1002",
		URL: "https://court.example/hook", CreateTime: caseworktest.T0}, []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if _, deliveries, err := one.DispatchOutbox(ctx, 1000, caseworktest.T0); err != nil || deliveries == 0 {
		t.Fatalf("DispatchOutbox = %d deliveries, %v; want the referral's", deliveries, err)
	}

	// Records after a request: about a case, below a case, about no case.
	now := time.Now().UTC()
	if err := one.RecordAudit(ctx,
		store.AuditRecord{Time: now, Kind: store.AuditReadPersonalData, Actor: "users/a", Resource: "cases/" + ids[2].String(), Code: "OK"},
		store.AuditRecord{Time: now, Kind: store.AuditPermissionDenied, Actor: "users/a", Resource: "cases/" + ids[0].String() + "/events", Code: "PermissionDenied"},
		store.AuditRecord{Time: now, Kind: store.AuditPermissionDenied, Actor: "users/a", Resource: "cases/" + uuid.NewString(), Code: "PermissionDenied"},
		store.AuditRecord{Time: now, Kind: store.AuditLogin, Actor: "users/a", Resource: "users/a", Code: "OK"},
		store.AuditRecord{Time: now, Kind: store.AuditWrite, Actor: "users/a", Resource: "cases/not-a-uuid", Code: "InvalidArgument"},
	); err != nil {
		t.Fatal(err)
	}

	caseOwned := []string{}
	for table, d := range distributedTables {
		if d.caseOwned {
			caseOwned = append(caseOwned, table)
		}
	}
	slices.Sort(caseOwned)
	for name, st := range map[string]*store.Store{"pipeline": one, "WriteCaseHistories": bulk} {
		for _, table := range caseOwned {
			var rows, wrong, regions int
			err := st.Pool().QueryRow(ctx, fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE c.region_code IS DISTINCT FROM t.region_code),
				count(DISTINCT t.region_code) FROM %s t LEFT JOIN cases c ON c.id = t.case_id`, pgx.Identifier{table}.Sanitize())).Scan(&rows, &wrong, &regions)
			if err != nil {
				t.Fatal(err)
			}
			if wrong != 0 {
				t.Errorf("%s: %d of the %d rows of %s carry another region than their case's", name, wrong, rows, table)
			}
			// The regions each writer path writes rows of: both regions'
			// cases have history; only 西峰区's have sessions, visits and a
			// court referral; WriteCaseHistories takes no request ids
			// and dispatches nothing.
			want := map[string]int{"case_events": 2, "outbox": 2, "case_sessions": 1, "case_follow_ups": 1,
				"court_referral_claims": 1, "case_create_requests": 2, "webhook_deliveries": 1}[table]
			if name == "WriteCaseHistories" && (table == "case_create_requests" || table == "webhook_deliveries") {
				want = 0
			}
			if regions != want {
				t.Errorf("%s: %s holds rows of %d regions, want %d (%d rows)", name, table, regions, want, rows)
			}
		}
	}

	var wrong, caseRecords, others int
	err = one.Pool().QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE a.region_code IS DISTINCT FROM coalesce(c.region_code, '')),
			count(*) FILTER (WHERE c.id IS NOT NULL), count(*) FILTER (WHERE c.id IS NULL)
		FROM audit_events a LEFT JOIN cases c
			ON c.id = CASE WHEN a.resource ~ '^cases/[0-9a-f-]{36}($|/)' THEN substr(a.resource, 7, 36)::uuid END`).Scan(&wrong, &caseRecords, &others)
	if err != nil {
		t.Fatal(err)
	}
	if wrong != 0 || caseRecords == 0 || others != 3 {
		t.Errorf("audit: %d records with another region than their case's ('' for none); %d about cases, %d about none (want 3)", wrong, caseRecords, others)
	}

	_, err = one.Pool().Exec(ctx, `UPDATE cases SET region_code = '621027', version = version + 1 WHERE id = $1`, ids[0])
	if err == nil || !strings.Contains(err.Error(), "home region") {
		t.Errorf("changing a case's region: %v, want refused as its home region", err)
	}
}
