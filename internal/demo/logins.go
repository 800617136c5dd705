package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// Password is the password of every demo login. It is published in the
// README: demo data belongs on a machine for trying the service, never in
// production.
const Password = "qingyang-demo-2026"

// Login is a demo user, one per role, to try the service with.
type Login struct {
	Username string
	Role     auth.Role
	Scope    string // what the user sees, in words
}

func (l Login) String() string {
	return fmt.Sprintf("%-16s %-18s %s", l.Username, l.Role, l.Scope)
}

// Logins creates one user per role over the plan's directory, all with
// Password, and returns them. Users that exist already are left as they
// are, so it may run again.
func Logins(ctx context.Context, st *store.Store, p Plan) ([]Login, error) {
	var studio casework.Organization
	for _, o := range p.Organizations {
		if o.Type == casework.OrgWomenStudio && o.RegionCode == "621002" {
			studio = o
			break
		}
	}
	var mediator casework.Mediator
	for _, m := range p.Mediators {
		if m.OrganizationID == studio.ID {
			mediator = m
			break
		}
	}
	if studio.ID == "" || mediator.ID == "" {
		return nil, errors.New("demo: the plan has no women's studio in 西峰区 with a mediator")
	}
	users := []struct {
		user  store.User
		scope string
	}{
		{store.User{Username: "demo-admin", DisplayName: "演示管理员", Role: auth.RoleAdmin}, "everything"},
		{store.User{Username: "demo-supervisor", DisplayName: "庆阳市司法局（演示）", Role: auth.RoleSupervisor, RegionCode: "621000"}, "every case of 庆阳市 (621000)"},
		{store.User{Username: "demo-lead", DisplayName: studio.DisplayName + "负责人", Role: auth.RoleOrganizationLead, OrganizationID: studio.ID}, "the cases of " + studio.DisplayName},
		{store.User{Username: "demo-mediator", DisplayName: mediator.DisplayName, Role: auth.RoleMediator, MediatorID: mediator.ID}, "the cases assigned to " + mediator.DisplayName + " (" + mediator.Name() + ")"},
		{store.User{Username: "demo-court", DisplayName: "西峰区人民法院诉调对接中心（演示）", Role: auth.RoleCourtDesk, CourtCode: "甘1002"}, "the cases referred by the court 甘1002"},
		{store.User{Username: "demo-auditor", DisplayName: "审计员（演示）", Role: auth.RoleAuditor}, "the audit trail"},
	}
	hash := authn.HashPassword(Password)
	var out []Login
	for _, u := range users {
		var exists *casework.AlreadyExistsError
		if _, err := st.CreateUser(ctx, u.user, hash, p.DirectoryTime); err != nil && !errors.As(err, &exists) {
			return nil, fmt.Errorf("demo: create the login %s: %w", u.user.Username, err)
		}
		out = append(out, Login{Username: u.user.Username, Role: u.user.Role, Scope: u.scope})
	}
	return out, nil
}
