package rest

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gatehouse/gatehouse/internal/api/input"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
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

// decodeStrict decodes one JSON object from raw into v with the v2 JSON
// decoder (github.com/go-json-experiment/json), which matches names
// exactly and refuses repeated names, invalid UTF-8 and trailing data;
// unknown names are refused too.
func decodeStrict(raw []byte, v any) error {
	err := jsonv2.Unmarshal(raw, v, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var sem *jsonv2.SemanticError
	if !errors.As(err, &sem) || sem.Err == jsontext.ErrDuplicateName {
		// Not JSON, or JSON the edge refuses (input.CheckJSON, which
		// names the place): the same answers here.
		if e := input.CheckJSON(raw, input.ExactNames); e != nil {
			return bodyProblem(e)
		}
		return badJSON("the body is not valid JSON: " + err.Error())
	}
	loc := pointerLocation(sem.JSONPointer)
	switch {
	case sem.Err == jsonv2.ErrUnknownName:
		return invalidAt(loc, "unexpected property")
	case sem.GoType != nil:
		return invalidAt(loc, fmt.Sprintf("expected %s, not %s", sem.GoType, kindNames[sem.JSONKind]))
	}
	return invalidAt(loc, strings.TrimPrefix(err.Error(), "json: "))
}

var kindNames = map[jsontext.Kind]string{'"': "a string", '0': "a number", 't': "a boolean", 'f': "a boolean",
	'n': "null", '{': "an object", '[': "an array"}

// pointerLocation turns a JSON pointer (/checks/3/resource) into a
// location (body.checks[3].resource).
func pointerLocation(p jsontext.Pointer) string {
	loc := "body"
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil {
			loc += "[" + tok + "]"
		} else {
			loc += "." + tok
		}
	}
	return loc
}

func badJSON(msg string) *Problem {
	return newProblem(http.StatusBadRequest, domain.KindInvalid.String(), msg)
}

func invalidAt(loc, msg string) *Problem {
	p := newProblem(http.StatusUnprocessableEntity, domain.KindInvalid.String(), "validation failed")
	p.Errors = []*api.ErrorDetail{{Location: loc, Message: msg}}
	return p
}

// rawBodyOp documents the request schema of an operation that decodes its
// raw body itself.
func (a *API) rawBodyOp(o huma.Operation, body any) huma.Operation {
	o.SkipValidateBody = true
	// decodeStrict refuses what the edge's input.CheckJSON refuses (and
	// answers the same), so the hot path scans its body once.
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[strictDecoder] = true
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

func validateConsistency(c api.Consistency) error {
	if c.AtLeast < 0 {
		return invalidAt("body.at_least", "expected number >= 0")
	}
	if c.WaitMS != nil && (*c.WaitMS < 0 || *c.WaitMS > int(MaxWait.Milliseconds())) {
		return invalidAt("body.wait_ms", fmt.Sprintf("expected number from 0 to %d", MaxWait.Milliseconds()))
	}
	return nil
}

func validateCheckItem(c api.CheckItem, prefix func() string) error {
	at := func(f string) func() string { return func() string { return prefix() + f } }
	if err := checkLen(at("subject"), c.Subject, 0, 200); err != nil {
		return err
	}
	if err := checkLen(at("permission"), c.Permission, 1, 200); err != nil {
		return err
	}
	return checkLen(at("resource"), c.Resource, 1, 300)
}

// decodeCheck decodes and validates the body of a check.
func decodeCheck(raw []byte, r *api.CheckRequest) error {
	if !fastCheck(raw, r) {
		if err := decodeStrict(raw, r); err != nil {
			return err
		}
	}
	if err := validateCheckItem(api.CheckItem{Subject: r.Subject, Permission: r.Permission, Resource: r.Resource}, func() string { return "body." }); err != nil {
		return err
	}
	return validateConsistency(r.Consistency)
}

// decodeBatch decodes and validates the body of a batch check.
func decodeBatch(raw []byte, r *api.BatchCheckRequest) error {
	if !fastBatch(raw, r) {
		if err := decodeStrict(raw, r); err != nil {
			return err
		}
	}
	if n := len(r.Checks); n < 1 || n > MaxBatch {
		return invalidAt("body.checks", fmt.Sprintf("expected 1 to %d checks, not %d", MaxBatch, n))
	}
	for i, c := range r.Checks {
		if err := validateCheckItem(c, func() string { return fmt.Sprintf("body.checks[%d].", i) }); err != nil {
			return err
		}
	}
	return validateConsistency(r.Consistency)
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
