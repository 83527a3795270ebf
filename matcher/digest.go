package matcher

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"sync/atomic"
)

// jsonDigests counts JSON texts digested (read without a tree).
var jsonDigests atomic.Int64

// jsonDigest is the digest of a JSON text's canonical value: equal for documents equal by
// value (member order, spacing, escapes and number spelling aside), different otherwise. It is
// computed as the text is read, with one buffer for the content of the containers still open
// and a few bytes per open container, so memory stays within a small multiple of the text and
// time linear in it at any depth. ok is false when s is not JSON.
func jsonDigest(s string) ([16]byte, bool) {
	jsonDigests.Add(1)
	d := newDigester(s)
	if !scanJSON(s, d) {
		return [16]byte{}, false
	}
	return sum16(d.content), true
}

func newDigester(s string) *digester { return &digester{content: make([]byte, 0, len(s)+16)} }

// held is the memory the digester's buffers hold: what reading a text costs at its peak.
func (d *digester) held() int {
	return cap(d.content) + cap(d.sorted) + 12*cap(d.frames) + 4*cap(d.members)
}

// A value's representation, written into its container's content: a tag, then for a scalar its
// length and text; for an array or object its content inline when short, else the content's
// SHA-256 (the tag in upper case). An object's content is its members in name order, each the
// name's length, the name and the value's representation.
const (
	tagNull   = 'z'
	tagBool   = 'b'
	tagNumber = 'n'
	tagString = 's'
	inlineMax = 64 // containers with content up to this size are written whole, not hashed
)

type digester struct {
	content []byte        // the open containers' content, outermost first; the root's at the end
	frames  []digestFrame // the open containers
	members []int32       // where each member of the open objects starts in content
	sorted  []byte        // scratch for sorting an object's members
}

type digestFrame struct { // 12 bytes: deep nesting costs a few bytes a level
	object  bool
	start   int32 // of the container's content
	members int32 // of its first member in members
}

func (d *digester) open(kind jsonKind) {
	d.frames = append(d.frames, digestFrame{object: kind == jObject, start: int32(len(d.content)), members: int32(len(d.members))})
}

func (d *digester) key(name string) {
	d.members = append(d.members, int32(len(d.content)))
	d.content = binary.AppendUvarint(d.content, uint64(len(name)))
	d.content = append(d.content, name...)
}

func (d *digester) scalar(kind jsonKind, text string) {
	switch kind {
	case jNull:
		d.content = append(d.content, tagNull, 0)
	case jBool:
		d.content = appendRepr(d.content, tagBool, text)
	case jNumber: // text is the literal: written canonical in place
		d.content = append(d.content, tagNumber)
		lenAt := len(d.content)
		d.content = append(d.content, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) // room for the length
		d.content = appendCanonicalNumber(d.content, text)
		d.content = fixLength(d.content, lenAt, len(d.content)-lenAt-10)
	default:
		d.content = appendRepr(d.content, tagString, text)
	}
}

func appendRepr(b []byte, tag byte, body string) []byte {
	b = append(b, tag)
	b = binary.AppendUvarint(b, uint64(len(body)))
	return append(b, body...)
}

func appendReprBytes(b []byte, tag byte, body []byte) []byte {
	b = append(b, tag)
	b = binary.AppendUvarint(b, uint64(len(body)))
	return append(b, body...)
}

// fixLength writes n as a uvarint at b[at:] in the 10 bytes reserved there and closes the gap.
func fixLength(b []byte, at, n int) []byte {
	var v [binary.MaxVarintLen64]byte
	w := binary.PutUvarint(v[:], uint64(n))
	copy(b[at:], v[:w])
	return append(b[:at+w], b[at+10:]...)
}

func (d *digester) close() {
	f := d.frames[len(d.frames)-1]
	d.frames = d.frames[:len(d.frames)-1]
	tag := byte('a')
	body := d.content[f.start:]
	if f.object {
		tag = 'o'
		body = d.sortMembers(f)
		d.members = d.members[:f.members]
	}
	var buf [inlineMax + 2*binary.MaxVarintLen64]byte
	var repr []byte
	if len(body) > inlineMax {
		sum := sha256.Sum256(body)
		repr = appendReprBytes(buf[:0], tag-('a'-'A'), sum[:])
	} else {
		repr = appendReprBytes(buf[:0], tag, body) // copied out before content is cut back
	}
	d.content = append(d.content[:f.start], repr...)
}

// sortMembers is an object's content with its members in name order, a repeated name keeping
// its last value (as encoding/json decodes it).
func (d *digester) sortMembers(f digestFrame) []byte {
	starts := d.members[f.members:]
	if len(starts) < 2 {
		return d.content[f.start:]
	}
	member := func(i int) []byte {
		end := int32(len(d.content))
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		return d.content[starts[i]:end]
	}
	name := func(m []byte) []byte {
		n, w := binary.Uvarint(m)
		return m[w : w+int(n)]
	}
	order := make([]int, len(starts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return bytes.Compare(name(member(order[a])), name(member(order[b]))) < 0 })
	d.sorted = d.sorted[:0]
	for n, i := range order {
		if n+1 < len(order) && bytes.Equal(name(member(order[n+1])), name(member(i))) {
			continue
		}
		d.sorted = append(d.sorted, member(i)...)
	}
	return d.sorted
}

func sum16(b []byte) [16]byte {
	s := sha256.Sum256(b)
	var out [16]byte
	copy(out[:], s[:])
	return out
}
