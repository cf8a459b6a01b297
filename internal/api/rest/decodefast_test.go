package rest

import (
	"crypto/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// fastBodies are bodies of the common shape and near misses of it.
var fastBodies = []string{
	`{"subject":"user:u1","permission":"root.read","resource":"folder:f1"}`,
	` {"permission" : "users.view" , "resource":"system"}` + "\n",
	`{}`, `{"permission":"a","resource":"system","subject":""}`,
	`{"permission":"é","resource":"folder:ü"}`,
	`{"checks":[{"subject":"user:a","permission":"root.read","resource":"folder:f"},{"permission":"users.view","resource":"system"}]}`,
	`{"checks":[]}`, `{"checks":[{}]}`, "{\"checks\":\t[ {\"permission\":\"p\",\"resource\":\"system\"} ]\r\n}",
	// Near misses: decodeStrict decides.
	`{"permission":"a","permission":"b","resource":"system"}`,
	`{"Permission":"a","resource":"system"}`,
	`{"permission":"a\u0062","resource":"system"}`,
	`{"permission":"a\"b","resource":"system"}`,
	"{\"permission\":\"a\x01\",\"resource\":\"system\"}",
	"{\"permission\":\"\xff\",\"resource\":\"system\"}",
	`{"permission":null,"resource":"system"}`,
	`{"permission":"a","resource":"system","at_least":3}`,
	`{"permission":"a","resource":"system"} {}`,
	`{"permission":"a","resource":"system",}`,
	`{"checks":[{"permission":"a","resource":"system"},]}`,
	`{"checks":[{"permission":"a","resource":"system"}],"at_least":1}`,
	`{"checks":[{"permission":"a","resource":"system"}],"checks":[]}`,
	`{"checks":{}}`, `{"checks":[1]}`, `[]`, ``, `{`, `{"checks":[`, `{"permission":"a`,
}

// What the fast decoders accept, decodeStrict decodes to the same
// request; what they refuse, they leave untouched.
func checkFastMatchesStrict(t *testing.T, b []byte) {
	var fc, sc api.CheckRequest
	if fastCheck(b, &fc) {
		if err := decodeStrict(b, &sc); err != nil {
			t.Fatalf("fastCheck accepted %q, decodeStrict refuses it: %v", b, err)
		}
		if fc != sc {
			t.Fatalf("%q: fastCheck decoded %+v, decodeStrict %+v", b, fc, sc)
		}
	} else if fc != (api.CheckRequest{}) {
		t.Fatalf("%q: fastCheck gave up but changed the request: %+v", b, fc)
	}
	var fb, sb api.BatchCheckRequest
	if fastBatch(b, &fb) {
		if err := decodeStrict(b, &sb); err != nil {
			t.Fatalf("fastBatch accepted %q, decodeStrict refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(fb, sb) {
			t.Fatalf("%q: fastBatch decoded %+v, decodeStrict %+v", b, fb, sb)
		}
	} else if !reflect.DeepEqual(fb, api.BatchCheckRequest{}) {
		t.Fatalf("%q: fastBatch gave up but changed the request: %+v", b, fb)
	}
}

func TestFastDecodeMatchesStrict(t *testing.T) {
	accepted := 0
	for _, s := range fastBodies {
		checkFastMatchesStrict(t, []byte(s))
		var c api.CheckRequest
		var b api.BatchCheckRequest
		if fastCheck([]byte(s), &c) || fastBatch([]byte(s), &b) {
			accepted++
		}
	}
	if accepted != 9 {
		t.Errorf("the fast decoders took %d of the bodies, want the 9 of the common shape", accepted)
	}
}

// batchBody is a batch of n folder checks of distinct users (user:u0,
// user:u1, ...) and folders, as an application sends them.
func batchBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"checks":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"subject":"user:u` + strconv.Itoa(i) + `","permission":"root.read","resource":"folder:` + rand.Text() + `"}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// A batch of the common shape is read whole by the fast decoder, in order.
func TestFastBatchReadsEveryItem(t *testing.T) {
	var r api.BatchCheckRequest
	if !fastBatch(batchBody(MaxBatch), &r) {
		t.Fatal("fastBatch gave up on a batch of the common shape")
	}
	if len(r.Checks) != MaxBatch || r.Checks[0].Subject != "user:u0" || r.Checks[MaxBatch-1].Subject != "user:u"+strconv.Itoa(MaxBatch-1) {
		t.Fatalf("fastBatch read %d checks, first %+v", len(r.Checks), r.Checks[0])
	}
}

// FuzzFastDecodeMatchesStrict: whatever the body, the fast decoders
// either give up untouched or decode what decodeStrict decodes.
func FuzzFastDecodeMatchesStrict(f *testing.F) {
	for _, s := range fastBodies {
		f.Add([]byte(s))
	}
	f.Fuzz(checkFastMatchesStrict)
}
