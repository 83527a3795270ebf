package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// row is one line of the table. A row without a target is context (a rate, a cost) and neither
// passes nor falls short.
type row struct {
	measure string
	floor   string // the baseline measured in the same run, or ""
	azvcr   string
	ratio   string // azvcr over the floor, or the derived figure the target is about
	target  string
	checked bool // has a target
	ok      bool
	note    string
}

func (h *harness) add(r row) {
	h.rows = append(h.rows, r)
	mark := "info"
	if r.checked {
		mark = map[bool]string{true: "PASS", false: "SHORT"}[r.ok]
	}
	fmt.Fprintf(h.progress, "bench: %-62s %s  %s  %s  %s %s\n", r.measure, dash(r.floor), dash(r.azvcr), dash(r.ratio), dash(r.target), mark)
}

// fail records a measure that could not be taken: it counts as short.
func (h *harness) fail(measure string, err error) {
	h.add(row{measure: measure, azvcr: "error", checked: true, note: err.Error()})
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// print writes the table and its notes; it returns how many targets fall short.
func printTable(w io.Writer, rows []row) int {
	head := []string{"measure", "floor", "azvcr", "ratio", "target", "result"}
	cells := [][]string{head}
	short := 0
	for _, r := range rows {
		mark := ""
		if r.checked {
			mark = "PASS"
			if !r.ok {
				mark = "SHORT"
				short++
			}
		}
		cells = append(cells, []string{r.measure, dash(r.floor), dash(r.azvcr), dash(r.ratio), dash(r.target), dash(mark)})
	}
	width := make([]int, len(head))
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	for n, c := range cells {
		var b strings.Builder
		for i, s := range c {
			pad := strings.Repeat(" ", width[i]-len([]rune(s)))
			if i == 0 {
				b.WriteString(s + pad)
			} else {
				b.WriteString("  " + pad + s)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			fmt.Fprintln(w, strings.Repeat("-", len([]rune(b.String()))))
		}
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		if r.note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.measure, r.note)
		}
	}
	return short
}

// Formatting of the figures.

func rate(r float64) string { return thousands(int64(r+0.5)) + " req/s" }

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func mib(kb int64) string {
	if kb >= 1<<20 {
		return fmt.Sprintf("%.2f GiB", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%.0f MiB", float64(kb)/(1<<10))
}

func mb(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }

func times(x float64) string { return fmt.Sprintf("%.2f×", x) }

// signed is a difference with its sign.
func signed(d time.Duration) string {
	if d < 0 {
		return "-" + dur(-d)
	}
	return "+" + dur(d)
}
