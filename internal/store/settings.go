package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/casework"
)

// SettingsTTL is how long a replica trusts its copy of the deadline rules
// and the regions' auto-assignment settings, which every acceptance and
// assignment consults but which change rarely. A change made through this
// replica takes effect at once; one made through another, within the TTL.
const SettingsTTL = 30 * time.Second

// settingsCache holds the deadline rules and the effective auto-assignment
// setting of every region.
type settingsCache struct {
	mu         sync.Mutex
	rules      []casework.DeadlineRule
	rulesAt    time.Time
	autoAssign map[string]bool
	regionsAt  time.Time
}

func (c *settingsCache) forgetRules() {
	c.mu.Lock()
	c.rulesAt = time.Time{}
	c.mu.Unlock()
}

func (c *settingsCache) forgetRegions() {
	c.mu.Lock()
	c.regionsAt = time.Time{}
	c.mu.Unlock()
}

// deadlineRules returns every deadline rule, from the cache when fresh.
func (s *Store) deadlineRules(ctx context.Context) ([]casework.DeadlineRule, error) {
	c := &s.settings
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.rulesAt.IsZero() && time.Since(c.rulesAt) < SettingsTTL {
		return c.rules, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+ruleColumns+` FROM deadline_rules r`)
	if err != nil {
		return nil, fmt.Errorf("read deadline rules: %w", err)
	}
	rules, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casework.DeadlineRule, error) { return scanRule(r) })
	if err != nil {
		return nil, fmt.Errorf("read deadline rules: %w", err)
	}
	c.rules, c.rulesAt = rules, time.Now()
	return rules, nil
}

// regionAutoAssign returns the effective auto-assignment setting of every
// region, from the cache when fresh.
func (s *Store) regionAutoAssign(ctx context.Context) (map[string]bool, error) {
	c := &s.settings
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.regionsAt.IsZero() && time.Since(c.regionsAt) < SettingsTTL {
		return c.autoAssign, nil
	}
	rows, err := s.pool.Query(ctx, regionSelect)
	if err != nil {
		return nil, fmt.Errorf("read regions: %w", err)
	}
	regions, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Region, error) { return scanRegion(r) })
	if err != nil {
		return nil, fmt.Errorf("read regions: %w", err)
	}
	m := make(map[string]bool, len(regions))
	for _, r := range regions {
		m[r.Code] = r.EffectiveAutoAssign
	}
	c.autoAssign, c.regionsAt = m, time.Now()
	return m, nil
}

// ruleRankOf is ruleRank in Go: a rule naming the source beats one that
// does not, then the organization type, then the procedure.
func ruleRankOf(r casework.DeadlineRule) int {
	rank := 0
	if r.Source != "" {
		rank += 4
	}
	if r.OrganizationType != "" {
		rank += 2
	}
	if r.CourtProcedure != "" {
		rank++
	}
	return rank
}
