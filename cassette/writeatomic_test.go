package cassette_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/azvcr/azvcr/cassette"
)

// TestWriteAtomicFunc: what fill writes replaces the file whole, readable as 0644; when fill
// fails, the old file stays as it was and no temporary file is left; while fill writes, the
// temporary file is readable by its owner only.
func TestWriteAtomicFunc(t *testing.T) {
	refuse := errors.New("refused")
	cases := []struct {
		name    string
		fill    func(io.Writer) error
		wantErr error
		want    string
	}{
		{"written", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, nil, "new"},
		{"refused after writing", func(w io.Writer) error { io.WriteString(w, "half"); return refuse }, refuse, "old"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rec.json")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			var tmpMode os.FileMode
			err := cassette.WriteAtomicFunc(path, func(w io.Writer) error {
				if f, ok := w.(*os.File); ok {
					if st, err := f.Stat(); err == nil {
						tmpMode = st.Mode().Perm()
					}
				}
				return tc.fill(w)
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if got, _ := os.ReadFile(path); string(got) != tc.want {
				t.Errorf("file holds %q, want %q", got, tc.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("%d files left in the folder, want 1", len(ents))
			}
			if runtime.GOOS != "windows" {
				if tmpMode != 0o600 {
					t.Errorf("temporary file mode %v, want 0600", tmpMode)
				}
				if st, _ := os.Stat(path); tc.wantErr == nil && st.Mode().Perm() != 0o644 {
					t.Errorf("written file mode %v, want 0644", st.Mode().Perm())
				}
			}
		})
	}
}
