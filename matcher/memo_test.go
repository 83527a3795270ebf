package matcher

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func (m *bodyMemo) forget() {
	m.mu.Lock()
	m.m = nil
	m.mu.Unlock()
}

// A remembered body reads as readBody reads it, the first time and after, also once the memo
// has started afresh.
func TestBodyMemoReadsAsReadBody(t *testing.T) {
	bodies := []string{"", "  ", `{"query":"SELECT * FROM c WHERE c.id = @id","parameters":[{"name":"@id","value":"a"}]}`,
		`{"query":"select *   from c"}`, `{"id":"doc","n":1}`, `{"n":1, "id":"doc"}`, "not json", `[1,2]`,
		strings.Repeat("x", maxMemoBody+1)}
	var m bodyMemo
	for round := range 3 {
		for i := range 2*maxMemoBodies + 10 { // more than the memo holds
			raw := bodies[i/2%len(bodies)]
			if i%2 == 1 {
				raw = fmt.Sprintf(`{"query":"SELECT * FROM c","n":%d}`, i)
			}
			for _, query := range []bool{false, true} {
				wantB, wantSQL := readBody(raw, query)
				gotB, gotSQL := m.read(raw, query)
				if !reflect.DeepEqual(gotB, wantB) || !reflect.DeepEqual(gotSQL, wantSQL) {
					t.Fatalf("round %d: read(%.40q, %v) = %+v %+v, want %+v %+v", round, raw, query, gotB, gotSQL, wantB, wantSQL)
				}
			}
		}
	}
}
