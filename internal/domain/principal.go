package domain

// Principal is who calls the service: a signed-in user, or anonymous when
// UserID is empty. Transports build it from a session, an API token or the
// absence of credentials; the service authorizes every operation against it
// and records it in the audit log.
type Principal struct {
	UserID     string `json:"user_id,omitempty"`
	Username   string `json:"username,omitempty"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	// Limit, when not empty, is an API token's limit: the caller holds only
	// those of the user's system permissions listed here (closed under R8),
	// and no project or folder permission. Empty: everything the user holds.
	Limit []string `json:"limit,omitempty"`
}

// Limited reports whether the principal acts with a limited API token.
func (p Principal) Limited() bool { return len(p.Limit) > 0 }

// AnonymousPrincipal is the caller of a request without credentials (R12).
var AnonymousPrincipal = Principal{}

// Anonymous reports whether the principal is not a signed-in user.
func (p Principal) Anonymous() bool { return p.UserID == "" }

// Name is how the principal appears in the audit log.
func (p Principal) Name() string {
	switch {
	case p.Username != "":
		return p.Username
	case p.UserID != "":
		return p.UserID
	default:
		return "anonymous"
	}
}
