package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		path string // under a temporary directory
		old  []byte // nil: no file before
		perm os.FileMode
	}{
		{"new file in a new directory", filepath.Join("new", "a.yaml"), nil, 0o600},
		{"replaces a file", "b.yaml", []byte("old content, longer than the new one"), 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.path = filepath.Join(t.TempDir(), tt.path)
			if tt.old != nil {
				if err := os.WriteFile(tt.path, tt.old, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := Write(tt.path, []byte("new"), tt.perm); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(tt.path)
			if err != nil || string(got) != "new" {
				t.Errorf("content %q, %v; want %q", got, err, "new")
			}
			if st, _ := os.Stat(tt.path); st.Mode().Perm() != tt.perm {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), tt.perm)
			}
			entries, _ := os.ReadDir(filepath.Dir(tt.path))
			for _, e := range entries {
				if e.Name() != filepath.Base(tt.path) {
					t.Errorf("left behind: %s", e.Name())
				}
			}
		})
	}
}

func TestWriteFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be: the rename fails.
	path := filepath.Join(dir, "taken")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("new"), 0o600); err == nil {
		t.Fatal("Write over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the temporary file was left behind: %v", entries)
	}
}
