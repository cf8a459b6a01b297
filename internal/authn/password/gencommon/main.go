// Command gencommon writes common.txt, the list of common passwords that
// password.Policy refuses, from the password list of the zxcvbn password
// strength estimator as the Go module github.com/trustelem/zxcvbn v1.0.1
// ships it (data/passwords.txt, MIT licence; see docs/dependencies.md).
// Only entries of at least MinLen characters are kept, since shorter ones
// are refused for their length anyway; they are lower-cased (the policy
// compares ignoring case), de-duplicated and sorted. Run it from the
// repository root:
//
//	go mod download github.com/trustelem/zxcvbn@v1.0.1
//	go run ./internal/authn/password/gencommon \
//	  -src "$(go env GOMODCACHE)/github.com/trustelem/zxcvbn@v1.0.1/data/passwords.txt" \
//	  > internal/authn/password/common.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

func main() {
	src := flag.String("src", "", "zxcvbn's data/passwords.txt (one password and its count per line)")
	minLen := flag.Int("min", 8, "shortest entry to keep, in characters (the policy's minimum length)")
	flag.Parse()
	if err := run(*src, *minLen); err != nil {
		fmt.Fprintln(os.Stderr, "gencommon:", err)
		os.Exit(1)
	}
}

func run(src string, minLen int) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pw := strings.ToLower(fields[0])
		if utf8.RuneCountInString(pw) >= minLen {
			seen[pw] = true
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	list := make([]string, 0, len(seen))
	for pw := range seen {
		list = append(list, pw)
	}
	slices.Sort(list)
	w := bufio.NewWriter(os.Stdout)
	for _, pw := range list {
		fmt.Fprintln(w, pw)
	}
	return w.Flush()
}
