package casework_test

import (
	"slices"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
)

func candidate(org casework.Organization, id string, open int, specialties ...casework.DisputeType) casework.Candidate {
	org.Active = true
	return casework.Candidate{Organization: org, Mediator: casework.Mediator{
		ID: id, DisplayName: id, OrganizationID: org.ID, Active: true, OpenCases: open, Specialties: specialties,
	}}
}

func TestSuggestOrder(t *testing.T) {
	women := casework.Organization{ID: "xifeng-women", Type: casework.OrgWomenStudio, RegionCode: "621002", DisputeTypes: []casework.DisputeType{casework.DisputeMarriageFamily}}
	otherWomen := casework.Organization{ID: "qingcheng-women", Type: casework.OrgWomenStudio, RegionCode: "621021", DisputeTypes: []casework.DisputeType{casework.DisputeMarriageFamily}}
	township := casework.Organization{ID: "xifeng-township", Type: casework.OrgTownshipCommittee, RegionCode: "621002"}
	lanzhou := casework.Organization{ID: "lanzhou-township", Type: casework.OrgTownshipCommittee, RegionCode: "620102"}
	medical := casework.Organization{ID: "xifeng-medical", Type: casework.OrgProfessionalCommittee, RegionCode: "621002", DisputeTypes: []casework.DisputeType{casework.DisputeMedical}}
	inactive := casework.Organization{ID: "closed-room", Type: casework.OrgTownshipCommittee, RegionCode: "621002"}
	// A women's studio that lists only neighbour disputes: its type would
	// rank it first for a marriage dispute, but it does not take them.
	neighbourStudio := casework.Organization{ID: "xifeng-women-neighbours", Type: casework.OrgWomenStudio, RegionCode: "621002", DisputeTypes: []casework.DisputeType{casework.DisputeNeighbor}}

	cands := []casework.Candidate{
		candidate(township, "t-busy", 9),
		candidate(township, "t-free", 0),
		candidate(lanzhou, "l-free", 0),
		candidate(medical, "doctor", 0),
		candidate(otherWomen, "q-free", 0),
		candidate(women, "w-busy", 5),
		candidate(women, "w-free", 1),
		candidate(women, "w-expert", 7, casework.DisputeMarriageFamily),
		candidate(women, "w-recused", 0),
		candidate(neighbourStudio, "n-free", 0),
	}
	off := candidate(inactive, "off", 0)
	off.Organization.Active = false
	cands = append(cands, off)
	retired := candidate(township, "retired", 0)
	retired.Mediator.Active = false
	cands = append(cands, retired)

	c := casework.Case{DisputeType: casework.DisputeMarriageFamily, RegionCode: "621002", RecusedMediators: []string{"mediators/w-recused"}}
	got := casework.Suggest(c, cands, 0)
	var ids []string
	for i, s := range got {
		ids = append(ids, s.Mediator.ID)
		if s.Rank != i+1 {
			t.Errorf("%s ranked %d at position %d", s.Mediator.ID, s.Rank, i+1)
		}
	}
	want := []string{"w-expert", "w-free", "w-busy", "q-free", "t-free", "t-busy", "l-free"}
	if !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
	if top := casework.Suggest(c, cands, 2); len(top) != 2 || top[0].Mediator.ID != "w-expert" {
		t.Errorf("max 2: %v", top)
	}

	// A medical dispute goes to the medical committee first, never to the
	// women's studio (it does not take the type).
	c = casework.Case{DisputeType: casework.DisputeMedical, RegionCode: "621002"}
	got = casework.Suggest(c, cands, 0)
	if got[0].Mediator.ID != "doctor" {
		t.Errorf("medical dispute: first %s", got[0].Mediator.ID)
	}
	for _, s := range got {
		if s.Organization.Type == casework.OrgWomenStudio {
			t.Errorf("women's studio suggested for a medical dispute")
		}
	}
	// The current mediator is not suggested again.
	c.Mediator = "mediators/doctor"
	if got := casework.Suggest(c, cands, 1); got[0].Mediator.ID == "doctor" {
		t.Error("the mediator who has the case is suggested")
	}
}

func TestDueTimeAndDaysRemaining(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// Accepted at 23:30 on 1 March, Beijing time (15:30 UTC): day 1 is 1 March.
	accepted := time.Date(2026, 3, 1, 15, 30, 0, 0, time.UTC)
	due := casework.DueTime(accepted, 30, shanghai)
	if want := time.Date(2026, 3, 31, 23, 59, 59, 999999000, shanghai); !due.Equal(want) {
		t.Errorf("due %v, want %v", due.In(shanghai), want)
	}
	for _, tt := range []struct {
		now  time.Time
		want int
	}{
		{accepted, 30},
		{time.Date(2026, 3, 31, 12, 0, 0, 0, shanghai), 0},
		{time.Date(2026, 4, 1, 0, 0, 1, 0, shanghai), -1},
		{time.Date(2026, 3, 31, 16, 30, 0, 0, time.UTC), -1}, // 00:30 on 1 April in Beijing
	} {
		if got := casework.DaysRemaining(due, tt.now, shanghai); got != tt.want {
			t.Errorf("days remaining at %v: %d, want %d", tt.now.In(shanghai), got, tt.want)
		}
	}
}

func TestParseYuan(t *testing.T) {
	for in, want := range map[string]int64{"5000": 500000, "5000.5": 500050, "0.01": 1, "123456789012.99": 12345678901299} {
		if got, err := casework.ParseYuan(in); err != nil || got != want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ".5", "5.", "5.123", "-5", "1e3", "五千", "1.2.3", "1234567890123"} {
		if _, err := casework.ParseYuan(bad); err == nil {
			t.Errorf("ParseYuan(%q) accepted", bad)
		}
	}
	if got := casework.FormatYuan(960000); got != "9600.00" {
		t.Errorf("FormatYuan = %q", got)
	}
}

// TestDisplayNames checks that every dispute type, organization type and
// intake source has a Chinese name, each its own.
func TestDisplayNames(t *testing.T) {
	seen := map[string]string{}
	check := func(value, name string) {
		t.Helper()
		if name == "" {
			t.Errorf("%s has no display name", value)
		} else if other, dup := seen[name]; dup {
			t.Errorf("%s and %s are both named %s", other, value, name)
		}
		seen[name] = value
	}
	for _, v := range casework.DisputeTypes {
		check(string(v), v.DisplayName())
	}
	for _, v := range casework.Sources {
		check(string(v), v.DisplayName())
	}
	seen = map[string]string{}
	for _, v := range casework.OrganizationTypes {
		check(string(v), v.DisplayName())
	}
}
