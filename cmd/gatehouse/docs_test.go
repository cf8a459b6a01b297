package main

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// serverCommands run on the database or serve it; their flags are the
// installation's configuration. The other commands are API clients,
// described flag by flag in docs/cli.md.
var serverCommands = map[string]bool{"serve": true, "migrate": true, "backup": true, "restore": true, "audit": true, "version": true}

// TestConfigurationReferenceIsComplete keeps the reference pages honest:
// every flag of the server commands, the client connection flags and every
// GATEHOUSE_* variable a flag's help names must appear in
// docs/configuration.md, and every other command's flags in docs/cli.md. A
// new flag without a line in the reference fails here.
func TestConfigurationReferenceIsComplete(t *testing.T) {
	read := func(name string) string {
		page, err := os.ReadFile("../../docs/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(page)
	}
	config, cliPage := read("configuration.md"), read("cli.md")
	connection := map[string]bool{"server": true, "token": true, "json": true}
	envRE := regexp.MustCompile(`GATEHOUSE_[A-Z0-9_]+`)
	var missing []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			top := strings.Fields(c.CommandPath() + " x")[1]
			doc, where := cliPage, "docs/cli.md"
			if serverCommands[top] || connection[f.Name] {
				doc, where = config, "docs/configuration.md"
			}
			// A flag counts as described when the page names it, in prose
			// or in a synopsis line: --name not followed by more of a name.
			named := regexp.MustCompile(`(^|[^-\w])--` + regexp.QuoteMeta(f.Name) + `([^-\w]|$)`)
			if !named.MatchString(doc) {
				missing = append(missing, where+": "+c.CommandPath()+" --"+f.Name)
			}
			for _, env := range envRE.FindAllString(f.Usage, -1) {
				if !strings.Contains(config, env) {
					missing = append(missing, "docs/configuration.md: "+env+" (from "+c.CommandPath()+" --"+f.Name+")")
				}
			}
		}
		c.LocalFlags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub)
		}
	}
	walk(newRootCmd(func(string) string { return "" }))
	sort.Strings(missing)
	missing = compactStrings(missing)
	if len(missing) > 0 {
		t.Errorf("the reference pages do not describe:\n  %s", strings.Join(missing, "\n  "))
	}
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
