//go:build benchprof

package main

// Built only with -tags benchprof, by the benchmark harness (internal/benchrun) when it profiles:
// net/http/pprof on the address in AZVCR_PPROF, so CPU and allocation profiles can be taken from
// the running proxy under load. The azvcr binary users run has no such listener.

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("AZVCR_PPROF"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
