package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/azvcr/azvcr/cassette"
)

// recordVsPassthrough: recording through the forward proxy against forwarding alone, both to the
// floor, at 16 connections and at one; then a kill -9 in the middle of recording, after which
// every answer a client received must be in the cassette.
func (h *harness) recordVsPassthrough() error {
	upstream := []string{"--resolve", cosmosHost + "=" + h.floorAddr, "--upstream-ca", h.pki.caFile}
	path := filepath.Join(h.work, "recorded.yaml")
	rec, viaRec, err := h.startProxy("record", "record", append([]string{"--cassette", path}, upstream...)...)
	if err != nil {
		return err
	}
	defer rec.stop()
	pass, viaPass, err := h.startProxy("passthrough", "passthrough", upstream...)
	if err != nil {
		return err
	}
	defer pass.stop()
	src := cycle(cosmosRequests(100_000, 4096))

	answered := 0 // answers the recording proxy gave, each of which must be on disk
	const conns = 16
	p, r, err := h.compare(side{"passthrough, 16 connections", viaPass, src, []*proc{pass, h.floor}}, side{"record, 16 connections", viaRec, src, []*proc{rec, h.floor}},
		conns, warmUp, window)
	answered += r.total
	if err != nil {
		return err
	}
	ratio := r.rate() / p.rate()
	h.add(row{measure: "record throughput ÷ passthrough, 16 connections", floor: rate(p.rate()), azvcr: rate(r.rate()),
		ratio: times(ratio), target: "≥ 0.5×", checked: true, ok: ratio >= 0.5,
		note: "the floor column is azvcr passthrough to the floor; server side is azvcr and the floor: " + p.note("passthrough") + "; " + r.note("record")})

	p1, r1, err := h.compare(side{"passthrough, 1 connection", viaPass, src, []*proc{pass, h.floor}}, side{"record, 1 connection", viaRec, src, []*proc{rec, h.floor}},
		1, warmUp, latency)
	answered += r1.total
	if err != nil {
		return err
	}
	added := r1.percentile(0.5) - p1.percentile(0.5)
	h.add(row{measure: "p50 added by record over passthrough, 1 connection", floor: dur(p1.percentile(0.5)), azvcr: dur(r1.percentile(0.5)),
		ratio: signed(added), target: "≤ +1 ms", checked: true, ok: added <= time.Millisecond,
		note: fmt.Sprintf("p99 passthrough %s, record %s", dur(p1.percentile(0.99)), dur(r1.percentile(0.99)))})

	// kill -9 while 16 connections record: the run ends with the connections' errors.
	go func() {
		time.Sleep(1500 * time.Millisecond)
		rec.kill()
	}()
	k, _ := drive(viaRec, conns, src, 0, 0, nil)
	answered += k.total
	c, err := cassette.Load(path)
	if err != nil {
		h.add(row{measure: "kill -9 while recording: every answered interaction on disk", azvcr: "unreadable", checked: true, note: err.Error()})
		return nil
	}
	onDisk := len(c.Interactions)
	h.add(row{measure: "kill -9 while recording: every answered interaction on disk", azvcr: fmt.Sprintf("%s of %s", thousands(int64(onDisk)), thousands(int64(answered))),
		target: "all", checked: true, ok: onDisk >= answered,
		note: fmt.Sprintf("%d answers received by clients before the kill, %d interactions in the cassette after it%s", answered, onDisk, tornNote(c))})
	return nil
}

// tornNote says whether the kill cut the interaction being written (which loaders leave out).
func tornNote(c *cassette.Cassette) string {
	if c.Torn == nil {
		return ""
	}
	return fmt.Sprintf("; the kill cut the interaction being written (%d bytes), left out", c.Torn.Bytes)
}
