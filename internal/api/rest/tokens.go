package rest

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// API tokens: /tokens and /tokens/{id}, registered with the sign-in
// endpoints (RegisterAuth).

func (h *authHandlers) createToken(ctx context.Context, in *bodyIn[api.TokenRequest]) (*itemsOut[api.NewToken], error) {
	id, _ := httpauth.FromContext(ctx)
	b := in.Body
	nt, err := h.sessions.CreateToken(ctx, id, authn.TokenRequest{UserID: b.UserID, Name: b.Name, Permissions: b.Permissions, ExpiresAt: b.ExpiresAt})
	if err != nil {
		return nil, h.a.problem(err)
	}
	return &itemsOut[api.NewToken]{apiNewToken(nt)}, nil
}

type tokensIn struct {
	UserID string `query:"user_id" maxLength:"200" doc:"Whose tokens; default yours."`
}

func (h *authHandlers) listTokens(ctx context.Context, in *tokensIn) (*itemsOut[api.Page[api.APIToken]], error) {
	id, _ := httpauth.FromContext(ctx)
	ts, err := h.sessions.ListTokens(ctx, id, in.UserID)
	if err != nil {
		return nil, h.a.problem(err)
	}
	return &itemsOut[api.Page[api.APIToken]]{api.Page[api.APIToken]{Items: apiList(ts, apiToken)}}, nil
}

func (h *authHandlers) revokeToken(ctx context.Context, in *IDPath) (*struct{}, error) {
	id, _ := httpauth.FromContext(ctx)
	if err := h.sessions.RevokeToken(ctx, id, in.ID); err != nil {
		return nil, h.a.problem(err)
	}
	return &struct{}{}, nil
}
