package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/identity"
	"github.com/mediationd/mediationd/internal/store"
)

// TestPaginationWhileInserting pages through the cases while new ones are
// registered between pages: every case that existed at the start comes
// back exactly once, and no case comes back twice.
func TestPaginationWhileInserting(t *testing.T) {
	for _, ascending := range []bool{false, true} {
		t.Run(fmt.Sprintf("ascending=%v", ascending), func(t *testing.T) {
			st, _ := newCaseStore(t)
			ctx := context.Background()
			initial := map[uuid.UUID]bool{}
			for i := range 47 {
				c, _ := create(t, st, caseworktest.NewCase(fmt.Sprintf("case %d", i)), "")
				initial[c.ID] = true
			}
			seen := map[uuid.UUID]int{}
			var after int64
			pages := 0
			for {
				page, err := st.ListCases(ctx, store.ListCasesParams{Ascending: ascending, After: after, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, c := range page.Cases {
					seen[c.ID]++
				}
				// Others register cases between pages.
				for i := range 3 {
					create(t, st, caseworktest.NewCase(fmt.Sprintf("late %d/%d", pages, i)), "")
				}
				if page.Next == 0 {
					break
				}
				after = page.Next
				if pages > 100 {
					t.Fatal("pagination does not end")
				}
			}
			for id := range initial {
				if seen[id] != 1 {
					t.Errorf("case %s seen %d times", id, seen[id])
				}
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("case %s seen %d times", id, n)
				}
			}
		})
	}
}

func TestListFilters(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	mk := func(region string, dt casework.DisputeType, state casework.State) casework.Case {
		n := caseworktest.NewCase(region + string(dt))
		n.RegionCode, n.DisputeType = region, dt
		c, _ := create(t, st, n, "")
		for i, a := range caseworktest.PathTo(state) {
			next, _, _, err := applyAction(st, ctx, c.ID, 0, caseworktest.Command(a, i))
			if err != nil {
				t.Fatal(err)
			}
			c = next
		}
		return c
	}
	xifengFamily := mk("621002", casework.DisputeMarriageFamily, casework.StateMediating)
	xifengNeighbor := mk("621002", casework.DisputeNeighbor, casework.StateIntake)
	zhenyuanFamily := mk("621027", casework.DisputeMarriageFamily, casework.StateClosed)
	lanzhou := mk("620102", casework.DisputeLabor, casework.StateAccepted)

	tests := []struct {
		filter string
		want   []casework.Case
	}{
		{"", []casework.Case{xifengFamily, xifengNeighbor, zhenyuanFamily, lanzhou}},
		{`state = MEDIATING`, []casework.Case{xifengFamily}},
		{`state != CLOSED AND region_code = "621000"`, []casework.Case{xifengFamily, xifengNeighbor}},
		{`region_code = "620000"`, []casework.Case{xifengFamily, xifengNeighbor, zhenyuanFamily, lanzhou}},
		{`region_code = "621027"`, []casework.Case{zhenyuanFamily}},
		{`dispute_type = MARRIAGE_FAMILY`, []casework.Case{xifengFamily, zhenyuanFamily}},
		{`state = INTAKE OR state = ACCEPTED`, []casework.Case{xifengNeighbor, lanzhou}},
		{`(state = INTAKE OR state = ACCEPTED) AND dispute_type = LABOR`, []casework.Case{lanzhou}},
		{`outcome = REJECTED`, []casework.Case{zhenyuanFamily}},
		{`mediator = "mediators/mediator-1"`, []casework.Case{xifengFamily}},
		{`organization = "organizations/room-1" AND NOT state = CLOSED`, []casework.Case{xifengFamily}},
		{`case_number = "` + lanzhou.Number + `"`, []casework.Case{lanzhou}},
		{`create_time >= "2026-03-01T09:00:00Z" AND create_time < "2026-03-01T09:00:01+00:00"`, []casework.Case{xifengFamily, xifengNeighbor, zhenyuanFamily, lanzhou}},
		{`create_time > "2026-03-01T09:00:00Z"`, nil},
		{`source = WALK_IN AND state = AGREED`, nil},
	}
	for _, tt := range tests {
		page, err := st.ListCases(ctx, store.ListCasesParams{Filter: tt.filter, Ascending: true, Limit: 100})
		if err != nil {
			t.Errorf("%s: %v", tt.filter, err)
			continue
		}
		var got, want []uuid.UUID
		for _, c := range page.Cases {
			got = append(got, c.ID)
		}
		for _, c := range tt.want {
			want = append(want, c.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %d cases %v, want %d %v", tt.filter, len(got), got, len(want), want)
		}
	}
	for _, bad := range []string{`stat = MEDIATING`, `state = MEDIATE`, `region_code = "62"`, `mediator = "li"`, `state = `, `(state = INTAKE`, `create_time > "yesterday"`} {
		_, err := st.ListCases(ctx, store.ListCasesParams{Filter: bad, Limit: 10})
		var fe *casework.FieldError
		if !errors.As(err, &fe) || fe.Field != "filter" {
			t.Errorf("%s: %v, want a FieldError on filter", bad, err)
		}
	}
}

func TestListEventsPages(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	c := bring(t, st, casework.StateAgreed)
	var all []casework.Event
	var after int64
	for {
		evs, more, err := st.ListEvents(ctx, c.ID, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, evs...)
		if !more {
			break
		}
		after = evs[len(evs)-1].Version
	}
	if len(all) != 5 || all[4].Action != casework.ActionRecordAgreement || all[4].Data.Agreement == nil {
		t.Errorf("events: %+v", all)
	}
	if _, _, err := st.ListEvents(ctx, uuid.New(), 0, 10); !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}
}

// TestListByPartyName: party_name finds the cases one of whose parties
// has the name, whatever their role; != finds the others; it combines
// with the other fields and with the scope like any field.
func TestListByPartyName(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	mk := func(applicant, respondent, region string) casework.Case {
		n := caseworktest.NewCase("party " + applicant)
		n.RegionCode = region
		n.Parties[0].Name, n.Parties[1].Name = applicant, respondent
		c, _ := create(t, st, n, "")
		return c
	}
	wang := mk("王秀英", "王建国", "621002")
	li := mk("李梅", "王秀英", "621027")
	other := mk("赵一", "钱二", "621002")
	ids := func(filter string, scope *identity.CaseScope) []uuid.UUID {
		t.Helper()
		page, err := st.ListCases(ctx, store.ListCasesParams{Filter: filter, Limit: 50, Ascending: true, Scope: scope})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		var out []uuid.UUID
		for _, c := range page.Cases {
			out = append(out, c.ID)
		}
		return out
	}
	for _, c := range []struct {
		filter string
		scope  *identity.CaseScope
		want   []uuid.UUID
	}{
		{`party_name = "王秀英"`, nil, []uuid.UUID{wang.ID, li.ID}},
		{`party_name = "王建国"`, nil, []uuid.UUID{wang.ID}},
		{`party_name = "王"`, nil, nil},
		{`party_name != "王秀英"`, nil, []uuid.UUID{other.ID}},
		{`party_name = "王秀英" AND region_code = "621027"`, nil, []uuid.UUID{li.ID}},
		{`case_number = "王秀英" OR party_name = "赵一"`, nil, []uuid.UUID{other.ID}},
		{`party_name = "王秀英"`, &identity.CaseScope{RegionPrefix: "621002"}, []uuid.UUID{wang.ID}},
	} {
		if got := ids(c.filter, c.scope); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}
}

// TestListedCasesAsRead checks that a page holds each case as GetCase reads
// it, in every state (so with and without an agreement, a deadline, a
// failure...) and with parties of different counts: the page's rows are
// scanned into reused targets, and no case may keep a part of another.
func TestListedCasesAsRead(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	var want []casework.Case
	for i, state := range casework.States {
		c := bring(t, st, state)
		if i%2 == 0 {
			// One more party on every other case.
			n := caseworktest.NewCase(fmt.Sprintf("three parties %d", i))
			n.Parties = append(n.Parties, casework.Party{ID: "p3", Name: "王五", Role: casework.RoleRespondent})
			c, _ = create(t, st, n, "")
		}
		want = append(want, c)
	}
	page, err := st.ListCases(ctx, store.ListCasesParams{Ascending: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[uuid.UUID]casework.Case{}
	for _, c := range page.Cases {
		got[c.ID] = c
	}
	for _, w := range want {
		read, err := st.GetCase(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g, ok := got[w.ID]; !ok || !reflect.DeepEqual(g, read) {
			t.Errorf("case %s (%s): listed as\n%+v\nread as\n%+v", w.Number, read.State, g, read)
		}
	}
}
