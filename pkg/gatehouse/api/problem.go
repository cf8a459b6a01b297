package api

// Problem is an RFC 9457 problem document (application/problem+json),
// the body of every error answer. It is huma's ErrorModel with a few
// extensions: the domain error kind, the holders of a role that cannot be
// deleted (R7), for a 503 on an at_least wait the revision the server
// has, and for the change feed's 410 the oldest revision retained.
type Problem struct {
	Type     string         `json:"type,omitempty" doc:"A URI reference for the problem type (about:blank)."`
	Title    string         `json:"title,omitempty" doc:"Short summary: the HTTP status text."`
	Status   int            `json:"status,omitempty" doc:"The HTTP status code."`
	Detail   string         `json:"detail,omitempty" doc:"What went wrong, in words."`
	Instance string         `json:"instance,omitempty"`
	Kind     string         `json:"kind,omitempty" doc:"The Gatehouse error kind: invalid, not_found, exists, conflict, forbidden, unauthenticated, unavailable, precondition_failed, gone and diverged (410, the change feed), or other."`
	Errors   []*ErrorDetail `json:"errors,omitempty" doc:"Each field at fault: location (e.g. body.name) and message."`
	Holders  []Holder       `json:"holders,omitempty" doc:"For a role still assigned (R7): who holds it."`
	Revision int64          `json:"revision,omitempty" doc:"For a 503 after an at_least wait: the revision the server answers at."`
	Oldest   int64          `json:"oldest,omitempty" doc:"For a 410 from the change feed: the oldest revision still retained; resync from a snapshot, then follow from there."`
}

// Error is the problem's detail.
func (p *Problem) Error() string { return p.Detail }

// GetStatus is the problem's HTTP status.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType is the media type of a problem: application/problem+json
// where JSON was asked for.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// ErrorDetail is one field at fault.
type ErrorDetail struct {
	Message  string `json:"message,omitempty" doc:"Error message text"`
	Location string `json:"location,omitempty" doc:"Where the error occurred, e.g. 'body.items[3].tags' or 'path.thing-id'"`
	Value    any    `json:"value,omitempty" doc:"The value at the given location"`
}

// Holder is one holder of a role (R7).
type Holder struct {
	Kind      string `json:"kind" doc:"user, group, group_default or project_grant"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id,omitempty"`
}
