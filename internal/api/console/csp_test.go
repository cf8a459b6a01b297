package console

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestTemplatesNeedNoUnsafeInline keeps the console's Content-Security-Policy
// free of 'unsafe-inline': a template with an inline script, an event
// handler attribute, a style attribute or element, or a javascript: URL
// would be blocked by the browser under that policy, so it fails here
// first, naming the template and the offending markup.
func TestTemplatesNeedNoUnsafeInline(t *testing.T) {
	var (
		scriptTag = regexp.MustCompile(`(?is)<script\b[^>]*>`)
		handler   = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
		styleAttr = regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)
		styleTag  = regexp.MustCompile(`(?i)<style\b`)
		jsURL     = regexp.MustCompile(`(?i)javascript:`)
	)
	n := 0
	err := fs.WalkDir(templateFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, path)
		if err != nil {
			return err
		}
		n++
		src := string(b)
		for _, tag := range scriptTag.FindAllString(src, -1) {
			if !strings.Contains(tag, "src=") {
				t.Errorf("%s: inline script %q; move it to static/console.js", path, tag)
			}
		}
		for name, re := range map[string]*regexp.Regexp{"event handler attribute": handler, "style attribute": styleAttr, "style element": styleTag, "javascript: URL": jsURL} {
			if m := re.FindString(src); m != "" {
				t.Errorf("%s: %s in %q; the CSP forbids it without 'unsafe-inline'", path, name, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("checked %d templates, want every console template (is the embed pattern right?)", n)
	}
}
