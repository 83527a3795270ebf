// Package cputime is the process's CPU time, for benchmarks on a shared machine, where it varies
// less than the elapsed time. Test infrastructure: no floor imports it.
package cputime

import (
	"syscall"
	"testing"
	"time"
)

// Now is the CPU time the process has used so far (user and system, every goroutine).
func Now() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Report starts counting b's CPU time; the func it returns reports it per operation, as
// cpu-ns/op.
func Report(b *testing.B) func() {
	before := Now()
	return func() { b.ReportMetric(float64((Now()-before).Nanoseconds())/float64(b.N), "cpu-ns/op") }
}
