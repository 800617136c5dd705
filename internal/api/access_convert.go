package api

import (
	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// Conversions between users, API keys and callers and their messages.
// Password hashes and secret hashes never reach a message.

func authRoleToProto(r auth.Role) mediationv1.Role {
	return mediationv1.Role(enumFromDomain(mediationv1.Role_value, "ROLE_", r))
}

func authRoleFromProto(r mediationv1.Role) auth.Role {
	return enumToDomain[auth.Role](mediationv1.Role_name, "ROLE_", int32(r))
}

// organizationNameOf is organizations/{id}, or "" for no organization.
func organizationNameOf(id string) string {
	if id == "" {
		return ""
	}
	return casework.Organization{ID: id}.Name()
}

// mediatorNameOf is mediators/{id}, or "" for no mediator entry.
func mediatorNameOf(id string) string {
	if id == "" {
		return ""
	}
	return casework.Mediator{ID: id}.Name()
}

func userToProto(u store.User) *mediationv1.User {
	return &mediationv1.User{
		Name:          u.Name(),
		DisplayName:   u.DisplayName,
		Role:          authRoleToProto(u.Role),
		RegionCode:    u.RegionCode,
		Organization:  organizationNameOf(u.OrganizationID),
		Mediator:      mediatorNameOf(u.MediatorID),
		CourtCode:     u.CourtCode,
		Active:        u.Active,
		CreateTime:    timeToProto(u.CreateTime),
		LastLoginTime: timeToProto(u.LastLoginTime),
		Etag:          Etag(u.Version),
	}
}

func apiKeyToProto(k store.APIKey) *mediationv1.ApiKey {
	return &mediationv1.ApiKey{
		Name:         k.Name(),
		DisplayName:  k.DisplayName,
		Role:         authRoleToProto(k.Role),
		CourtCode:    k.CourtCode,
		Organization: organizationNameOf(k.OrganizationID),
		RegionCode:   k.RegionCode,
		SecretPrefix: k.SecretPrefix,
		CreateTime:   timeToProto(k.CreateTime),
		LastUseTime:  timeToProto(k.LastUseTime),
		RevokeTime:   timeToProto(k.RevokeTime),
		Creator:      k.Creator,
	}
}

func callerToProto(p auth.Principal) *mediationv1.GetCallerResponse {
	return &mediationv1.GetCallerResponse{
		Principal:    p.Name,
		Role:         authRoleToProto(p.Role),
		RegionCode:   p.RegionCode,
		Organization: p.OrganizationName(),
		Mediator:     p.MediatorName(),
		CourtCode:    p.CourtCode,
		Methods:      auth.Methods(p.Role),
	}
}
