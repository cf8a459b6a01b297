package service

import (
	"errors"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Description is an error as a transport tells it to a person or a
// client: its kind (which the transport turns into a status), the fields
// at fault, a message without the chain of operation names
// ("service.AddMembers: store.CreateGroup: ..."), which mean nothing
// outside the code, and what else the error carries.
type Description struct {
	Kind domain.Kind
	// Fields are the input fields at fault, named as the service's
	// inputs name them (the API's JSON names).
	Fields []domain.FieldError
	// Message is the fields joined ("name: is taken; email: ..."), or the
	// innermost cause.
	Message string
	// Holders, for R7's refusal to delete a role in use, are who hold it.
	Holders []RoleHolder
	// Have, for a query whose revision did not arrive in time
	// (NotYetError), is the revision the server has.
	Have int64
}

// Describe is the one reading of an error that REST, SCIM and the console
// share.
func Describe(err error) Description {
	if err == nil {
		return Description{}
	}
	d := Description{Kind: domain.KindOf(err), Fields: domain.FieldsOf(err), Message: message(err)}
	var he *HoldersError
	if errors.As(err, &he) {
		d.Holders = he.Holders
	}
	var ny *NotYetError
	if errors.As(err, &ny) {
		d.Have = ny.Have
	}
	return d
}

// message is the error's text without the chain of operation names.
func message(err error) string {
	for err != nil {
		e, ok := err.(*domain.Error)
		if !ok {
			return err.Error()
		}
		if len(e.Fields) > 0 {
			parts := make([]string, len(e.Fields))
			for i, f := range e.Fields {
				parts[i] = f.String()
			}
			return strings.Join(parts, "; ")
		}
		if e.Err == nil {
			return strings.ReplaceAll(e.Kind.String(), "_", " ")
		}
		err = e.Err
	}
	return ""
}
