package service

// valid checks a user, group, role or project as the domain does (as
// text), then by its identifier profile (docs/security.md, "Names and
// look-alikes"), which cleans its name in place: identifier.User, Group,
// Role or Project. before is the object as stored for an edit (a name it
// already had is kept as it is), nil for a new one. The store refuses
// look-alikes of taken names.
func valid[T any, P interface {
	*T
	Validate() error
}](v, before P, profile func(v, before P) error) error {
	if err := v.Validate(); err != nil {
		return err
	}
	return profile(v, before)
}
