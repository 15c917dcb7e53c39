package providertest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestScriptRepliesInOrderLastRepeats(t *testing.T) {
	var s Script[string, int]
	s.SetReplies("a", "b")
	var got []string
	var nums []int
	for i := range 4 {
		rep, n := s.Next(i)
		got = append(got, rep)
		nums = append(nums, n)
	}
	if !slices.Equal(got, []string{"a", "b", "b", "b"}) || !slices.Equal(nums, []int{1, 2, 3, 4}) {
		t.Errorf("replies %q numbered %v", got, nums)
	}
	if s.Count() != 4 || !slices.Equal(s.Requests(), []int{0, 1, 2, 3}) {
		t.Errorf("Count %d, Requests %v", s.Count(), s.Requests())
	}
}

func TestScriptZeroValueAndSetReplies(t *testing.T) {
	var s Script[string, int]
	if rep, n := s.Take(); rep != "" || n != 1 {
		t.Errorf("Take with no replies = %q, %d", rep, n)
	}
	s.SetReplies("x")
	if rep, n := s.Take(); rep != "x" || n != 2 {
		t.Errorf("Take after SetReplies = %q, %d", rep, n)
	}
	if s.Count() != 0 {
		t.Errorf("Take recorded a request: Count %d", s.Count())
	}
	s.Record(7)
	if s.Count() != 1 || s.Requests()[0] != 7 {
		t.Errorf("Requests after Record = %v", s.Requests())
	}
}

func TestScriptRequestsIsACopy(t *testing.T) {
	var s Script[string, int]
	s.Record(1)
	s.Requests()[0] = 99
	if s.Requests()[0] != 1 {
		t.Error("changing the result of Requests changed the script")
	}
}

func TestScriptHold(t *testing.T) {
	var s Script[string, int]
	if !s.Hold(context.Background(), 0) || !s.Hold(context.Background(), time.Millisecond) {
		t.Error("Hold without a cancellation returned false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s.Hold(ctx, time.Hour) {
		t.Error("Hold with an ended context returned true")
	}
	s.ClientGone()
	if s.Disconnects() != 2 {
		t.Errorf("Disconnects = %d, want 2", s.Disconnects())
	}
}

func TestClosedAddrRefuses(t *testing.T) {
	addr := ClosedAddr(t)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("dial %s succeeded", addr)
	}
}

func TestWords(t *testing.T) {
	for text, want := range map[string][]string{
		"":              nil,
		"one":           {"one"},
		"one two three": {"one ", "two ", "three"},
		"a  b ":         {"a ", " ", "b "},
	} {
		if got := Words(text); !slices.Equal(got, want) {
			t.Errorf("Words(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestLineDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n"
	b := "1\n2\n3\n4\nfive\n6\n7\n8\n9\n"
	want := "  3\n  4\n- 5\n+ five\n  6\n  7\n"
	if got := lineDiff(a, b); got != want {
		t.Errorf("lineDiff =\n%s\nwant\n%s", got, want)
	}
	a = "1\n2\n3\n4\n5\n6\n7\n8\n"
	b = "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n"
	want = "+ 0\n  1\n  2\n  …\n  7\n  8\n+ 9\n"
	if got := lineDiff(a, b); got != want {
		t.Errorf("lineDiff =\n%s\nwant\n%s", got, want)
	}
}

func TestGoldenUpdateThenCompare(t *testing.T) {
	dir := t.TempDir()
	asSent := filepath.Join(dir, "sub", "as_sent.json")
	sorted := filepath.Join(dir, "sorted.json")
	got := []byte(`{"b":1,"a":{"d":"<x>","c":[true,null]}}`)

	defer func(old bool) { *Update = old }(*Update)
	*Update = true
	Golden(t, asSent, got)
	GoldenSorted(t, sorted, got)
	*Update = false

	for path, want := range map[string]string{
		asSent: "{\n  \"b\": 1,\n  \"a\": {\n    \"d\": \"<x>\",\n    \"c\": [\n      true,\n      null\n    ]\n  }\n}\n",
		sorted: "{\n  \"a\": {\n    \"c\": [\n      true,\n      null\n    ],\n    \"d\": \"\\u003cx\\u003e\"\n  },\n  \"b\": 1\n}\n",
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s =\n%s\nwant\n%s", path, b, want)
		}
		// Either file matches got in any member order.
		Golden(t, path, got)
		GoldenSorted(t, path, []byte(`{"a":{"c":[true,null],"d":"<x>"},"b":1}`))
	}
}

func TestCountingReader(t *testing.T) {
	var r CountingReader
	p := make([]byte, 3)
	r.Read(p)
	r.Read(p[1:])
	if !slices.Equal(p, []byte{0, 3, 4}) {
		t.Errorf("read %v", p)
	}
}
