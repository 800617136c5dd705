package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// mediatorPhones are the work numbers TestMediatorPhonesAreMaskedByRole
// gives qingyang's mediators.
var mediatorPhones = map[string]string{
	"li-hong":    "13909341234",  // 西峰区巾帼调解工作室
	"zhang-min":  "13809345678",  // 西峰区巾帼调解工作室
	"wang-qiang": "0934-8621234", // 西峰区北街街道人民调解委员会
	"sun-li":     "13993411111",  // 庆城县巾帼调解工作室
}

// TestMediatorPhonesAreMaskedByRole is finding 5 of issue 10: the
// directory showed every mediator's number unmasked to every role. It is
// unmasked for the administrator, the lead of the mediator's organization
// and the mediator themself, masked as a party's is for everyone else, and
// an unmasked read of someone else's number is on record.
func TestMediatorPhonesAreMaskedByRole(t *testing.T) {
	w := newHoldsWorld(t)
	bg := context.Background()
	for id, phone := range mediatorPhones {
		if _, err := w.e.store.UpdateMediator(bg, id, store.MediatorChange{Phone: &phone}, 0, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	dir := mediationv1.NewDirectoryServiceClient(w.e.conn)
	for _, tt := range []struct {
		role, token string
		sees        []string // whose numbers are unmasked
		recorded    []string // whose unmasked reads are on record
	}{
		{"admin", "", []string{"li-hong", "zhang-min", "wang-qiang", "sun-li"}, []string{"li-hong", "zhang-min", "wang-qiang", "sun-li"}},
		{"lead", w.lead, []string{"li-hong", "zhang-min"}, []string{"li-hong", "zhang-min"}},
		{"mediator", w.mediator, []string{"li-hong"}, nil}, // her own number
		{"supervisor", w.supervisor, nil, nil},
		{"court", w.court, nil, nil},
		{"auditor", w.auditor, nil, nil},
	} {
		ctx := bg
		if tt.token != "" {
			ctx = as(bg, tt.token)
		}
		var shown []*mediationv1.Mediator
		list, err := dir.ListMediators(ctx, &mediationv1.ListMediatorsRequest{PageSize: 100})
		if err != nil {
			t.Fatalf("%s lists mediators: %v", tt.role, err)
		}
		shown = append(shown, list.GetMediators()...)
		for id := range mediatorPhones {
			got, err := dir.GetMediator(ctx, &mediationv1.GetMediatorRequest{Name: "mediators/" + id})
			if err != nil {
				t.Fatalf("%s reads mediators/%s: %v", tt.role, id, err)
			}
			shown = append(shown, got.GetMediator())
		}
		for _, m := range shown {
			id := m.GetName()[len("mediators/"):]
			want := mediatorPhones[id]
			if !slices.Contains(tt.sees, id) {
				want = casework.MaskPhone(want)
			}
			if m.GetPhone() != want {
				t.Errorf("%s reads the phone of %s as %q, want %q", tt.role, m.GetName(), m.GetPhone(), want)
			}
		}
		listed := map[string]bool{}
		for _, m := range list.GetMediators() {
			listed[m.GetName()] = true
		}
		for id := range mediatorPhones {
			if !listed["mediators/"+id] {
				t.Errorf("%s: mediators/%s is not listed", tt.role, id)
			}
		}
		actor := map[string]string{"admin": "users/root", "lead": "users/studio-lead", "mediator": "users/li-hong",
			"supervisor": "users/qingyang-sup", "court": "users/xifeng-court", "auditor": "users/auditor"}[tt.role]
		audit, err := mediationv1.NewAuditServiceClient(w.e.conn).ListAuditEvents(bg, &mediationv1.ListAuditEventsRequest{
			Filter: `kind = READ_PERSONAL_DATA AND actor = "` + actor + `"`, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		reads := map[string]int{}
		for _, ev := range audit.GetAuditEvents() {
			reads[ev.GetResource()]++
		}
		for id := range mediatorPhones {
			want := 0
			if slices.Contains(tt.recorded, id) {
				want = 2 // listed, then read
			}
			if got := reads["mediators/"+id]; got != want {
				t.Errorf("%s: %d unmasked reads of mediators/%s on record, want %d", tt.role, got, id, want)
			}
		}
	}
}
