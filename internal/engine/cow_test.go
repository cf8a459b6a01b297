package engine

import (
	"fmt"
	"hash/maphash"
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
		// Tables grow by half (grow), so that most are not a power of
		// two long; each holds n keys and is at most three quarters full.
		// A key is found one or two slots from its home (find reads
		// both at once): the homes spread over the table.
		lengths := map[int]bool{}
		displaced, keys := 0, 0
		for si, sh := range ix.shards {
			used := 0
			for p, sl := range sh.slots {
				if sl.id1 != 0 {
					used++
					h := home(maphash.Bytes(hashSeed, sl.key[:sl.klen]), len(sh.slots))
					displaced += (p - h + len(sh.slots)) % len(sh.slots)
					keys++
				}
			}
			if used != sh.n || 4*sh.n > 3*len(sh.slots) {
				t.Fatalf("%s: shard %d holds %d keys, counts %d, in %d slots", name, si, used, sh.n, len(sh.slots))
			}
			lengths[len(sh.slots)] = true
		}
		if mean := float64(displaced) / float64(keys); mean > 1.5 {
			t.Errorf("%s: keys are %.1f slots past their home on average; want at most 1.5", name, mean)
		}
		if !lengths[27] || !lengths[40] {
			t.Errorf("%s: table lengths %v; want some of 27 and 40 (8, 12, 18, 27, 40, ...)", name, lengths)
		}
	}
	check("generation 2", &ix, want)
	check("generation 1, after generation 2's puts", &frozen, frozenWant)
}
