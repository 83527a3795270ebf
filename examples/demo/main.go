// Command demo replays the shipped Cosmos DB cassette through the azvcr binary to the real azcosmos
// client: no network, no credentials. It starts `azvcr replay` the way a user would, reads the
// HTTPS_PROXY and CA lines it prints, and runs the same workload that was recorded.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/fixtures/cosmosflow"
)

func main() {
	bin := flag.String("azvcr", "bin/azvcr", "azvcr binary")
	cassettePath := flag.String("cassette", "fixtures/cassettes/cosmos-e2e.yaml", "cassette to replay")
	flag.Parse()
	if err := run(*bin, *cassettePath); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(bin, cassettePath string) error {
	c, err := cassette.Load(cassettePath)
	if err != nil {
		return err
	}
	endpoint, err := cosmosflow.Endpoint(c)
	if err != nil {
		return err
	}
	caDir, err := os.MkdirTemp("", "azvcr-demo-ca-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(caDir)

	fmt.Printf("$ %s replay --cassette %s --listen 127.0.0.1:0\n", bin, cassettePath)
	cmd := exec.Command(bin, "replay", "--cassette", cassettePath, "--listen", "127.0.0.1:0", "--ca-dir", caDir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	env := map[string]string{}
	sc := bufio.NewScanner(out)
	for len(env) < 2 && sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && (k == "HTTPS_PROXY" || k == "AZVCR_CA_CERT") {
			env[k] = v
			fmt.Println("  " + sc.Text())
		}
	}
	if len(env) < 2 {
		return fmt.Errorf("azvcr did not print HTTPS_PROXY and AZVCR_CA_CERT")
	}
	ready := time.Since(start)

	client, err := proxiedClient(env["HTTPS_PROXY"], env["AZVCR_CA_CERT"])
	if err != nil {
		return err
	}
	cosmos, err := cosmosflow.NewClient(endpoint, client)
	if err != nil {
		return err
	}
	fmt.Printf("\nazcosmos client for %s (recorded upstream; not running now), key = emulator key\n\n", endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	flowStart := time.Now()
	res, err := cosmosflow.Run(ctx, cosmos)
	if err != nil {
		return err
	}
	took := time.Since(flowStart)
	for _, line := range res.Log {
		fmt.Println("  " + line)
	}
	fmt.Println()
	for i, p := range res.Pages {
		fmt.Printf("  page %d: %s\n", i+1, strings.Join(p.IDs, " "))
	}
	fmt.Printf("\n%d requests answered from the cassette in %s (azvcr ready in %s)\n\n", len(c.Interactions), took.Round(time.Millisecond), ready.Round(time.Millisecond))

	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("azvcr: %w", err)
	}
	return nil
}

func proxiedClient(proxyURL, caFile string) (*http.Client, error) {
	u, err := url.Parse(proxyURL)
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: &tls.Config{RootCAs: pool}}}, nil
}
