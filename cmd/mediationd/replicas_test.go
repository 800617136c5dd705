package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/metadata"

	"github.com/mediationd/mediationd/internal/checker"
	"github.com/mediationd/mediationd/internal/pgtest"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// TestReplicas runs three replicas on one database, each running the
// overdue job every second. The checker's workload, spread over the three,
// must leave a history that accounts for everything; and cases pushed past
// their due time meanwhile must each be marked overdue exactly once, with
// one outbox row, however many replicas race for them.
func TestReplicas(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 2*time.Minute)
	dsn := pgtest.NewDatabase(t)
	env := crashEnv("DATABASE_URL="+dsn, "MEDIATION_OVERDUE_INTERVAL=1s")
	first := serve(ctx, t, env, "--migrate")
	first.waitReady(ctx, 30*time.Second)
	replicas := []*service{first, serve(ctx, t, env), serve(ctx, t, env)}
	for _, r := range replicas[1:] {
		r.waitReady(ctx, 30*time.Second)
	}
	first.signIn(ctx)

	w := newWorkload(ctx, t, first.token, checker.Options{
		Workers: 9, Cases: 24, HotCases: 3, Actions: 1 << 30, Duration: time.Minute, Seed: 21, CallTimeout: 3 * time.Second,
	}, replicas...)
	stop := background(ctx, t, w)

	// The job also races with the workers on the workload's open cases.
	time.Sleep(time.Second)
	n := pastDue(ctx, t, dsn, `starts_with(summary, $1) AND state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING')`, checker.Marker(w.RunID()))
	t.Logf("moved %d of the workload's open cases past their due time", n)
	overdue := overdueCases(ctx, t, first.token, dsn, 30, replicas...)
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.WithoutCancel(ctx))
	const marked = `SELECT count(DISTINCT case_id) FROM case_events WHERE action = 'markOverdue' AND case_id = ANY($1::text[]::uuid[])`
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := db.QueryRow(ctx, marked, overdue).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == len(overdue) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d cases past their due time marked overdue after 20s", n, len(overdue))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Several more runs of the job on every replica.
	time.Sleep(3 * time.Second)
	rows, err := db.Query(ctx, `SELECT c.id::text, c.version, c.overdue,
			count(e.version), coalesce(min(e.version), 0), count(o.id), bool_and(o.topic = 'case.markOverdue')
		FROM cases c
		LEFT JOIN case_events e ON e.case_id = c.id AND e.action = 'markOverdue'
		LEFT JOIN outbox o ON o.case_id = e.case_id AND o.case_version = e.version
		WHERE c.id = ANY($1::text[]::uuid[])
		GROUP BY c.id`, overdue)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	var version, events, eventVersion, outboxRows int64
	var isOverdue bool
	var topicOK *bool
	checked := 0
	if _, err := pgx.ForEachRow(rows, []any{&id, &version, &isOverdue, &events, &eventVersion, &outboxRows, &topicOK}, func() error {
		checked++
		if events != 1 || outboxRows != 1 || topicOK == nil || !*topicOK || !isOverdue || version != eventVersion {
			t.Errorf("cases/%s: %d markOverdue events, %d outbox rows for them; overdue %v, version %d, marked at version %d; want one of each, the last change",
				id, events, outboxRows, isOverdue, version, eventVersion)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if checked != len(overdue) {
		t.Errorf("checked %d overdue cases, want %d", checked, len(overdue))
	}

	stop()
	rec, rep := resolveAndVerify(ctx, t, w, dsn, false)
	if n > 0 && rep.SystemEvents == 0 {
		t.Errorf("%d of the workload's cases were past their due time, but the service marked none", n)
	}
	perReplica := make([]int, len(replicas))
	for _, c := range rec.Calls {
		if c.Outcome == checker.Acked && c.Replica >= 0 {
			perReplica[c.Replica]++
		}
	}
	t.Logf("acknowledged calls per replica: %v", perReplica)
	for i, n := range perReplica {
		if n == 0 {
			t.Errorf("replica %d acknowledged no call", i)
		}
	}
	if rep.Acked < 500 {
		t.Errorf("%d calls acknowledged; want a busier run", rep.Acked)
	}
	for _, r := range replicas {
		r.stop(shutdownTimeout)
	}
}

// overdueCases registers n cases through the replicas in turn, accepts
// them, and moves their due time a day into the past behind the service's
// back (with triggers off, since the clock is real and the version of a
// case only moves with its history). It returns their ids.
func overdueCases(ctx context.Context, t *testing.T, token, dsn string, n int, replicas ...*service) []string {
	t.Helper()
	var addrs []string
	for _, r := range replicas {
		addrs = append(addrs, r.grpcAddr)
	}
	conns, err := checker.Dial(addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	var ids []string
	for i := range n {
		client := mediationv1.NewCaseServiceClient(conns[i%len(conns)])
		created, err := client.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: &mediationv1.Case{
			DisputeType: mediationv1.DisputeType_DISPUTE_TYPE_NEIGHBOR,
			Source:      mediationv1.CaseSource_CASE_SOURCE_WALK_IN,
			Summary:     fmt.Sprintf("逾期核查 %d", i),
			RegionCode:  "621002",
			Parties:     []*mediationv1.Party{{Name: "张三", Role: mediationv1.PartyRole_PARTY_ROLE_APPLICANT}},
		}})
		if err != nil {
			t.Fatalf("CreateCase: %v", err)
		}
		name := created.GetCase().GetName()
		if _, err := client.AcceptCase(ctx, &mediationv1.AcceptCaseRequest{Name: name, Etag: created.GetCase().GetEtag()}); err != nil {
			t.Fatalf("AcceptCase %s: %v", name, err)
		}
		ids = append(ids, name[len("cases/"):])
	}
	if moved := pastDue(ctx, t, dsn, `id = ANY($1::text[]::uuid[]) AND state = 'ACCEPTED' AND NOT overdue`, ids); moved != int64(n) {
		t.Fatalf("moved the due time of %d cases, want %d", moved, n)
	}
	return ids
}

// pastDue moves the due time of the cases matching where a day into the
// past, with triggers off: the clock is real, and the version of a case
// only moves with its history. It returns how many cases it moved.
func pastDue(ctx context.Context, t *testing.T, dsn, where string, args ...any) int64 {
	t.Helper()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.WithoutCancel(ctx))
	if _, err := db.Exec(ctx, "SET session_replication_role = replica"); err != nil {
		t.Skipf("cannot turn triggers off (needs a superuser): %v", err)
	}
	tag, err := db.Exec(ctx, `UPDATE cases SET due_time = now() - interval '1 day',
		deadline = jsonb_set(deadline, '{due_time}', to_jsonb(now() - interval '1 day'))
		WHERE deadline IS NOT NULL AND `+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	return tag.RowsAffected()
}
