package cassette_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/cassettetest"
)

func TestJournalDurableAfterEachAdd(t *testing.T) {
	path := cassettetest.TempPath(t, "journal.yaml")
	j, err := cassette.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if j.Path() != path {
		t.Errorf("Path() = %q, want %q", j.Path(), path)
	}

	// A fresh journal is already a loadable, empty cassette.
	if c := cassettetest.MustLoad(t, path); len(c.Interactions) != 0 {
		t.Fatalf("fresh journal holds %d interactions", len(c.Interactions))
	}

	items := cassettetest.SampleInteractions(t)[:3]
	for i, it := range items {
		it.ID = 1000 + i // Add must overwrite whatever id the caller left
		if err := j.Add(it); err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
		if it.ID != i {
			t.Errorf("Add %d set ID %d, want %d", i, it.ID, i)
		}
		if got := j.Added(); got != i+1 {
			t.Errorf("Added() = %d after %d adds", got, i+1)
		}
		// Not closed: what is on disk now must already be complete.
		c := cassettetest.MustLoad(t, path)
		want := cassettetest.WithIDs(cassettetest.SampleInteractions(t)[:i+1])
		cassettetest.SameInteractions(t, c.Interactions, want)
		for k, got := range c.Interactions {
			if got.ID != k {
				t.Errorf("after %d adds: interaction %d has id %d", i+1, k, got.ID)
			}
		}
	}
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	err = j.Add(cassettetest.Clone(items[0]))
	if err == nil {
		t.Fatal("Add after Close succeeded")
	}
	if !strings.Contains(err.Error(), "closed") || !strings.Contains(err.Error(), path) {
		t.Errorf("Add after Close error = %q, want it to name the file and say closed", err)
	}
	if got := len(cassettetest.MustLoad(t, path).Interactions); got != 3 {
		t.Errorf("file holds %d interactions after a failed Add, want 3", got)
	}
	if j.Added() != 3 {
		t.Errorf("Added() = %d, want 3", j.Added())
	}
}

// An existing cassette is kept whole until the first new interaction replaces it, atomically:
// a recording that records nothing (or is killed before its first answer) destroys nothing.
func TestCreateReplacesExistingFileAtFirstInteraction(t *testing.T) {
	path := cassettetest.TempPath(t, "c.yaml")
	old := cassettetest.WithIDs(cassettetest.SampleInteractions(t))
	if err := cassette.Save(path, &cassette.Cassette{Interactions: old}); err != nil {
		t.Fatal(err)
	}
	j, err := cassette.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := cassettetest.MustLoad(t, path); len(c.Interactions) != len(old) {
		t.Errorf("after Create the file holds %d interactions, want the old %d", len(c.Interactions), len(old))
	}
	if err := j.Add(cassettetest.SampleInteractions(t)[1]); err != nil {
		t.Fatal(err)
	}
	c := cassettetest.MustLoad(t, path)
	if len(c.Interactions) != 1 || c.Interactions[0].ID != 0 {
		t.Errorf("after Create+Add: %d interactions, first id %d", len(c.Interactions), c.Interactions[0].ID)
	}
	if err := j.Add(cassettetest.SampleInteractions(t)[2]); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if c := cassettetest.MustLoad(t, path); len(c.Interactions) != 2 || c.Interactions[1].ID != 1 {
		t.Errorf("after a second Add: %d interactions", len(c.Interactions))
	}

	// Nothing recorded: the old file is untouched.
	if err := cassette.Save(path, &cassette.Cassette{Interactions: old}); err != nil {
		t.Fatal(err)
	}
	j, err = cassette.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if c := cassettetest.MustLoad(t, path); len(c.Interactions) != len(old) {
		t.Errorf("a journal that recorded nothing left %d of %d interactions", len(c.Interactions), len(old))
	}
}

// CheckReplace names what recording over a file would destroy.
func TestCheckReplace(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := filepath.Join(dir, "full.yaml")
	if err := cassette.Save(full, &cassette.Cassette{Interactions: cassettetest.WithIDs(cassettetest.SampleInteractions(t))}); err != nil {
		t.Fatal(err)
	}
	n := len(cassettetest.SampleInteractions(t))
	cases := []struct {
		path string
		want string // "" for nil
	}{
		{filepath.Join(dir, "none.yaml"), ""},
		{write("empty.yaml", ""), ""},
		{write("header.yaml", "version: 2\ninteractions:\n"), ""},
		{full, fmt.Sprintf("already holds %d recorded interactions", n)},
		{write("main.go", "package main\n"), "is not a cassette"},
	}
	for _, c := range cases {
		err := cassette.CheckReplace(c.path)
		var re *cassette.ReplaceError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want nil", c.path, err)
		case c.want != "" && (!errors.As(err, &re) || !strings.Contains(err.Error(), c.want) || re.Path != c.path):
			t.Errorf("%s: %v, want a ReplaceError saying %q", c.path, err, c.want)
		}
	}
}

func TestOpenAppend(t *testing.T) {
	v1 := cassettetest.MustRead(t, "testdata/govcr_v2.yaml")
	cases := []struct {
		name     string
		existing *string // nil: no file
		// existing file written by Save with these ids
		savedIDs []int
		wantPrev int // interactions returned and kept
		wantNext int // id the next Add gets
	}{
		{name: "missing file is created", wantPrev: 0, wantNext: 0},
		{name: "empty azvcr file", savedIDs: []int{}, wantPrev: 0, wantNext: 0},
		{name: "continues ids", savedIDs: []int{0, 1, 2}, wantPrev: 3, wantNext: 3},
		{name: "continues after highest id", savedIDs: []int{4, 9, 2}, wantPrev: 3, wantNext: 10},
		{name: "version 1 file", existing: &v1, wantPrev: 3, wantNext: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := cassettetest.TempPath(t, "c.yaml")
			var prevWant []*cassette.Interaction
			switch {
			case tc.existing != nil:
				if err := os.WriteFile(path, []byte(*tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
				prevWant = cassettetest.MustLoad(t, path).Interactions
			case tc.savedIDs != nil:
				for i, id := range tc.savedIDs {
					it := cassettetest.SampleInteractions(t)[i]
					it.ID = id
					prevWant = append(prevWant, it)
				}
				if err := cassette.Save(path, &cassette.Cassette{Interactions: prevWant}); err != nil {
					t.Fatal(err)
				}
			}

			j, prev, err := cassette.OpenAppend(path)
			if err != nil {
				t.Fatalf("OpenAppend: %v", err)
			}
			defer j.Close()
			if prev == nil {
				t.Fatal("OpenAppend returned a nil cassette")
			}
			if prev.Version != cassette.Version {
				t.Errorf("returned Version = %d", prev.Version)
			}
			if len(prev.Interactions) != tc.wantPrev {
				t.Fatalf("returned %d interactions, want %d", len(prev.Interactions), tc.wantPrev)
			}
			if prevWant != nil {
				cassettetest.SameInteractions(t, prev.Interactions, prevWant)
			}

			text := cassettetest.MustRead(t, path)
			if !strings.HasPrefix(text, "version: 2\ninteractions:\n") {
				t.Errorf("file not in azvcr's layout after OpenAppend:\n%s", text)
			}

			add := cassettetest.SampleInteractions(t)[3]
			if err := j.Add(add); err != nil {
				t.Fatalf("Add: %v", err)
			}
			if add.ID != tc.wantNext {
				t.Errorf("Add assigned id %d, want %d", add.ID, tc.wantNext)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}

			c := cassettetest.MustLoad(t, path)
			if len(c.Interactions) != tc.wantPrev+1 {
				t.Fatalf("file holds %d interactions, want %d", len(c.Interactions), tc.wantPrev+1)
			}
			cassettetest.SameInteractions(t, c.Interactions[:tc.wantPrev], prev.Interactions)
			last := c.Interactions[tc.wantPrev]
			if last.ID != tc.wantNext || last.Response.Body != cassettetest.EmojiJSONBody {
				t.Errorf("appended interaction: id %d body %q", last.ID, last.Response.Body)
			}
		})
	}
}

func TestOpenAppendVersion1Rewrite(t *testing.T) {
	path := cassettetest.TempPath(t, "old.yaml")
	orig := cassettetest.MustRead(t, "testdata/govcr_v2.yaml")
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	j, prev, err := cassette.OpenAppend(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	text := cassettetest.MustRead(t, path)
	if strings.Contains(text, "version: 1") || !strings.HasPrefix(text, "version: 2\n") {
		t.Fatalf("version 1 file was not rewritten as version 2:\n%s", text)
	}
	for i, it := range prev.Interactions {
		if it.ID != i {
			t.Errorf("interaction %d has id %d", i, it.ID)
		}
		if !strings.Contains(text, fmt.Sprintf("- id: %d\n", i)) {
			t.Errorf("rewritten file lacks id %d", i)
		}
	}
	c := cassettetest.MustLoad(t, path)
	cassettetest.SameInteractions(t, c.Interactions, prev.Interactions)
	if c.Interactions[2].Response.Body != cassettetest.ShortBinary {
		t.Errorf("binary body after rewrite = %q", c.Interactions[2].Response.Body)
	}
}

func TestOpenAppendMalformedLeavesFileAlone(t *testing.T) {
	path := cassettetest.TempPath(t, "bad.yaml")
	bad := "version: 2\ninteractions:\n- id: 0\n  response:\n    code: abc\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	j, _, err := cassette.OpenAppend(path)
	if err == nil {
		j.Close()
		t.Fatal("OpenAppend on a malformed file succeeded")
	}
	var ce *cassette.Error
	if !errors.As(err, &ce) || ce.File != path || ce.Line != 5 {
		t.Errorf("error = %v (%#v), want a *cassette.Error at %s:5", err, ce, path)
	}
	if got := cassettetest.MustRead(t, path); got != bad {
		t.Errorf("malformed file was modified:\n%s", got)
	}
}

func TestJournalConcurrentAdds(t *testing.T) {
	path := cassettetest.TempPath(t, "c.yaml")
	j, err := cassette.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	samples := cassettetest.SampleInteractions(t)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				it := cassettetest.Clone(samples[(w+k)%len(samples)])
				it.Request.URL = fmt.Sprintf("https://h.example/w%d/k%d", w, k)
				if err := j.Add(it); err != nil {
					errs <- err
					continue
				}
				// Added together with others or not, the item is in the file when Add returns.
				data, err := os.ReadFile(path)
				if err != nil {
					errs <- err
				} else if line := fmt.Sprintf("\n- id: %d\n", it.ID); !strings.Contains(string(data), line+"  request:\n") {
					errs <- fmt.Errorf("Add of id %d returned before its item was in the file", it.ID)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if j.Added() != workers*each {
		t.Errorf("Added() = %d", j.Added())
	}
	c := cassettetest.MustLoad(t, path)
	if len(c.Interactions) != workers*each {
		t.Fatalf("file holds %d interactions, want %d", len(c.Interactions), workers*each)
	}
	urls := map[string]bool{}
	for i, it := range c.Interactions {
		if it.ID != i {
			t.Errorf("interaction %d in file order has id %d", i, it.ID)
		}
		urls[it.Request.URL] = true
	}
	if len(urls) != workers*each {
		t.Errorf("%d distinct URLs, want %d", len(urls), workers*each)
	}
}
