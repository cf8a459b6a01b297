package domain

// Principal is who calls the service: a signed-in user, or anonymous when
// UserID is empty. Transports build it from a session, an API token or the
// absence of credentials; the service authorizes every operation against it
// and records it in the audit log.
type Principal struct {
	UserID     string `json:"user_id,omitempty"`
	Username   string `json:"username,omitempty"`
	RemoteAddr string `json:"remote_addr,omitempty"`
}

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
