package rest_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkCheck measures one POST /api/v1/check through the whole
// handler (authentication hook, decoding, validation, engine, encoding),
// in process, without a network.
func BenchmarkCheck(b *testing.B) {
	e := newEnv(b)
	body := `{"permission": "project.read", "resource": "system"}`
	body = strings.Replace(body, "project.read", "users.view", 1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			postAsAdmin(b, e, "/api/v1/check", body)
		}
	})
}

// BenchmarkCheckAboutAnother is BenchmarkCheck about another user: the
// caller's right to ask (users.view) is decided on every request.
func BenchmarkCheckAboutAnother(b *testing.B) {
	e := newEnv(b)
	bob := e.user("bob", "")
	body := `{"subject": "user:` + bob.UserID + `", "permission": "users.view", "resource": "system"}`
	b.ReportAllocs()
	for b.Loop() {
		postAsAdmin(b, e, "/api/v1/check", body)
	}
}

// BenchmarkBatchCheck1000 measures a batch of 1000 checks.
func BenchmarkBatchCheck1000(b *testing.B) {
	e := newEnv(b)
	body := batchOf(1000)
	b.ReportAllocs()
	for b.Loop() {
		postAsAdmin(b, e, "/api/v1/check/batch", body)
	}
}

// postAsAdmin serves one POST of body to path as the administrator and
// fails unless it answers 200.
func postAsAdmin(b *testing.B, e *env, path, body string) {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer test:"+e.admin.UserID)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatal(w.Code, w.Body.String())
	}
}
