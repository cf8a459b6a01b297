package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error so that every transport can map it to a status in
// one table, and callers can branch on it without reading message text.
type Kind uint8

// The error kinds. KindOther is the zero value: an unexpected failure.
const (
	KindOther           Kind = iota
	KindInvalid              // the request is malformed or breaks a rule of the model
	KindNotFound             // the object does not exist (or the caller may not see it)
	KindExists               // an object with the same unique key already exists
	KindConflict             // the object changed meanwhile, or is still in use
	KindForbidden            // the caller is known but may not do this
	KindUnauthenticated      // the caller is not known
	KindUnavailable          // the backend cannot serve now (down, full, shutting down)
)

var kindNames = [...]string{"other", "invalid", "not_found", "exists", "conflict", "forbidden", "unauthenticated", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is the one error type of Gatehouse: an operation, a kind and the
// underlying cause. Fields is set for KindInvalid errors that concern
// particular fields of the input.
type Error struct {
	Op     string       // the operation that failed, e.g. "store.CreateGroup"
	Kind   Kind         // what kind of failure
	Fields []FieldError // for KindInvalid: each bad field and why
	Err    error        // the cause, may be nil
}

// FieldError says which input field is at fault and why, in words a person
// filling in a form understands.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) String() string { return e.Field + ": " + e.Message }

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	switch {
	case len(e.Fields) > 0:
		for i, f := range e.Fields {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(f.String())
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(e.Kind.String())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error. Each argument may be a Kind, a string (the Op), an
// error (the cause) or a []FieldError.
func E(args ...any) error {
	e := &Error{}
	for _, a := range args {
		switch a := a.(type) {
		case Kind:
			e.Kind = a
		case string:
			e.Op = a
		case error:
			e.Err = a
		case []FieldError:
			e.Fields = a
		case FieldError:
			e.Fields = append(e.Fields, a)
		default:
			panic(fmt.Sprintf("domain.E: unexpected argument %T", a))
		}
	}
	if e.Kind == KindOther && e.Err != nil {
		var inner *Error
		if errors.As(e.Err, &inner) {
			e.Kind = inner.Kind
		}
	}
	return e
}

// Errorf builds an *Error of the given kind with a formatted cause.
func Errorf(op string, kind Kind, format string, args ...any) error {
	return &Error{Op: op, Kind: kind, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the kind of the outermost *Error in err's chain that has a
// kind other than KindOther, or KindOther.
func KindOf(err error) Kind {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return KindOther
		}
		if e.Kind != KindOther {
			return e.Kind
		}
		err = e.Err
	}
	return KindOther
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// FieldsOf returns the field errors carried by err, if any.
func FieldsOf(err error) []FieldError {
	var e *Error
	for errors.As(err, &e) {
		if len(e.Fields) > 0 {
			return e.Fields
		}
		err = e.Err
		if err == nil {
			break
		}
	}
	return nil
}

// Message is an error's text as an API client reads it: the fields at
// fault, or the cause without the chain of operation names
// ("service.AddMembers: ..."), which mean nothing outside the server.
func Message(err error) string {
	for err != nil {
		e, ok := err.(*Error)
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

// problems collects field errors during validation.
type problems []FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing was collected, else an Invalid *Error.
func (p problems) err(op string) error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Op: op, Kind: KindInvalid, Fields: p}
}
