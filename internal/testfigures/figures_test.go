package testfigures

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRecordAppendsLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "figures")
	t.Setenv(Env, path)
	Record(t, "crash sqlite: 20 kills survived")
	Record(t, "hostile: 0 5xx")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "crash sqlite: 20 kills survived\nhostile: 0 5xx\n"; string(got) != want {
		t.Errorf("file = %q, want %q", got, want)
	}
}

func TestRecordWithoutFileOnlyLogs(t *testing.T) {
	t.Setenv(Env, "")
	Record(t, "nothing written") // must not fail or create a file
}
