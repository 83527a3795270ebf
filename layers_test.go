package azvcr_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/azvcr/azvcr"

// floors lists azvcr's packages from the top down. A package imports only packages on the floors
// below its own. A new package gets a floor here, and a line in docs/architecture.md.
var floors = [][]string{
	{"cmd/azvcr"},
	{"forwardproxy", "testproxy", "recorder"},
	{"engine"},
	{"matcher", "redact", "testproxyjson", "upstream", "certs", "assets"},
	{"cassette", "secrets", "internal/hostport"},
	{"wire", "internal/cores", "internal/jsonlex", "internal/litset"},
}

// infrastructure is what tests, fixtures and examples use; no floor may import it.
var infrastructure = []string{"e2e", "examples/", "fixtures/", "internal/cassettetest", "internal/cputime", "internal/httpcheck", "internal/gitleaks", "internal/benchrun"}

func TestImportsGoDownTheFloors(t *testing.T) {
	floorOf := map[string]int{}
	for i, f := range floors {
		for _, p := range f {
			floorOf[module+"/"+p] = i
		}
	}
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		floor, placed := floorOf[p.ImportPath]
		if !placed {
			if rel != "" && !isInfrastructure(rel) {
				t.Errorf("package %s has no floor: add it to floors in layers_test.go and to docs/architecture.md", rel)
			}
			continue
		}
		seen++
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			irel := strings.TrimPrefix(imp, module+"/")
			if isInfrastructure(irel) {
				t.Errorf("%s imports test infrastructure %s", rel, irel)
				continue
			}
			if f, ok := floorOf[imp]; !ok || f <= floor {
				t.Errorf("%s (floor %d) imports %s (floor %d): imports must go down the floors", rel, floor, irel, f)
			}
		}
	}
	if seen != len(floorOf) {
		t.Errorf("go list found %d of the %d packages the floors name", seen, len(floorOf))
	}
}

func isInfrastructure(rel string) bool {
	for _, p := range infrastructure {
		if rel == p || strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p) {
			return true
		}
	}
	return false
}
