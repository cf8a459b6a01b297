package rest_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the code")

// TestOpenAPI fails when docs/openapi.json is not the document the code
// serves. Regenerate with: go test ./internal/api/rest -run TestOpenAPI -update
func TestOpenAPI(t *testing.T) {
	e := newAuthEnv(t) // the API as the server builds it, sign-in endpoints included
	got, err := e.api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	served := e.do(nil, "GET", "/api/v1/openapi.json", nil).want(t, 200)
	if len(served.Raw) == 0 || served.Body["openapi"] != "3.1.0" {
		t.Errorf("/api/v1/openapi.json does not serve an OpenAPI 3.1 document: %.200s", served.Raw)
	}
	path := filepath.Join("..", "..", "..", "docs", "openapi.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; create it with: go test ./internal/api/rest -run TestOpenAPI -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/openapi.json is out of date with the code; regenerate it with:\n\tgo test ./internal/api/rest -run TestOpenAPI -update")
	}
}
