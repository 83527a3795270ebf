package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkStartToReady times `azvcr replay` on the shipped cassette from exec until it prints
// HTTPS_PROXY (cassette loaded and indexed, CA loaded, listening). Baseline: BenchmarkStartTrue,
// the cost of starting any process here.
func BenchmarkStartToReady(b *testing.B) {
	caDir := b.TempDir()
	cas := filepath.Join("..", "..", "fixtures", "cassettes", "cosmos-e2e.yaml")
	for b.Loop() {
		cmd := exec.Command(azvcrBin, "replay", "--cassette", cas, "--listen", "127.0.0.1:0", "--ca-dir", caDir)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		ready := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "HTTPS_PROXY=") {
				ready = true
				break
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		if !ready {
			b.Fatal("azvcr never became ready")
		}
	}
}

func BenchmarkStartTrue(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
