package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// The check and batch check endpoints are the hot path: huma's generic
// body handling decodes a body twice (once into any for schema validation,
// once into the struct), which is three quarters of a batch's cost. They
// take the raw body and decode it once here, as strictly: unknown fields,
// wrong types and trailing data are refused with the field's location, and
// the limits of the schema are checked by hand (validate methods). The
// OpenAPI document still shows the request schema (rawBodyOp).

type rawIn struct {
	RawBody []byte
}

// decodeStrict decodes one JSON object from raw into v.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return badJSON("the body holds more than one JSON value")
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syn):
		return badJSON("the body is not valid JSON: " + err.Error())
	case errors.As(err, &typ):
		loc := "body"
		if typ.Field != "" {
			loc += "." + typ.Field
		}
		return invalidAt(loc, fmt.Sprintf("expected %s, not %s", typ.Type, typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this one.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalidAt("body."+name, "unexpected property")
	}
	return invalidAt("body", err.Error())
}

func badJSON(msg string) error {
	return newProblem(http.StatusBadRequest, domain.KindInvalid.String(), msg)
}

func invalidAt(loc, msg string) error {
	p := newProblem(http.StatusUnprocessableEntity, domain.KindInvalid.String(), "validation failed")
	p.Errors = []*huma.ErrorDetail{{Location: loc, Message: msg}}
	return p
}

// rawBodyOp documents the request schema of an operation that decodes its
// raw body itself.
func (a *API) rawBodyOp(o huma.Operation, body any) huma.Operation {
	o.SkipValidateBody = true
	t := reflect.TypeOf(body)
	o.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"application/json": {Schema: a.huma.OpenAPI().Components.Schemas.Schema(t, true, t.Name())},
	}}
	return o
}

// checkLen checks s is minLen to maxLen characters long; loc names the
// field and is only built when it is not, so a batch of valid checks
// formats no locations.
func checkLen(loc func() string, s string, minLen, maxLen int) error {
	if n := utf8.RuneCountInString(s); n < minLen || n > maxLen {
		return invalidAt(loc(), fmt.Sprintf("expected length %d to %d, not %d", minLen, maxLen, n))
	}
	return nil
}

func (c Consistency) validate() error {
	if c.AtLeast < 0 {
		return invalidAt("body.at_least", "expected number >= 0")
	}
	if c.WaitMS != nil && (*c.WaitMS < 0 || *c.WaitMS > int(MaxWait.Milliseconds())) {
		return invalidAt("body.wait_ms", fmt.Sprintf("expected number from 0 to %d", MaxWait.Milliseconds()))
	}
	return nil
}

func (c CheckItem) validate(prefix func() string) error {
	at := func(f string) func() string { return func() string { return prefix() + f } }
	if err := checkLen(at("subject"), c.Subject, 0, 200); err != nil {
		return err
	}
	if err := checkLen(at("permission"), c.Permission, 1, 200); err != nil {
		return err
	}
	return checkLen(at("resource"), c.Resource, 1, 300)
}

func (r *CheckRequest) decode(raw []byte) error {
	if err := decodeStrict(raw, r); err != nil {
		return err
	}
	if err := (CheckItem{r.Subject, r.Permission, r.Resource}).validate(func() string { return "body." }); err != nil {
		return err
	}
	return r.Consistency.validate()
}

func (r *BatchCheckRequest) decode(raw []byte) error {
	if err := decodeStrict(raw, r); err != nil {
		return err
	}
	if n := len(r.Checks); n < 1 || n > MaxBatch {
		return invalidAt("body.checks", fmt.Sprintf("expected 1 to %d checks, not %d", MaxBatch, n))
	}
	for i, c := range r.Checks {
		if err := c.validate(func() string { return fmt.Sprintf("body.checks[%d].", i) }); err != nil {
			return err
		}
	}
	return r.Consistency.validate()
}

// rawBodyDocs drops the application/octet-stream alternative huma
// documents for a raw body: these endpoints take JSON only.
func (a *API) rawBodyDocs(paths ...string) {
	for _, p := range paths {
		if it := a.huma.OpenAPI().Paths[Prefix+p]; it != nil && it.Post != nil && it.Post.RequestBody != nil {
			delete(it.Post.RequestBody.Content, "application/octet-stream")
		}
	}
}
