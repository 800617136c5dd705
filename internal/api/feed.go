package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// feedToken is the change feed's cursor as handed to clients, with the
// fingerprint of the filter it was made for.
type feedToken struct {
	TxID    string    `json:"t"`
	CaseID  uuid.UUID `json:"c"`
	Version int64     `json:"v"`
	Query   string    `json:"q"`
}

func encodeFeedToken(c store.FeedCursor, query string) string {
	b, _ := json.Marshal(feedToken{TxID: strconv.FormatUint(c.TxID, 10), CaseID: c.CaseID, Version: c.Version, Query: query})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeFeedToken(token, query string) (store.FeedCursor, error) {
	if token == "" {
		return store.FeedCursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var t feedToken
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	var tx uint64
	if err == nil {
		tx, err = strconv.ParseUint(t.TxID, 10, 64)
	}
	if err != nil || t.Version < 0 {
		return store.FeedCursor{}, &casework.FieldError{Field: "page_token", Message: "not a change-feed token this service issued: pass next_page_token from the previous response unchanged, or start again without a page_token"}
	}
	if t.Query != query {
		return store.FeedCursor{}, &casework.FieldError{Field: "page_token", Message: "the page token was made for a different filter: keep the filter unchanged between pages, or start again without a page_token"}
	}
	return store.FeedCursor{TxID: tx, CaseID: t.CaseID, Version: t.Version}, nil
}

// CaseFeedService serves mediation.v1.CaseFeedService: the change feed.
type CaseFeedService struct {
	mediationv1.UnimplementedCaseFeedServiceServer

	store *store.Store
	cases *CaseService
}

// NewCaseFeedService returns the service; events are rendered as cases
// renders them.
func NewCaseFeedService(st *store.Store, cases *CaseService) *CaseFeedService {
	return &CaseFeedService{store: st, cases: cases}
}

// ListCaseChanges serves the change feed: the caller's in-scope case
// events across cases, oldest first, from the token. The history is never
// pruned, so a token stays valid for good.
func (s *CaseFeedService) ListCaseChanges(ctx context.Context, req *mediationv1.ListCaseChangesRequest) (*mediationv1.ListCaseChangesResponse, error) {
	query := queryFingerprint("caseChanges", req.GetFilter())
	after, err := decodeFeedToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	events, next, err := s.store.ListCaseChanges(ctx, after, req.GetFilter(), feedSpelling, pageSize(req.GetPageSize(), defaultEventPageSize), access(ctx).Scope)
	if err != nil {
		return nil, err
	}
	out := &mediationv1.ListCaseChangesResponse{NextPageToken: encodeFeedToken(next, query)}
	for _, ev := range events {
		out.Events = append(out.Events, s.cases.eventToProto(ev))
	}
	return out, nil
}
