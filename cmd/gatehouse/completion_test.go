package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestCompletionScripts: gatehouse completion bash|zsh|fish prints a
// script for that shell naming the commands (docs/cli.md, Shell
// completion); an unknown shell is a usage mistake.
func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash": "__start_gatehouse",
		"zsh":  "#compdef gatehouse",
		"fish": "complete -c gatehouse",
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"completion", shell}, &out, &errb, func(string) string { return "" }); code != 0 {
			t.Errorf("completion %s: exit %d: %s", shell, code, errb.String())
			continue
		}
		if !strings.Contains(out.String(), marker) {
			t.Errorf("completion %s: the script has no %q:\n%.300s", shell, marker, out.String())
		}
	}
	// The scripts ask the binary for candidates: the commands are there.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"__complete", "groups", "set-"}, &out, &errb, func(string) string { return "" }); code != 0 ||
		!strings.Contains(out.String(), "set-domains") || !strings.Contains(out.String(), "set-default-rights") {
		t.Errorf("__complete groups set-: exit %d\n%s%s", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"completion", "tcsh"}, &out, &errb, func(string) string { return "" }); code != 2 ||
		!strings.Contains(errb.String(), "want bash, zsh, fish or powershell") {
		t.Errorf("completion tcsh: exit %d, want 2 naming the shells: %s", code, errb.String())
	}
}
