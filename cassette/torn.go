package cassette

import (
	"bytes"
	"fmt"
)

// A journal writes each interaction with one write, but a write is not atomic against kill -9:
// when a fatal signal arrives, the kernel stops a write between two pages of the file, keeping
// what it copied so far. The file then ends part way through the interaction being added, one
// whose Add never returned, so nobody was answered with it. Loaders leave such a torn last
// interaction out (Cassette.Torn says so) instead of failing on it, or worse, reading a cut body
// as the whole one.
//
// A file is taken as torn only when all of these hold:
//   - it is in the layout azvcr writes ("version: 2" first, interactions as items at column 0,
//     the last one starting "- id: "), the only layout a journal appends to;
//   - its size is a multiple of tearAlign, where a write cut short by a signal stops;
//   - it does not end the way every interaction azvcr writes ends: with its response's
//     "duration" line and a newline.
//
// A cassette another tool wrote or a person edited loses nothing unless all three hold by chance.

// TornItem is the interaction a journal was writing when its process was killed.
type TornItem struct {
	File  string
	Line  int   // where the item starts
	Bytes int64 // of it in the file, from its start to the end of the file
}

func (t *TornItem) String() string {
	return fmt.Sprintf("%s:%d: the last interaction is cut short (%d bytes; the recording process was killed while writing it); it is left out",
		t.File, t.Line, t.Bytes)
}

// tearAlign divides every size a file cut short by a signal can have: writes stop between pages,
// and pages are 4 KiB or a multiple of it.
var tearAlign int64 = 4096 // a variable: tests cut files anywhere

// tornBlock is how much of the file's end is read at a time, looking for the last item (a
// variable: tests make it small).
var tornBlock int64 = 64 << 10

// lastLineOfItem is how every interaction azvcr writes ends: its response's duration.
var lastLineOfItem = []byte("\n" + "    duration: ")

// findTorn looks at the end of the file in src: keep is how many bytes to read (all of them
// unless the last item is torn, when t describes it).
func findTorn(name string, src source) (keep int64, t *TornItem, err error) {
	n := src.size()
	if n == 0 || n%tearAlign != 0 {
		return n, nil, nil
	}
	var buf []byte
	head, err := src.read(0, int(min(n, int64(len(azvcrStart)))), &buf)
	if err != nil || !bytes.Equal(head, []byte(azvcrStart)) {
		return n, nil, err
	}
	start, ok, err := lastItemStart(src)
	if err != nil || !ok {
		return n, nil, err
	}
	first, err := src.read(start, int(min(n-start, int64(len(itemStart)))), &buf)
	if err != nil || !bytes.HasPrefix([]byte(itemStart), first) {
		return n, nil, err // not azvcr's layout (a prefix: the tear is inside the item's first line)
	}
	if whole, err := endsWithDuration(src, start); err != nil || whole {
		return n, nil, err
	}
	line, err := lineAt(src, start)
	if err != nil {
		return n, nil, err
	}
	return start, &TornItem{File: name, Line: line, Bytes: n - start}, nil
}

// itemStart is how every interaction azvcr writes starts.
const itemStart = "- id: "

// azvcrStart is how a cassette azvcr writes starts (the header, or variables after the version).
const azvcrStart = "version: 2\n"

// lastItemStart finds where the file's last line that starts with "-" begins (ok false when there
// is none; the line may be the start of an item cut short): reading back from the end a block at
// a time.
func lastItemStart(src source) (int64, bool, error) {
	var buf []byte
	for end := src.size(); ; {
		from := max(0, end-tornBlock)
		b, err := src.read(from, int(end-from), &buf)
		if err != nil {
			return 0, false, err
		}
		if j := bytes.LastIndex(b, []byte("\n-")); j >= 0 {
			return from + int64(j) + 1, true, nil
		}
		if from == 0 {
			return 0, bytes.HasPrefix(b, []byte("-")), nil
		}
		end = from + 1 // "\n-" may straddle the block's start
	}
}

// endsWithDuration says whether the item at start ends as every item azvcr writes does: with its
// response's duration line and a newline.
func endsWithDuration(src source, start int64) (bool, error) {
	n := src.size()
	from := max(start, n-int64(len(lastLineOfItem))-64)
	var buf []byte
	b, err := src.read(from, int(n-from), &buf)
	if err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
		return false, err
	}
	b = b[:len(b)-1] // the final newline
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		return false, nil // a duration line longer than 64 bytes is not one azvcr wrote
	}
	return bytes.HasPrefix(b[i:], lastLineOfItem), nil
}

// lineAt is the line number of offset off (which starts a line).
func lineAt(src source, off int64) (int, error) {
	var buf []byte
	line := 1
	for at := int64(0); at < off; {
		b, err := src.read(at, int(min(off-at, tornBlock)), &buf)
		if err != nil {
			return 0, err
		}
		line += bytes.Count(b, []byte{'\n'})
		at += int64(len(b))
	}
	return line, nil
}
