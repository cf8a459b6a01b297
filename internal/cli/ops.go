package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// OperationsAnnotation is the cobra annotation in which a command names
// the API operations it exists to call, one "METHOD /api/v1/path" per
// line, spelled as in the OpenAPI document (docs/openapi.json). The
// coverage test reads it to prove that every operation of the API has a
// command, and the commands' tests record the requests each run sends to
// prove the annotation true. Lookups a command makes on the way (a name
// resolved to an id) are not declared: they are not what it is for.
const OperationsAnnotation = "operations"

// declare records the operations cmd calls (see OperationsAnnotation).
func declare(cmd *cobra.Command, ops ...string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[OperationsAnnotation] = strings.Join(ops, "\n")
	return cmd
}

// Operations returns the operations cmd declares it calls.
func Operations(cmd *cobra.Command) []string {
	s := cmd.Annotations[OperationsAnnotation]
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// apiCall is what a command sends: the values of the operation's path
// parameters in their order, the query and the JSON body.
type apiCall struct {
	params []string
	query  url.Values
	body   any
}

// apiSpec declares a command that calls one operation: build turns the
// arguments and flags into the request, text prints the answer for a
// person; --json prints the answer as the server sent it.
type apiSpec struct {
	op                        string // "PUT /api/v1/groups/{id}/domains"
	use, short, long, example string
	args                      cobra.PositionalArgs
	flags                     func(f *pflag.FlagSet)
	build                     func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error)
	text                      func(cmd *cobra.Command, c *gatehouse.Client, raw json.RawMessage) error
	// fail, if set, turns an answer into the command's failure after it
	// is printed (a 200 that reports a problem, such as a broken chain).
	fail func(cmd *cobra.Command, c *gatehouse.Client, raw json.RawMessage) error
}

// apiCmd makes the command an apiSpec declares. The operation it sends is
// the one it declares, so the annotation cannot drift from the request.
func (a *app) apiCmd(s apiSpec) *cobra.Command {
	method, tmpl, _ := strings.Cut(s.op, " ")
	cmd := &cobra.Command{
		Use: s.use, Short: s.short, Long: s.long, Example: s.example, Args: s.args,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			call, err := s.build(cmd, c, args)
			if err != nil {
				return explain(c, err)
			}
			path, err := fillPath(tmpl, call.params)
			if err != nil {
				return err
			}
			raw, err := callAPI(cmd.Context(), c, method, path, call.query, call.body)
			if err != nil {
				return explain(c, err)
			}
			if a.json {
				err = printRaw(cmd.OutOrStdout(), raw)
			} else {
				err = s.text(cmd, c, raw)
			}
			if err == nil && s.fail != nil {
				err = s.fail(cmd, c, raw)
			}
			return err
		},
	}
	if s.flags != nil {
		s.flags(cmd.Flags())
	}
	return declare(cmd, s.op)
}

// fillPath puts the escaped params into the template's {…} segments, in
// order, and drops the /api/v1 prefix the client adds.
func fillPath(tmpl string, params []string) (string, error) {
	segs := strings.Split(strings.TrimPrefix(tmpl, "/api/v1"), "/")
	n := 0
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			if n == len(params) {
				return "", fmt.Errorf("internal error: %s needs more than %d parameters", tmpl, n)
			}
			segs[i] = url.PathEscape(params[n])
			n++
		}
	}
	if n != len(params) {
		return "", fmt.Errorf("internal error: %s takes %d parameters, not %d", tmpl, n, len(params))
	}
	return strings.Join(segs, "/"), nil
}

// printRaw prints the server's JSON indented (an empty answer as {}).
func printRaw(w io.Writer, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw) // json.Indent would keep a trailing newline
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	b.WriteByte('\n')
	_, err := b.WriteTo(w)
	return err
}

// as adapts a printer of a T to an apiSpec's text.
func as[T any](print func(cmd *cobra.Command, c *gatehouse.Client, v T) error) func(*cobra.Command, *gatehouse.Client, json.RawMessage) error {
	return func(cmd *cobra.Command, c *gatehouse.Client, raw json.RawMessage) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("the server's answer is not the JSON expected: %w", err)
		}
		return print(cmd, c, v)
	}
}

// say prints a one-line confirmation made from the answer.
func say[T any](line func(v T) string) func(*cobra.Command, *gatehouse.Client, json.RawMessage) error {
	return as(func(cmd *cobra.Command, _ *gatehouse.Client, v T) error {
		_, err := fmt.Fprintln(cmd.OutOrStdout(), line(v))
		return err
	})
}

// revision is the answer of a write that returns no object.
type revision struct {
	Revision int64 `json:"revision"`
}

// ---- building requests ----

// ids resolves each argument with find and returns the ids.
func ids[T any](args []string, find func(string) (T, error), id func(T) string) ([]string, error) {
	out := make([]string, 0, len(args))
	for _, s := range args {
		v, err := find(s)
		if err != nil {
			return nil, err
		}
		out = append(out, id(v))
	}
	return out, nil
}

// field is one flag of an edit: its name, the JSON field it sets, its help.
type field struct{ flag, key, help string }

var (
	nameField        = field{"name", "name", "a new name"}
	descriptionField = field{"description", "description", "a new description (\"\" clears it)"}
)

// patch is the flags of an edit (a PATCH): the body holds only the
// fields whose flags were given.
type patch struct {
	fields []field
	vals   []*string
}

func (p *patch) add(f *pflag.FlagSet, fields ...field) {
	for _, fl := range fields {
		v := new(string)
		f.StringVar(v, fl.flag, "", fl.help)
		p.fields, p.vals = append(p.fields, fl), append(p.vals, v)
	}
}

// body is the fields given; none is a usage mistake.
func (p *patch) body(cmd *cobra.Command) (map[string]any, error) {
	body := map[string]any{}
	names := make([]string, len(p.fields))
	for i, fl := range p.fields {
		names[i] = "--" + fl.flag
		if cmd.Flags().Changed(fl.flag) {
			body[fl.key] = *p.vals[i]
		}
	}
	if len(body) == 0 {
		return nil, usage(cmd, "%s changes nothing: give %s", path(cmd), strings.Join(names, ", "))
	}
	return body, nil
}

// byName is a build that resolves the first argument (an id or a name)
// into the path parameter.
func byName[T any](find func(context.Context, *gatehouse.Client, string) (T, error), id func(T) string) func(*cobra.Command, *gatehouse.Client, []string) (apiCall, error) {
	return func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
		v, err := find(cmd.Context(), c, args[0])
		return apiCall{params: []string{id(v)}}, err
	}
}

var (
	groupParam      = byName(resolveGroup, func(g api.Group) string { return g.ID })
	projectParam    = byName(resolveProject, func(p api.Project) string { return p.ID })
	folderTypeParam = byName(resolveFolderType, func(t api.FolderType) string { return t.ID })
)

// edit is a build for a PATCH of the object named by the first argument.
func edit(p *patch, param func(*cobra.Command, *gatehouse.Client, []string) (apiCall, error)) func(*cobra.Command, *gatehouse.Client, []string) (apiCall, error) {
	return func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
		body, err := p.body(cmd)
		if err != nil {
			return apiCall{}, err
		}
		call, err := param(cmd, c, args)
		call.body = body
		return call, err
	}
}
