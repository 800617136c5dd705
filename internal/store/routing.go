package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/casework"
)

// Candidates returns the active mediators of active organizations in the
// province of regionCode, with their organizations and the mediators' open
// loads: the people who could take a case there. casework.Suggest ranks
// them (by the mediator's load: the organizations' counts, 0 here, are not
// read).
func (s *Store) Candidates(ctx context.Context, regionCode string) ([]casework.Candidate, error) {
	if len(regionCode) != 6 {
		return nil, fmt.Errorf("candidates: region code %q is not 6 digits", regionCode)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+organizationFields+`, 0, `+mediatorColumns+`
		FROM mediators m JOIN organizations o ON o.id = m.organization_id
		WHERE o.active AND m.active AND o.region_code LIKE $1
		ORDER BY o.id, m.id`, regionCode[:2]+"%")
	if err != nil {
		return nil, fmt.Errorf("list candidates in %s: %w", regionCode, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casework.Candidate, error) {
		var c casework.Candidate
		err := r.Scan(append(organizationTargets(&c.Organization), mediatorTargets(&c.Mediator)...)...)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list candidates in %s: %w", regionCode, err)
	}
	return out, nil
}
