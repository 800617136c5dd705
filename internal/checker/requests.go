package checker

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/casework"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// caseResponse is what every action's response holds.
type caseResponse interface {
	GetCase() *mediationv1.Case
	GetEvent() *mediationv1.CaseEvent
}

// invocation is one action request, ready to be sent (and sent again,
// unchanged, to resolve an unknown outcome).
type invocation struct {
	caseName string
	action   casework.Action
	rid      string
	etag     string
	send     func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error)

	// Guarded by Workload.mu: whether a call of it ended without an
	// answer, and whether a later call of it got one.
	pending bool
	settled bool
}

func respond[R caseResponse](r R, err error) (caseResponse, error) {
	if err != nil {
		return nil, err
	}
	return r, nil
}

// request builds the request for action on the case of v. Most fields
// are complete; a few are left out now and then, so that the service has
// field errors to report too.
func (w *Workload) request(action casework.Action, v view, etag, rid string, rng *mrand.Rand) *invocation {
	inv := &invocation{caseName: v.name, action: action, rid: rid, etag: etag}
	name := v.name
	session := fmt.Sprintf("%s/sessions/%d", name, max(1, v.sessions-int32(rng.IntN(2))))
	switch action {
	case casework.ActionAccept:
		req := &mediationv1.AcceptCaseRequest{Name: name, Etag: etag, RequestId: rid, Comment: "受理"}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.AcceptCase(ctx, req))
		}
	case casework.ActionReject:
		req := &mediationv1.RejectCaseRequest{Name: name, Etag: etag, RequestId: rid, Reason: "不属于民间纠纷受理范围"}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.RejectCase(ctx, req))
		}
	case casework.ActionAssign:
		mediator := Mediators[rng.IntN(len(Mediators))]
		if mediator == v.mediator && rng.Float64() < 0.8 {
			mediator = Mediators[(slices.Index(Mediators, mediator)+1)%len(Mediators)]
		}
		req := &mediationv1.AssignCaseRequest{Name: name, Etag: etag, RequestId: rid, Organization: Organization, Mediator: mediator}
		if rng.Float64() < 0.9 {
			req.Reason = "工作调整，改派"
		}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.AssignCase(ctx, req))
		}
	case casework.ActionStartMediation:
		req := &mediationv1.StartMediationRequest{Name: name, Etag: etag, RequestId: rid}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.StartMediation(ctx, req))
		}
	case casework.ActionRecordAgreement:
		req := &mediationv1.RecordAgreementRequest{Name: name, Etag: etag, RequestId: rid, Agreement: &mediationv1.Agreement{
			Terms: "被申请人于本月底前赔偿申请人修缮费用人民币二千元。",
			Facts: "被申请人家中水管漏水，致申请人房屋受损。",
		}}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.RecordAgreement(ctx, req))
		}
	case casework.ActionRecordFailure:
		req := &mediationv1.RecordFailureRequest{Name: name, Etag: etag, RequestId: rid, Reason: "双方分歧过大",
			ReasonCode: mediationv1.FailureReason_FAILURE_REASON_POSITIONS_TOO_FAR}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.RecordFailure(ctx, req))
		}
	case casework.ActionWithdraw:
		req := &mediationv1.WithdrawCaseRequest{Name: name, Etag: etag, RequestId: rid, Reason: "申请人撤回申请"}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.WithdrawCase(ctx, req))
		}
	case casework.ActionClose:
		req := &mediationv1.CloseCaseRequest{Name: name, Etag: etag, RequestId: rid, NoFollowUpReason: "当场履行完毕，无需回访"}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.CloseCase(ctx, req))
		}
	case casework.ActionUpdate:
		req := &mediationv1.UpdateCaseRequest{
			Case: &mediationv1.Case{Name: name, Etag: etag,
				Summary: fmt.Sprintf("%s邻里纠纷（补充 %d）", Marker(w.runID), rng.IntN(1000))},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"summary"}},
			RequestId:  rid,
		}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.UpdateCase(ctx, req))
		}
	case casework.ActionRecuse:
		req := &mediationv1.RecuseCaseRequest{Name: name, Etag: etag, RequestId: rid, Reason: "调解员系当事人近亲属，申请回避"}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.RecuseCase(ctx, req))
		}
	case casework.ActionExtendDeadline:
		req := &mediationv1.ExtendDeadlineRequest{Name: name, Etag: etag, RequestId: rid, Reason: "双方同意延长调解期限",
			ConsentingPartyIds: []string{"p1", "p2"}}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.ExtendDeadline(ctx, req))
		}
	case casework.ActionScheduleSession:
		req := &mediationv1.ScheduleSessionRequest{Name: name, Etag: etag, RequestId: rid,
			StartTime: timestamppb.New(time.Now().Add(48 * time.Hour).Truncate(time.Second)),
			Place:     "第一调解室", Participants: []string{"张三", "李四"}}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.ScheduleSession(ctx, req))
		}
	case casework.ActionRecordSession:
		req := &mediationv1.RecordSessionRequest{Name: name, Etag: etag, RequestId: rid, Session: session,
			Minutes: "调解员告知双方权利义务，双方陈述意见。", Result: "继续协商"}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.RecordSession(ctx, req))
		}
	case casework.ActionCancelSession:
		req := &mediationv1.CancelSessionRequest{Name: name, Etag: etag, RequestId: rid, Session: session, Reason: "当事人临时有事"}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.CancelSession(ctx, req))
		}
	case casework.ActionRequestConfirmation:
		req := &mediationv1.RequestJudicialConfirmationRequest{Name: name, Etag: etag, RequestId: rid,
			CourtCode: "甘1002", CourtName: "庆阳市西峰区人民法院"}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.RequestJudicialConfirmation(ctx, req))
		}
	case casework.ActionRecordConfirmation:
		req := &mediationv1.RecordConfirmationDecisionRequest{Name: name, Etag: etag, RequestId: rid,
			Decision: mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED, DocumentNumber: "（2026）甘1002民特1号"}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.RecordConfirmationDecision(ctx, req))
		}
	case casework.ActionRecordPerformance:
		req := &mediationv1.RecordPerformanceRequest{Name: name, Etag: etag, RequestId: rid,
			Status: mediationv1.PerformanceStatus_PERFORMANCE_STATUS_PERFORMED}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.RecordPerformance(ctx, req))
		}
	case casework.ActionRecordFollowUp:
		req := &mediationv1.RecordFollowUpRequest{Name: name, Etag: etag, RequestId: rid,
			Findings: "双方均表示协议已履行完毕。", PartyIds: []string{"p1"}}
		inv.send = func(ctx context.Context, c mediationv1.CaseServiceClient) (caseResponse, error) {
			return respond(c.RecordFollowUp(ctx, req))
		}
	default:
		panic(fmt.Sprintf("checker: no request for action %q", action))
	}
	return inv
}

// actionFromProto maps the API's action enum back to the domain's.
func actionFromProto(a mediationv1.CaseAction) casework.Action {
	return protoActions[a]
}

var protoActions = func() map[mediationv1.CaseAction]casework.Action {
	m := map[mediationv1.CaseAction]casework.Action{}
	for _, a := range append([]casework.Action{casework.ActionCreate}, casework.Actions...) {
		if v, ok := mediationv1.CaseAction_value["CASE_ACTION_"+upperSnake(string(a))]; ok {
			m[mediationv1.CaseAction(v)] = a
		}
	}
	return m
}()

// upperSnake turns startMediation into START_MEDIATION.
func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// stateFromProto maps the API's state enum back to the domain's.
func stateFromProto(s mediationv1.CaseState) casework.State {
	if s == mediationv1.CaseState_CASE_STATE_UNSPECIFIED {
		return ""
	}
	return casework.State(strings.TrimPrefix(s.String(), "CASE_STATE_"))
}
