package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// The string index answers exactly what a map would, for UUIDs in any
// spelling and other strings, short or long, and a later generation's puts leave an
// earlier generation's index unchanged.
func TestStrIndexMatchesAMap(t *testing.T) {
	want := map[string]int32{}
	ix := newStrIndex[noVal](1)
	var keys []string
	for i := 0; i < 5000; i++ {
		id := domain.NewID()
		keys = append(keys, id, strings.ToUpper(id), "name-"+fmt.Sprint(i), id[:35]+"g", id[:35],
			// around the longest key a slot holds inline (index.go), and longer
			id[:6]+id, id[:7]+id, id+id)
	}
	for i, k := range keys {
		ix.put(1, k, int32(i))
		want[k] = int32(i)
	}
	frozen := ix // the published index of generation 1
	frozenWant := map[string]int32{}
	for k, v := range want {
		frozenWant[k] = v
	}
	// Generation 2 overwrites some and adds more.
	for i, k := range keys[:1000] {
		ix.put(2, k, int32(100000+i))
		want[k] = int32(100000 + i)
	}
	for i := 0; i < 1000; i++ {
		k := domain.NewID()
		ix.put(2, k, int32(200000+i))
		want[k] = int32(200000 + i)
	}
	check := func(name string, ix *strIndex[noVal], want map[string]int32) {
		for k, v := range want {
			if got, ok := ix.get(k); !ok || got != v {
				t.Fatalf("%s: get(%q) = %d, %v; want %d", name, k, got, ok, v)
			}
		}
		for _, k := range []string{domain.NewID(), "", "nope", "00000000-0000-0000-0000-00000000000"} {
			if _, ok := ix.get(k); ok {
				t.Fatalf("%s: get(%q) found a key never put", name, k)
			}
		}
	}
	check("generation 2", &ix, want)
	check("generation 1, after generation 2's puts", &frozen, frozenWant)
}
