package dataset

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mediationd/mediationd/internal/store"
)

// invariants are what the database's triggers and foreign keys keep, as
// queries that count the rows breaking them: with COPY under
// session_replication_role = replica, none of them ran.
var invariants = []struct{ what, sql string }{ // $1, where used, is the data set's time
	{"cases whose history has no row at the case's version saying its state and outcome (cases_check_history)",
		`SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_events e
			WHERE e.case_id = c.id AND e.version = c.version AND e.to_state = c.state AND e.outcome = c.outcome)`},
	{"cases whose history is not versions 1..version without gaps",
		`SELECT count(*) FROM cases c LEFT JOIN (SELECT case_id, count(*) AS n, min(version) AS lo, max(version) AS hi
			FROM case_events GROUP BY case_id) e ON e.case_id = c.id
		WHERE e.n IS DISTINCT FROM c.version OR e.lo <> 1 OR e.hi <> c.version`},
	{"history rows whose from_state is not the state the version before left the case in",
		`SELECT count(*) FROM case_events e JOIN case_events p ON p.case_id = e.case_id AND p.version = e.version - 1
		WHERE e.from_state <> p.to_state`},
	{"history rows of no case in their region (case_events_case_region_fkey)",
		`SELECT count(*) FROM case_events e WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = e.case_id AND c.region_code = e.region_code)`},
	{"sessions of no case in their region (case_sessions_case_region_fkey)",
		`SELECT count(*) FROM case_sessions s WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = s.case_id AND c.region_code = s.region_code)`},
	{"follow-up visits of no case in their region (case_follow_ups_case_region_fkey)",
		`SELECT count(*) FROM case_follow_ups f WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = f.case_id AND c.region_code = f.region_code)`},
	{"court-referral claims of no case in their region, or of another court case than the case's",
		`SELECT count(*) FROM court_referral_claims k LEFT JOIN cases c ON c.id = k.case_id AND c.region_code = k.region_code
		WHERE c.id IS NULL OR c.court_code IS DISTINCT FROM k.court_code OR c.court_case_number IS DISTINCT FROM k.court_case_number`},
	{"court referrals without their claim",
		`SELECT count(*) FROM cases c WHERE c.court_code IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM court_referral_claims k WHERE k.case_id = c.id)`},
	{"outbox rows of no history row (outbox_case_id_case_version_fkey)",
		`SELECT count(*) FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = o.case_id AND e.version = o.case_version)`},
	{"cases whose follow_up_count or session_count disagrees with their visits and sessions",
		`SELECT count(*) FROM cases c
			LEFT JOIN (SELECT case_id, count(*) AS n FROM case_follow_ups GROUP BY case_id) f ON f.case_id = c.id
			LEFT JOIN (SELECT case_id, count(*) AS n FROM case_sessions GROUP BY case_id) s ON s.case_id = c.id
		WHERE c.follow_up_count <> coalesce(f.n, 0) OR c.session_count <> coalesce(s.n, 0)`},
	{"open cases past their due time not marked overdue (the overdue job would have marked them)",
		`SELECT count(*) FROM cases WHERE state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING') AND NOT overdue AND due_time < $1`},
	{"cases assigned to an organization or mediator not in the directory",
		`SELECT count(*) FROM cases c WHERE (c.organization <> '' AND NOT EXISTS (SELECT 1 FROM organizations o WHERE 'organizations/' || o.id = c.organization))
			OR (c.mediator <> '' AND NOT EXISTS (SELECT 1 FROM mediators m WHERE 'mediators/' || m.id = c.mediator))`},
	{"case-number counters that differ from the number of cases they numbered",
		`WITH n AS (
			SELECT coalesce((SELECT s.region_code FROM case_number_schemes s
					WHERE s.region_code IN (c.region_code, left(c.region_code, 4) || '00', left(c.region_code, 2) || '0000')
					ORDER BY s.region_code DESC LIMIT 1), '000000') AS scheme,
				extract(year FROM c.create_time AT TIME ZONE 'Asia/Shanghai')::int AS year, count(*) AS cases
			FROM cases c GROUP BY 1, 2)
		SELECT count(*) FROM n FULL JOIN case_number_counters k ON k.scheme_region = n.scheme AND k.year = n.year
		WHERE n.cases IS DISTINCT FROM k.last_value`},
}

// verify checks every invariant over every row and fails naming those
// that do not hold.
func verify(ctx context.Context, st *store.Store, now time.Time, logf func(string, ...any)) error {
	var broken []string
	for _, inv := range invariants {
		t := time.Now()
		var n int64
		var args []any
		if strings.Contains(inv.sql, "$1") {
			args = append(args, now)
		}
		if err := st.Pool().QueryRow(ctx, inv.sql, args...).Scan(&n); err != nil {
			return fmt.Errorf("dataset: verify %s: %w", inv.what, err)
		}
		logf("verified in %s: %d %s", time.Since(t).Round(time.Millisecond), n, inv.what)
		if n != 0 {
			broken = append(broken, fmt.Sprintf("%d %s", n, inv.what))
		}
	}
	if len(broken) > 0 {
		return fmt.Errorf("dataset: the loaded rows break the service's invariants:\n  %s", strings.Join(broken, "\n  "))
	}
	return nil
}
