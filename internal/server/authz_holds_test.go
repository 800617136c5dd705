package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// holdsWorld is the 西峰区 of the findings: the women's studio with its
// lead and mediator, a township committee a supervisor may move cases to,
// the county court's desk, and a second court's.
type holdsWorld struct {
	e                                  *env
	lead, mediator, supervisor, court  string
	otherCourt, auditor, otherMediator string
}

func newHoldsWorld(t *testing.T) *holdsWorld {
	t.Helper()
	e := start(t)
	qingyang(t, e)
	w := &holdsWorld{e: e}
	w.lead = e.signIn(t, store.User{Username: "studio-lead", DisplayName: "工作室负责人", Role: auth.RoleOrganizationLead, OrganizationID: "xifeng-women"})
	w.mediator = e.signIn(t, store.User{Username: "li-hong", DisplayName: "李红", Role: auth.RoleMediator, MediatorID: "li-hong"})
	w.otherMediator = e.signIn(t, store.User{Username: "wang-qiang", DisplayName: "王强", Role: auth.RoleMediator, MediatorID: "wang-qiang"})
	w.supervisor = e.signIn(t, store.User{Username: "qingyang-sup", DisplayName: "庆阳市司法局", Role: auth.RoleSupervisor, RegionCode: "621000"})
	w.auditor = e.signIn(t, store.User{Username: "auditor", DisplayName: "审计员", Role: auth.RoleAuditor})
	w.court = e.signIn(t, store.User{Username: "xifeng-court", DisplayName: "西峰区人民法院诉调对接中心", Role: auth.RoleCourtDesk, CourtCode: "甘1002"})
	w.otherCourt = e.signIn(t, store.User{Username: "zhenyuan-court", DisplayName: "镇原县人民法院诉调对接中心", Role: auth.RoleCourtDesk, CourtCode: "甘1027"})
	return w
}

// events counts a case's history, read as the administrator.
func (w *holdsWorld) events(t *testing.T, name string) int {
	t.Helper()
	resp, err := w.e.cases.ListCaseEvents(context.Background(), &mediationv1.ListCaseEventsRequest{Parent: name, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.GetEvents())
}

// must fails the test on err, naming what was done.
func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// refused checks that err is PERMISSION_DENIED and that it wrote nothing
// to the case.
func (w *holdsWorld) refused(t *testing.T, what, name string, before int, err error) {
	t.Helper()
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("%s: %v, want PERMISSION_DENIED", what, err)
	} else if status.Convert(err).Message() == "" {
		t.Errorf("%s: a refusal without words", what)
	}
	if n := w.events(t, name); n != before {
		t.Errorf("%s: the history went from %d to %d events", what, before, n)
	}
}

// TestLeadActsOnlyOnCasesTheOrganizationHolds is finding 1 of issue 10: a
// lead registers and assigns a case in the studio, a supervisor moves it
// to another organization, and the lead may no longer act on it; the lead
// may still read it, masked. A recusal puts it back at the studio's intake.
func TestLeadActsOnlyOnCasesTheOrganizationHolds(t *testing.T) {
	w := newHoldsWorld(t)
	bg := context.Background()
	cs := w.e.cases
	lead := as(bg, w.lead)

	in := familyCase("621002")
	in.Parties[0].Phone = "13909341234"
	c := must[*mediationv1.CreateCaseResponse](t, "lead registers")(cs.CreateCase(lead, &mediationv1.CreateCaseRequest{Case: in})).GetCase()
	name := c.GetName()
	must[*mediationv1.AcceptCaseResponse](t, "lead accepts")(cs.AcceptCase(lead, &mediationv1.AcceptCaseRequest{Name: name}))
	must[*mediationv1.AssignCaseResponse](t, "lead assigns")(cs.AssignCase(lead, &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/xifeng-women", Mediator: "mediators/li-hong"}))
	if got := must[*mediationv1.GetCaseResponse](t, "lead reads")(cs.GetCase(lead, &mediationv1.GetCaseRequest{Name: name})).GetCase(); got.GetParties()[0].GetPhone() != "13909341234" {
		t.Errorf("the handling studio's lead reads the phone as %q", got.GetParties()[0].GetPhone())
	}
	leadReads := func() int {
		t.Helper()
		reads := must[*mediationv1.ListAuditEventsResponse](t, "audit")(mediationv1.NewAuditServiceClient(w.e.conn).ListAuditEvents(bg, &mediationv1.ListAuditEventsRequest{
			Filter: `kind = READ_PERSONAL_DATA AND actor = "users/studio-lead" AND resource = "` + name + `"`, PageSize: 100}))
		return len(reads.GetAuditEvents())
	}
	readsBefore := leadReads()
	must[*mediationv1.AssignCaseResponse](t, "supervisor moves it")(cs.AssignCase(as(bg, w.supervisor), &mediationv1.AssignCaseRequest{
		Name: name, Organization: "organizations/xifeng-township", Mediator: "mediators/wang-qiang", Reason: "当事人居住地在北街街道"}))
	must[*mediationv1.StartMediationResponse](t, "the new mediator starts")(cs.StartMediation(as(bg, w.otherMediator), &mediationv1.StartMediationRequest{Name: name}))

	before := w.events(t, name)
	_, err := cs.RecordFailure(lead, &mediationv1.RecordFailureRequest{Name: name, Reason: "双方分歧过大"})
	w.refused(t, "recordFailure", name, before, err)
	if err != nil && !strings.Contains(status.Convert(err).Message(), "organizations/xifeng-township") {
		t.Errorf("the refusal does not say who holds the case: %v", err)
	}
	_, err = cs.ScheduleSession(lead, &mediationv1.ScheduleSessionRequest{Name: name, StartTime: timestamppb.New(time.Now().Add(48 * time.Hour)), Place: "工作室"})
	w.refused(t, "scheduleSession", name, before, err)
	_, err = cs.WithdrawCase(lead, &mediationv1.WithdrawCaseRequest{Name: name, Reason: "申请人撤回"})
	w.refused(t, "withdraw", name, before, err)
	_, err = cs.AssignCase(lead, &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/xifeng-women", Mediator: "mediators/li-hong", Reason: "收回"})
	w.refused(t, "assign back to the studio", name, before, err)
	_, err = cs.UpdateCase(lead, &mediationv1.UpdateCaseRequest{Case: &mediationv1.Case{Name: name, Summary: "改"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"summary"}}})
	w.refused(t, "update", name, before, err)
	_, err = cs.ExtendDeadline(lead, &mediationv1.ExtendDeadlineRequest{Name: name, Reason: "双方同意", ConsentingPartyIds: []string{"p1", "p2"}})
	w.refused(t, "extendDeadline", name, before, err)

	// Reading stays: the studio registered the case and the parties came
	// to it; their numbers are masked now and no unmasked read is on record.
	got := must[*mediationv1.GetCaseResponse](t, "lead reads the case moved away")(cs.GetCase(lead, &mediationv1.GetCaseRequest{Name: name})).GetCase()
	if phone := got.GetParties()[0].GetPhone(); phone != casework.MaskPhone("13909341234") {
		t.Errorf("the registering studio's lead reads the phone of a case moved away as %q", phone)
	}
	must[*mediationv1.ListCaseEventsResponse](t, "lead reads the history")(cs.ListCaseEvents(lead, &mediationv1.ListCaseEventsRequest{Parent: name}))
	if n := leadReads(); n != readsBefore {
		t.Errorf("%d unmasked reads of the lead on record, want the %d made before the move", n, readsBefore)
	}

	// The new mediator recuses: unassigned, the case is back at the
	// studio's intake, and its lead acts on it again.
	must[*mediationv1.RecuseCaseResponse](t, "recuse")(cs.RecuseCase(as(bg, w.otherMediator), &mediationv1.RecuseCaseRequest{Name: name, Reason: "与当事人系亲属"}))
	if _, err := cs.AssignCase(lead, &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/xifeng-women", Mediator: "mediators/zhang-min", Reason: "回避后重新指派"}); err != nil {
		t.Errorf("the lead assigning the studio's intake after a recusal: %v", err)
	}
}

// referral is a court's referral of a contract dispute in 西峰区.
func referral(court, number string) *mediationv1.Case {
	c := newCase("委派调解：民间借贷纠纷")
	c.DisputeType = mediationv1.DisputeType_DISPUTE_TYPE_CONTRACT_DEBT
	c.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
	c.CourtReferral = &mediationv1.CourtReferral{CourtCode: court, CourtCaseNumber: number}
	return c
}

// agreed brings a case to AGREED with a written agreement, as the
// administrator.
func (w *holdsWorld) agreed(t *testing.T, name string) {
	t.Helper()
	cs, bg := w.e.cases, context.Background()
	must[*mediationv1.AcceptCaseResponse](t, "accept")(cs.AcceptCase(bg, &mediationv1.AcceptCaseRequest{Name: name}))
	must[*mediationv1.AssignCaseResponse](t, "assign")(cs.AssignCase(bg, &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/xifeng-township", Mediator: "mediators/wang-qiang"}))
	must[*mediationv1.StartMediationResponse](t, "start")(cs.StartMediation(bg, &mediationv1.StartMediationRequest{Name: name}))
	must[*mediationv1.RecordAgreementResponse](t, "agree")(cs.RecordAgreement(bg, &mediationv1.RecordAgreementRequest{Name: name, Agreement: &mediationv1.Agreement{
		Facts: "被申请人借款5000元逾期未还。", Terms: "被申请人于2026年12月31日前归还借款5000元。"}}))
}

// TestCourtDeskActsForItsOwnCourt is finding 2 of issue 10: the desk of
// 甘1002, on its own referral, may not request confirmation of 甘1027, nor
// record a decision under a 甘1027 number, nor record the decision on a
// request made of 甘1027.
func TestCourtDeskActsForItsOwnCourt(t *testing.T) {
	w := newHoldsWorld(t)
	bg := context.Background()
	cs := w.e.cases
	court := as(bg, w.court)

	name := must[*mediationv1.CreateCaseResponse](t, "the court refers")(cs.CreateCase(court, &mediationv1.CreateCaseRequest{Case: referral("甘1002", "（2026）甘1002民诉前调7号")})).GetCase().GetName()
	w.agreed(t, name)
	before := w.events(t, name)
	_, err := cs.RequestJudicialConfirmation(court, &mediationv1.RequestJudicialConfirmationRequest{Name: name, CourtCode: "甘1027"})
	w.refused(t, "requesting confirmation of another court", name, before, err)
	must[*mediationv1.RequestJudicialConfirmationResponse](t, "requesting confirmation of its court")(cs.RequestJudicialConfirmation(court, &mediationv1.RequestJudicialConfirmationRequest{Name: name, CourtCode: "甘1002"}))
	before++
	_, err = cs.RecordConfirmationDecision(court, &mediationv1.RecordConfirmationDecisionRequest{Name: name,
		Decision: mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED, DocumentNumber: "（2026）甘1027民诉前调确3号"})
	w.refused(t, "recording a decision under another court's number", name, before, err)
	must[*mediationv1.RecordConfirmationDecisionResponse](t, "recording its decision")(cs.RecordConfirmationDecision(court, &mediationv1.RecordConfirmationDecisionRequest{Name: name,
		Decision: mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED, DocumentNumber: "（2026）甘1002民诉前调确3号"}))

	// The parties applied to 甘1027 instead: its decision is not 甘1002's
	// to record; the organization (or an administrator) records it.
	other := must[*mediationv1.CreateCaseResponse](t, "the court refers")(cs.CreateCase(court, &mediationv1.CreateCaseRequest{Case: referral("甘1002", "（2026）甘1002民诉前调8号")})).GetCase().GetName()
	w.agreed(t, other)
	must[*mediationv1.RequestJudicialConfirmationResponse](t, "the mediator applies to 甘1027")(cs.RequestJudicialConfirmation(as(bg, w.otherMediator), &mediationv1.RequestJudicialConfirmationRequest{Name: other, CourtCode: "甘1027"}))
	before = w.events(t, other)
	_, err = cs.RecordConfirmationDecision(court, &mediationv1.RecordConfirmationDecisionRequest{Name: other,
		Decision: mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED, DocumentNumber: "（2026）甘1002民特4号"})
	w.refused(t, "recording the decision of another court", other, before, err)
	must[*mediationv1.RecordConfirmationDecisionResponse](t, "the mediator records 甘1027's decision")(cs.RecordConfirmationDecision(as(bg, w.otherMediator), &mediationv1.RecordConfirmationDecisionRequest{Name: other,
		Decision: mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED, DocumentNumber: "（2026）甘1027民特4号"}))
}

// TestCourtReferralsComeFromTheCourt is finding 3 of issue 10: a lead or a
// mediator may not register a court's referral (it would show in the
// court's list as the court's), nor may a court desk under another court's
// number; an administrator may record one on the court's behalf, and the
// history and the audit trail name the administrator.
func TestCourtReferralsComeFromTheCourt(t *testing.T) {
	w := newHoldsWorld(t)
	bg := context.Background()
	cs := w.e.cases
	for _, who := range []struct{ role, token string }{{"lead", w.lead}, {"mediator", w.mediator}} {
		for _, source := range []mediationv1.CaseSource{mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED, mediationv1.CaseSource_CASE_SOURCE_COURT_ENTRUSTED} {
			c := referral("甘1002", "（2026）甘1002民诉前调9号")
			c.Source = source
			_, err := cs.CreateCase(as(bg, who.token), &mediationv1.CreateCaseRequest{Case: c})
			if msg := status.Convert(err).Message(); status.Code(err) != codes.PermissionDenied || !strings.Contains(msg, "court desk") || !strings.Contains(msg, "administrator") {
				t.Errorf("%s registering a %s referral: %v, want PERMISSION_DENIED saying who may", who.role, source, err)
			}
		}
		if _, err := cs.CreateCase(as(bg, who.token), &mediationv1.CreateCaseRequest{Case: familyCase("621002")}); err != nil {
			t.Errorf("%s registering a walk-in: %v", who.role, err)
		}
	}
	if _, err := cs.CreateCase(as(bg, w.court), &mediationv1.CreateCaseRequest{Case: referral("甘1002", "（2026）甘1027民诉前调9号")}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("court desk of 甘1002 registering under a number of 甘1027: %v, want PERMISSION_DENIED", err)
	}
	listed := must[*mediationv1.ListCasesResponse](t, "the court's list")(cs.ListCases(as(bg, w.court), &mediationv1.ListCasesRequest{PageSize: 100}))
	if n := len(listed.GetCases()); n != 0 {
		t.Errorf("the court lists %d referrals it never made", n)
	}

	// On the court's behalf: the administrator.
	c := must[*mediationv1.CreateCaseResponse](t, "administrator records a referral")(cs.CreateCase(bg, &mediationv1.CreateCaseRequest{Case: referral("甘1002", "（2026）甘1002民诉前调10号")})).GetCase()
	listed = must[*mediationv1.ListCasesResponse](t, "the court's list")(cs.ListCases(as(bg, w.court), &mediationv1.ListCasesRequest{PageSize: 100}))
	if n := len(listed.GetCases()); n != 1 || listed.GetCases()[0].GetName() != c.GetName() {
		t.Errorf("the court lists %d referrals, want the one recorded on its behalf", n)
	}
	history := must[*mediationv1.ListCaseEventsResponse](t, "history")(cs.ListCaseEvents(bg, &mediationv1.ListCaseEventsRequest{Parent: c.GetName()}))
	if a := history.GetEvents()[0].GetActor(); a != "users/root" {
		t.Errorf("the registration's actor is %q, want the administrator users/root", a)
	}
	audit := must[*mediationv1.ListAuditEventsResponse](t, "audit")(mediationv1.NewAuditServiceClient(w.e.conn).ListAuditEvents(as(bg, w.auditor), &mediationv1.ListAuditEventsRequest{
		Filter: `kind = WRITE AND resource = "` + c.GetName() + `"`}))
	if evs := audit.GetAuditEvents(); len(evs) != 1 || evs[0].GetActor() != "users/root" || evs[0].GetActorRole() != mediationv1.Role_ROLE_ADMIN ||
		evs[0].GetMethod() != "/mediation.v1.CaseService/CreateCase" {
		t.Errorf("audit of the registration: %v, want one WRITE of users/root (ROLE_ADMIN) through CreateCase", evs)
	}
}
