package providertest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Update is the -update flag of every test binary that links this package:
// with it, Golden and GoldenSorted rewrite golden files instead of comparing
// with them (go test ./router/provider/anthropic -update).
var Update = flag.Bool("update", false, "rewrite the golden files under testdata/ instead of comparing with them")

// Golden compares got, a JSON document, with the golden file at path,
// structurally: member order and spacing do not matter. A difference fails
// the test with a line diff of the two, indented (-want +got); got that is
// not JSON, or a missing file, ends it.
//
// Under -update it writes the file instead, creating its folder: got
// indented by two spaces with its members in the order got has them, and a
// final newline.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	var gotV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatalf("%s: result is not JSON: %v\n%s", path, err, got)
	}
	if *Update {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, got, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	var wantV any
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		wantPretty, _ := json.MarshalIndent(wantV, "", "  ")
		gotPretty, _ := json.MarshalIndent(gotV, "", "  ")
		t.Errorf("%s differs (-want +got; run go test -update to accept):\n%s", path, lineDiff(string(wantPretty), string(gotPretty)))
	}
}

// GoldenSorted is Golden for golden files kept with every object's members
// sorted by name, as encoding/json writes a map: under -update it writes
// got in that order. Comparisons are the same as Golden's.
func GoldenSorted(t testing.TB, path string, got []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("%s: result is not JSON: %v\n%s", path, err, got)
	}
	sorted, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	Golden(t, path, sorted)
}

// lineDiff is a line diff of a and b from their longest common
// subsequence: lines only in a marked "-", only in b "+", with two lines of
// context around each change and "…" where unchanged lines are left out.
func lineDiff(a, b string) string {
	x := strings.Split(strings.TrimRight(a, "\n"), "\n")
	y := strings.Split(strings.TrimRight(b, "\n"), "\n")
	// lcs[i][j] is the length of the longest common subsequence of x[i:], y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			lines = append(lines, line{' ', x[i]})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', x[i]})
			i++
		default:
			lines = append(lines, line{'+', y[j]})
			j++
		}
	}
	const context = 2
	var out strings.Builder
	lastShown := -1
	for k, l := range lines {
		near := false
		for n := max(0, k-context); n <= min(len(lines)-1, k+context); n++ {
			if lines[n].op != ' ' {
				near = true
			}
		}
		if !near {
			continue
		}
		if lastShown >= 0 && k > lastShown+1 {
			out.WriteString("  …\n")
		}
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
		lastShown = k
	}
	return out.String()
}
