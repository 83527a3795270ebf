package redact

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/secrets"
)

// TestFindMemoIsFindValue holds the remembered findings to secrets.FindValue, the first time a
// value is seen and after, and checks the memory stays bounded.
func TestFindMemoIsFindValue(t *testing.T) {
	key := strings.Repeat("Ab3+", 22) + "==" // the shape of a Cosmos key
	cases := []struct{ name, value string }{
		{"", "2018-12-31"},
		{"x-ms-version", "2020-07-15"},
		{"", "SELECT * FROM c WHERE c.id = @id"},
		{"", "AccountKey=" + key},
		{"masterKey", key},
		{"password", "hunter2-but-longer-0123456789"},
		{"client_secret", "abc~DEF0123456789.ghij-klmnopqrst"},
		{"", strings.Repeat("x", maxMemoValue+1) + key}, // too long to remember
	}
	var m findMemo
	for round := range 2 {
		for _, c := range cases {
			got, want := m.find(c.name, c.value), secrets.FindValue(c.name, c.value)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round %d: find(%q, %.40q) = %v, want %v", round, c.name, c.value, got, want)
			}
		}
	}
	if _, ok := m.m[findKey{"masterKey", key}]; !ok {
		t.Error("a short value was not remembered")
	}
	for i := range maxMemoValues + 10 {
		m.find("", fmt.Sprint("value-", i))
	}
	if n := len(m.m); n > maxMemoValues {
		t.Errorf("memo holds %d values, more than %d", n, maxMemoValues)
	}
}
