package redact

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"

	"github.com/azvcr/azvcr/secrets"
)

// What the secret detectors make of a short value, and whether a name is a secret's name, are
// remembered: clients send the same values and names again and again (API versions, user
// agents, the text of each query, ids, JSON keys), and looking for every shape of secret in them
// is most of what redacting a live request costs. Both functions depend on nothing but their
// arguments, so a remembered answer is the answer.
var (
	findings    = newSlotMemo(4096, secrets.FindValue)
	secretNames = newSlotMemo(1024, func(name, _ string) bool { return secrets.SecretName(name) })
)

// A value is remembered only when it is this short: a long one is rarely sent twice, and the
// table's memory stays bounded (slots × 2 × maxMemoValue at most).
const maxMemoValue = 1 << 10

// slotMemo remembers f(a, b) in a fixed table: each pair hashes to one slot, and a new pair
// takes the slot over. Unlike a map it never grows, never needs clearing, and is read without a
// lock, so remembering costs little even when most values are new (a recording's answers).
type slotMemo[V any] struct {
	f     func(a, b string) V
	seed  maphash.Seed
	slots []atomic.Pointer[slotEntry[V]]
}

type slotEntry[V any] struct {
	a, b string // copies: a slot must not keep a whole body alive
	v    V
}

func newSlotMemo[V any](slots int, f func(a, b string) V) *slotMemo[V] {
	if slots&(slots-1) != 0 {
		panic("slotMemo: slots must be a power of two")
	}
	return &slotMemo[V]{f: f, seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[slotEntry[V]], slots)}
}

// get is f(a, b), remembered when both are short. A result must not be changed: it is shared.
func (m *slotMemo[V]) get(a, b string) V {
	if len(a) > maxMemoValue || len(b) > maxMemoValue {
		return m.f(a, b)
	}
	h := maphash.String(m.seed, a) ^ bits.RotateLeft64(maphash.String(m.seed, b), 29)
	slot := &m.slots[h&uint64(len(m.slots)-1)]
	if e := slot.Load(); e != nil && e.a == a && e.b == b {
		return e.v
	}
	v := m.f(a, b)
	both := a + b // one allocation for the two copies
	slot.Store(&slotEntry[V]{a: both[:len(a)], b: both[len(a):], v: v})
	return v
}

// findValue is secrets.FindValue(name, value), remembered.
func findValue(name, value string) []secrets.Match { return findings.get(name, value) }

// isSecretName is secrets.SecretName(name), remembered.
func isSecretName(name string) bool { return secretNames.get(name, "") }
