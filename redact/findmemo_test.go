package redact

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/azvcr/azvcr/secrets"
)

// TestSlotMemoIsTheFunction holds the remembered answers to the functions themselves, the first
// time a value is seen, after, and after other values took its slot; and checks that a short
// value is remembered and that a remembered copy keeps no larger string alive.
func TestSlotMemoIsTheFunction(t *testing.T) {
	key := strings.Repeat("Ab3+", 22) + "==" // the shape of a Cosmos key
	cases := []struct{ name, value string }{
		{"", "2018-12-31"},
		{"x-ms-version", "2020-07-15"},
		{"", "SELECT * FROM c WHERE c.id = @id"},
		{"", "AccountKey=" + key},
		{"masterKey", key},
		{"password", "hunter2-but-longer-0123456789"},
		{"client_secret", "abc~DEF0123456789.ghij-klmnopqrst"},
		{"", ""},
		{"", strings.Repeat("x", maxMemoValue+1) + key}, // too long to remember
	}
	find := newSlotMemo(8, secrets.FindValue)
	names := newSlotMemo(8, func(name, _ string) bool { return secrets.SecretName(name) })
	for round := range 3 {
		for _, c := range cases {
			if got, want := find.get(c.name, c.value), secrets.FindValue(c.name, c.value); !reflect.DeepEqual(got, want) {
				t.Errorf("round %d: find(%q, %.40q) = %v, want %v", round, c.name, c.value, got, want)
			}
			if got, want := names.get(c.name, ""), secrets.SecretName(c.name); got != want {
				t.Errorf("round %d: SecretName(%q) = %v, want %v", round, c.name, got, want)
			}
		}
		for i := range 100 { // take the slots over
			find.get("", fmt.Sprint("value-", i))
		}
	}

	calls := 0
	counted := newSlotMemo(64, func(a, b string) int { calls++; return len(a) + len(b) })
	body := `{"id":"` + strings.Repeat("z", 100) + `"}`
	id := body[7 : 7+100] // a value cut from a body, as JSON strings are
	for range 3 {
		if got := counted.get("id", id); got != 102 {
			t.Fatalf("get = %d, want 102", got)
		}
	}
	if calls != 1 {
		t.Errorf("a short value was computed %d times, want once", calls)
	}
	for i := range counted.slots {
		if e := counted.slots[i].Load(); e != nil && strings.Contains(body, e.b) && unsafeSameMemory(body, e.b) {
			t.Error("a remembered value shares memory with the body it was cut from")
		}
	}
	long := strings.Repeat("y", maxMemoValue+1)
	counted.get("", long)
	counted.get("", long)
	if calls != 3 {
		t.Errorf("a long value was remembered (calls %d, want 3)", calls)
	}
}

// TestSlotMemoConcurrent reads and writes one small table from many goroutines (run with -race).
func TestSlotMemoConcurrent(t *testing.T) {
	m := newSlotMemo(4, func(a, b string) string { return a + "|" + b })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				a, b := fmt.Sprint(g), fmt.Sprint(i%37)
				if got := m.get(a, b); got != a+"|"+b {
					t.Errorf("get(%q, %q) = %q", a, b, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func unsafeSameMemory(whole, part string) bool {
	if len(part) == 0 {
		return false
	}
	p, w := unsafe.StringData(part), unsafe.StringData(whole)
	return uintptr(unsafe.Pointer(p)) >= uintptr(unsafe.Pointer(w)) && uintptr(unsafe.Pointer(p)) < uintptr(unsafe.Pointer(w))+uintptr(len(whole))
}
