package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/mediationd/mediationd/internal/casework"
)

var (
	studio     = Principal{Name: "users/lead", Role: RoleOrganizationLead, OrganizationID: "xifeng-women-studio"}
	studioMed  = Principal{Name: "users/med", Role: RoleMediator, OrganizationID: "xifeng-women-studio", MediatorID: "m-003"}
	xifengDesk = Principal{Name: "apiKeys/k", Role: RoleCourtDesk, CourtCode: "甘1002"}
	admin      = Principal{Name: "users/root", Role: RoleAdmin}
)

func permissionDenied(err error) bool {
	var pe *PermissionError
	return errors.As(err, &pe)
}

// TestLeadActsOnlyOnCasesTheOrganizationHolds: a case the studio
// registered and a supervisor moved to another organization is out of the
// lead's hands, while it stays readable; back at intake (after a recusal)
// it is the studio's again.
func TestLeadActsOnlyOnCasesTheOrganizationHolds(t *testing.T) {
	registered := casework.Case{Number: "C1", IntakeOrganization: "organizations/xifeng-women-studio"}
	handled := registered
	handled.Organization, handled.Mediator = "organizations/xifeng-women-studio", "mediators/m-003"
	moved := registered
	moved.Organization, moved.Mediator = "organizations/xifeng-police-room", "mediators/m-096"
	otherIntake := casework.Case{Number: "C2", IntakeOrganization: "organizations/xifeng-police-room"}
	referral := casework.Case{Number: "C3"} // a court's referral, not yet assigned

	back := casework.Command{Action: casework.ActionAssign, Organization: "organizations/xifeng-women-studio", Mediator: "mediators/m-003", Reason: "收回"}
	for _, tt := range []struct {
		what string
		c    casework.Case
		cmd  casework.Command
		ok   bool
	}{
		{"accept its own intake", registered, casework.Command{Action: casework.ActionAccept}, true},
		{"assign its own intake inside", registered, back, true},
		{"withdraw a case it handles", handled, casework.Command{Action: casework.ActionWithdraw}, true},
		{"fail a case it handles", handled, casework.Command{Action: casework.ActionRecordFailure, Reason: "x"}, true},
		{"assign a case it handles to another organization", handled, casework.Command{Action: casework.ActionAssign, Organization: "organizations/xifeng-police-room"}, false},
		{"record failure on a case moved away", moved, casework.Command{Action: casework.ActionRecordFailure, Reason: "x"}, false},
		{"schedule a session on a case moved away", moved, casework.Command{Action: casework.ActionScheduleSession}, false},
		{"withdraw a case moved away", moved, casework.Command{Action: casework.ActionWithdraw}, false},
		{"assign a case moved away back", moved, back, false},
		{"update a case moved away", moved, casework.Command{Action: casework.ActionUpdate}, false},
		{"accept another organization's intake", otherIntake, casework.Command{Action: casework.ActionAccept}, false},
		{"accept an unassigned court referral", referral, casework.Command{Action: casework.ActionAccept}, false},
	} {
		err := MayAct(studio, tt.c, tt.cmd)
		if tt.ok && err != nil || !tt.ok && !permissionDenied(err) {
			t.Errorf("lead: %s: %v, want allowed %v", tt.what, err, tt.ok)
		}
	}
	// Reading stays with the registering organization; the numbers do not.
	if !ScopeOf(studio).Sees(moved) {
		t.Error("the registering organization's lead no longer sees a case moved away")
	}
	if see := Unmasked(studio, moved); see.Numbers || see.Addresses {
		t.Errorf("the registering organization's lead reads %+v of a case moved away", see)
	}
	if see := Unmasked(studio, handled); !see.Numbers {
		t.Errorf("the handling organization's lead reads %+v", see)
	}
	if err := MayAct(studio, moved, casework.Command{Action: casework.ActionWithdraw}); err == nil || !strings.Contains(err.Error(), "xifeng-police-room") {
		t.Errorf("the refusal does not say who holds the case: %v", err)
	}
}

// TestMediatorIntakeActionsNeedTheOrganizationsIntake: without the
// assignment, a mediator's intake actions hold only on an unassigned case
// their organization registered, whatever the scope let through.
func TestMediatorIntakeActionsNeedTheOrganizationsIntake(t *testing.T) {
	accept := casework.Command{Action: casework.ActionAccept}
	for _, tt := range []struct {
		what string
		c    casework.Case
		ok   bool
	}{
		{"its organization's intake", casework.Case{IntakeOrganization: "organizations/xifeng-women-studio"}, true},
		{"another organization's intake", casework.Case{IntakeOrganization: "organizations/xifeng-police-room"}, false},
		{"its organization's registration, now assigned elsewhere", casework.Case{IntakeOrganization: "organizations/xifeng-women-studio", Organization: "organizations/xifeng-police-room", Mediator: "mediators/m-096"}, false},
		{"a court's referral", casework.Case{}, false},
	} {
		err := MayAct(studioMed, tt.c, accept)
		if tt.ok && err != nil || !tt.ok && !permissionDenied(err) {
			t.Errorf("mediator: %s: %v, want allowed %v", tt.what, err, tt.ok)
		}
	}
}

// TestCourtDeskActsInItsOwnCourtsName: a court desk requests confirmation
// of its own court and records decisions on requests made of it, under its
// own numbers.
func TestCourtDeskActsInItsOwnCourtsName(t *testing.T) {
	own := casework.Case{Number: "C1", Confirmation: &casework.Confirmation{CourtCode: "甘1002"}}
	other := casework.Case{Number: "C2", Confirmation: &casework.Confirmation{CourtCode: "甘1027"}}
	request := func(code string) casework.Command {
		return casework.Command{Action: casework.ActionRequestConfirmation, Confirmation: &casework.Confirmation{CourtCode: code}}
	}
	record := func(number string) casework.Command {
		return casework.Command{Action: casework.ActionRecordConfirmation, Confirmation: &casework.Confirmation{Decision: casework.DecisionConfirmed, DocumentNumber: number}}
	}
	for _, tt := range []struct {
		what string
		c    casework.Case
		cmd  casework.Command
		ok   bool
	}{
		{"request of its court", casework.Case{}, request("甘1002"), true},
		{"request of its court, spaced", casework.Case{}, request(" 甘1002 "), true},
		{"request of another court", casework.Case{}, request("甘1027"), false},
		{"request without a court (validation names it)", casework.Case{}, request(""), true},
		{"record its decision", own, record("（2026）甘1002民特5号"), true},
		{"record its decision without a number", own, record(""), true},
		{"record its decision under a number of no known form", own, record("民特字第5号"), true},
		{"record its decision under another court's number", own, record("（2026）甘1027民特5号"), false},
		{"record another court's decision", other, record("（2026）甘1027民特5号"), false},
		{"record another court's decision under its own number", other, record("（2026）甘1002民特5号"), false},
		{"accept", casework.Case{}, casework.Command{Action: casework.ActionAccept}, false},
	} {
		err := MayAct(xifengDesk, tt.c, tt.cmd)
		if tt.ok && err != nil || !tt.ok && !permissionDenied(err) {
			t.Errorf("court desk: %s: %v, want allowed %v", tt.what, err, tt.ok)
		}
	}
	// Others request and record for the parties, at any court.
	for _, p := range []Principal{admin, studio} {
		c := casework.Case{IntakeOrganization: studio.OrganizationName(), Confirmation: &casework.Confirmation{CourtCode: "甘1027"}}
		if err := MayAct(p, c, request("甘1027")); err != nil {
			t.Errorf("%s requesting of another court: %v", p.Role, err)
		}
		if err := MayAct(p, c, record("（2026）甘1027民特5号")); err != nil {
			t.Errorf("%s recording another court's decision: %v", p.Role, err)
		}
	}
}

// TestOnlyTheCourtRegistersItsReferrals: a court referral comes from the
// court's own credential, or from an administrator on its behalf.
func TestOnlyTheCourtRegistersItsReferrals(t *testing.T) {
	referral := func(code, number string) casework.NewCase {
		return casework.NewCase{Source: casework.SourceCourtDelegated, CourtReferral: &casework.CourtReferral{CourtCode: code, CourtCaseNumber: number}}
	}
	walkIn := casework.NewCase{Source: casework.SourceWalkIn}
	for _, tt := range []struct {
		what string
		p    Principal
		n    casework.NewCase
		ok   bool
	}{
		{"court desk, its own referral", xifengDesk, referral("甘1002", "（2026）甘1002民诉前调1号"), true},
		{"court desk, another court's referral", xifengDesk, referral("甘1027", "（2026）甘1027民诉前调1号"), false},
		{"court desk, its code with another court's number", xifengDesk, referral("甘1002", "（2026）甘1027民诉前调1号"), false},
		{"court desk, a walk-in", xifengDesk, walkIn, false},
		{"administrator on a court's behalf", admin, referral("甘1027", "（2026）甘1027民诉前调1号"), true},
		{"lead, a walk-in", studio, walkIn, true},
		{"lead, a court referral", studio, referral("甘1002", "（2026）甘1002民诉前调1号"), false},
		{"mediator, a walk-in", studioMed, walkIn, true},
		{"mediator, a court referral", studioMed, referral("甘1002", "（2026）甘1002民诉前调1号"), false},
		{"mediator, an entrusted case", studioMed, casework.NewCase{Source: casework.SourceCourtEntrusted, CourtReferral: &casework.CourtReferral{CourtCode: "甘1002"}}, false},
	} {
		err := MayCreate(tt.p, tt.n)
		if tt.ok && err != nil || !tt.ok && !permissionDenied(err) {
			t.Errorf("%s: %v, want allowed %v", tt.what, err, tt.ok)
		}
	}
	err := MayCreate(studioMed, referral("甘1002", "（2026）甘1002民诉前调1号"))
	if err == nil || !strings.Contains(err.Error(), "court desk") || !strings.Contains(err.Error(), "administrator") {
		t.Errorf("the refusal does not say who may: %v", err)
	}
}

// TestSeesMediatorPhone: the administrator, the lead of the mediator's
// organization and the mediator themself read the number.
func TestSeesMediatorPhone(t *testing.T) {
	m003 := casework.Mediator{ID: "m-003", OrganizationID: "xifeng-women-studio", Phone: "13909341234"}
	m096 := casework.Mediator{ID: "m-096", OrganizationID: "xifeng-police-room", Phone: "13909349999"}
	for _, tt := range []struct {
		p    Principal
		m    casework.Mediator
		sees bool
	}{
		{admin, m096, true},
		{studio, m003, true},
		{studio, m096, false},
		{studioMed, m003, true},
		{Principal{Role: RoleMediator, MediatorID: "m-004", OrganizationID: "xifeng-women-studio"}, m003, false},
		{Principal{Role: RoleSupervisor, RegionCode: "621000"}, m003, false},
		{xifengDesk, m003, false},
		{Principal{Role: RoleAuditor}, m003, false},
		{Principal{Role: RoleOrganizationLead}, casework.Mediator{ID: "x"}, false},
	} {
		if got := SeesMediatorPhone(tt.p, tt.m); got != tt.sees {
			t.Errorf("%s %s reading %s: %v, want %v", tt.p.Role, tt.p.Name, tt.m.ID, got, tt.sees)
		}
	}
}
