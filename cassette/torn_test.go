package cassette

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loaders are every way a cassette file is read, each returning the cassette (or an error).
var loaders = []struct {
	name string
	load func(t *testing.T, path string, data []byte) (*Cassette, error)
}{
	{"Load", func(t *testing.T, path string, _ []byte) (*Cassette, error) { return Load(path) }},
	{"Parse", func(t *testing.T, path string, data []byte) (*Cassette, error) { return Parse(path, data) }},
	{"LoadForReplay", func(t *testing.T, path string, _ []byte) (*Cassette, error) {
		c, closer, err := LoadForReplay(path, []string{"Accept"})
		if err != nil {
			return nil, err
		}
		defer closer.Close()
		for i, it := range c.Interactions { // read whole, to compare with Load's
			if c.Interactions[i], err = it.Full(); err != nil {
				return nil, err
			}
		}
		return c, nil
	}},
}

// journalled writes items with a journal, as a recording does, and returns the file's bytes; with
// slow, the file carries a comment the fast reader leaves to the YAML library.
func journalled(t *testing.T, path string, items []*Interaction, slow bool) []byte {
	t.Helper()
	j, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := j.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if slow {
		data = bytes.Replace(data, []byte("interactions:\n"), []byte("# kept by hand\ninteractions:\n"), 1)
	}
	return data
}

// A file cut anywhere inside its last interaction, as a killed write leaves it, loads by every
// loader and through both readers with that interaction left out and said so, and the others whole.
func TestTornLastItemIsLeftOut(t *testing.T) {
	defer func(a, b int64) { tearAlign, tornBlock = a, b }(tearAlign, tornBlock)
	tearAlign = 1 // cut at every byte, not only between pages
	r := rand.New(rand.NewPCG(13, 14))
	items := []*Interaction{recordingLike(r, 0), recordingLike(r, 1), recordingLike(r, 2)}
	items[2].Response.Body = strings.Repeat(`{"id":"doc","value":"some text"}`+"\n", 20) // many lines
	items[2].Response.Duration = "1.5s"
	dir := t.TempDir()
	for _, slow := range []bool{false, true} {
		tornBlock = map[bool]int64{false: 64 << 10, true: 7}[slow] // and the end read in small blocks
		data := journalled(t, filepath.Join(dir, "j.yaml"), items, slow)
		if _, err := fastRead(memSource(data)); (err == errSlowPath) != slow {
			t.Fatalf("slow %v: the fast reader says %v", slow, err)
		}
		whole, err := Parse("whole", data)
		if err != nil || len(whole.Interactions) != 3 || whole.Torn != nil {
			t.Fatalf("slow %v: the whole file: %v, torn %v", slow, err, whole.Torn)
		}
		start := bytes.LastIndex(data, []byte("\n- id: 2\n")) + 1
		line := 1 + bytes.Count(data[:start], []byte("\n"))
		path := filepath.Join(dir, "cut.yaml")
		// Every cut at or next to a line's end, near the item's ends, and a stride between.
		var cuts []int
		for cut := start; cut <= len(data); cut++ {
			if cut-start < 40 || len(data)-cut < 40 || (cut-start)%17 == 0 || data[cut-1] == '\n' || cut < len(data) && data[cut] == '\n' {
				cuts = append(cuts, cut)
			}
		}
		for _, cut := range cuts {
			if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			for _, l := range loaders {
				c, err := l.load(t, path, data[:cut])
				if err != nil {
					t.Fatalf("slow %v, %s, cut at %d of %d: %v\n%s", slow, l.name, cut-start, len(data)-start, err, data[start:cut])
				}
				want, wantTorn := whole.Interactions[:2], &TornItem{File: path, Line: line, Bytes: int64(cut - start)}
				switch cut {
				case start:
					wantTorn = nil // nothing of the third was written
				case len(data):
					want, wantTorn = whole.Interactions, nil
				}
				if !reflect.DeepEqual(c.Interactions, want) {
					t.Fatalf("slow %v, %s, cut at %d of %d: %d interactions, or not the ones written", slow, l.name, cut-start, len(data)-start, len(c.Interactions))
				}
				if !reflect.DeepEqual(c.Torn, wantTorn) {
					t.Fatalf("slow %v, %s, cut at %d of %d: torn %v, want %v", slow, l.name, cut-start, len(data)-start, c.Torn, wantTorn)
				}
			}
		}
	}
}

// Only a file of the size a cut write leaves, in azvcr's layout and not ending as azvcr ends an
// interaction, is taken as torn: a whole cassette of that size, and other tools' files, are not.
func TestOnlyACutFileIsTakenAsTorn(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	items := []*Interaction{recordingLike(r, 0), recordingLike(r, 1)}
	items[0].Response.Body = "x"
	items[1].Response.Body = strings.Repeat("a line of the body\n", 400) // spans pages
	data := journalled(t, filepath.Join(t.TempDir(), "j.yaml"), items, false)
	// pageSized pads the first response's body so that the file fills whole pages.
	pageSized := func(b []byte) []byte {
		n := int(tearAlign - int64(len(b))%tearAlign)
		return bytes.Replace(b, []byte("\n    body: x\n"), []byte("\n    body: x"+strings.Repeat("y", n)+"\n"), 1)
	}
	whole := pageSized(data)
	start := bytes.LastIndex(whole, []byte("\n- id: 1\n")) + 1
	atPage := (start/int(tearAlign) + 1) * int(tearAlign)
	items0 := bytes.Index(whole, []byte("\n- id: 0\n")) + 1
	indented := append([]byte{}, whole[:items0]...) // another tool's layout: items indented
	for _, line := range bytes.SplitAfter(whole[items0:], []byte("\n")) {
		if len(line) > 0 {
			indented = append(append(indented, "    "...), line...)
		}
	}
	versionLast := append(append([]byte{}, whole[len(azvcrStart):]...), azvcrStart...)
	noDuration := pageSized(bytes.Replace(data, []byte("\n    duration: 12.5ms\n"), []byte("\n"), 2))
	for _, tc := range []struct {
		name string
		data []byte
		torn bool
	}{
		{"whole, page sized", whole, false},
		{"cut at a page", whole[:atPage], true},
		{"cut off a page", whole[:atPage+1], false},
		{"cut at a page, items indented", indented[:len(indented)/int(tearAlign)*int(tearAlign)], false},
		{"cut at a page, version last", versionLast[:atPage-len(azvcrStart)], false},
		{"page sized, ends without its duration", noDuration, true},
	} {
		if len(tc.data)%int(tearAlign) != 0 && tc.torn {
			t.Fatalf("%s: %d bytes, not page sized", tc.name, len(tc.data))
		}
		keep, torn, err := findTorn("f", memSource(tc.data))
		if err != nil || (torn != nil) != tc.torn || torn == nil && keep != int64(len(tc.data)) {
			t.Errorf("%s: keep %d of %d, torn %v, err %v; want torn %v", tc.name, keep, len(tc.data), torn, err, tc.torn)
		}
		if torn != nil && keep != int64(bytes.LastIndex(tc.data, []byte("\n- id: "))+1) {
			t.Errorf("%s: keep %d, not up to the last item", tc.name, keep)
		}
	}
	if len(whole)%int(tearAlign) != 0 || atPage >= len(whole) {
		t.Fatalf("the file is %d bytes, its last item starts at %d: not the case meant", len(whole), start)
	}
}

// TestMain lets the test binary be the recording process the tests kill (see killedWriter).
func TestMain(m *testing.M) {
	if path := os.Getenv("AZVCR_TEST_JOURNAL_WRITER"); path != "" {
		killedWriter(path)
		return
	}
	os.Exit(m.Run())
}

// bigBody is the response body killedWriter records: several megabytes, so each write spans
// hundreds of pages and a kill lands in one often.
var bigBody = strings.Repeat(`{"id":"item","text":"a line of a large query page"}`+"\n", 40_000)

// killedWriter journals large interactions to path until killed, saying "added N" on stdout as
// each Add returns and "writing" as each starts to write.
func killedWriter(path string) {
	j, err := Create(path)
	if err != nil {
		panic(err)
	}
	beforeWrite = func() { os.Stdout.WriteString("writing\n") }
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; ; i++ {
		it := recordingLike(r, i)
		it.Response.Body = bigBody
		if err := j.Add(it); err != nil {
			panic(err)
		}
		os.Stdout.WriteString("added " + strconv.Itoa(it.ID) + "\n")
	}
}

// A recording process killed with SIGKILL while it writes leaves a cassette that loads with every
// interaction whose Add returned, whole; when the kill cut a write, that interaction is left out
// and said so. The test kills until it has seen a cut write at least once.
func TestKilledJournalLoads(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	tears, kills := 0, 0
	for ; kills < 150 && (tears < 1 || kills < 5); kills++ {
		path := filepath.Join(t.TempDir(), "killed.yaml")
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), "AZVCR_TEST_JOURNAL_WRITER="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		added := 0
		for lines.Scan() {
			if lines.Text() != "writing" {
				added++
			} else if added >= 2 {
				break // kill it while it writes, at once or a moment later
			}
		}
		if n := r.IntN(3); n > 0 {
			time.Sleep(time.Duration(n) * 200 * time.Microsecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		for lines.Scan() { // what it said before it died
			if lines.Text() != "writing" {
				added++
			}
		}
		cmd.Wait()
		if added < 2 {
			t.Fatalf("the writer added %d interactions before it was killed", added)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatalf("kill %d: the cassette does not load: %v", kills, err)
		}
		light, closer, err := LoadForReplay(path, nil)
		if err != nil {
			t.Fatalf("kill %d: LoadForReplay: %v", kills, err)
		}
		closer.Close()
		if len(c.Interactions) < added || len(light.Interactions) != len(c.Interactions) || !reflect.DeepEqual(light.Torn, c.Torn) {
			t.Fatalf("kill %d: %d interactions added, %d loaded (%d light); torn %v, light %v", kills, added, len(c.Interactions), len(light.Interactions), c.Torn, light.Torn)
		}
		for i, it := range c.Interactions {
			if it.ID != i || it.Response.Body != bigBody {
				t.Fatalf("kill %d: interaction %d (id %d) is not whole: %d bytes of body", kills, i, it.ID, len(it.Response.Body))
			}
		}
		if c.Torn != nil {
			tears++
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size()%tearAlign != 0 {
				t.Errorf("kill %d: a cut write left %d bytes, not whole pages", kills, st.Size())
			}
		}
	}
	t.Logf("%d kills, %d of them cut a write", kills, tears)
	if tears == 0 {
		t.Fatalf("no kill in %d cut a write: the test saw nothing it is meant to check", kills)
	}
}
