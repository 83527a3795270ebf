package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/azvcr/azvcr/secrets"
)

// lintReport is what lint --format json prints: every finding, every file that could not be
// read, and the counts of the text summary.
type lintReport struct {
	Files      int           `json:"files"`
	Clean      bool          `json:"clean"`
	Findings   []lintFinding `json:"findings"`
	Unreadable []lintError   `json:"unreadable"`
}

type lintFinding struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Rule    string `json:"rule"`
	Excerpt string `json:"excerpt"`
}

type lintError struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// runLint prints every finding in the files to stdout and a summary to stderr, or with
// --format json one JSON document on stdout. Exit 0 when all are clean, 1 on any finding or
// unreadable file, 2 when no file is given or the format is unknown.
func runLint(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lint", stderr)
	format := fs.String("format", "text", "output: text (file:line: rule: excerpt) or json")
	if code, done := parseFlags(fs, "lint", args, stdout, stderr); done {
		return code
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "azvcr lint: unknown --format %q (text or json)\n", *format)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "azvcr lint: no files given (usage: azvcr lint [--format text|json] FILE...)")
		return exitUsage
	}
	report := lintReport{Files: fs.NArg(), Findings: []lintFinding{}, Unreadable: []lintError{}}
	dirty := 0
	for _, path := range fs.Args() {
		found, err := secrets.LintFile(path)
		if err != nil {
			report.Unreadable = append(report.Unreadable, lintError{File: path, Error: err.Error()})
			if *format == "text" {
				fmt.Fprintln(stderr, "azvcr lint:", err)
			}
			continue
		}
		for _, f := range found {
			report.Findings = append(report.Findings, lintFinding{File: f.File, Line: f.Line, Rule: f.Rule, Excerpt: f.Excerpt})
			if *format == "text" {
				fmt.Fprintln(stdout, f)
			}
		}
		if len(found) > 0 {
			dirty++
		}
	}
	report.Clean = len(report.Findings) == 0 && len(report.Unreadable) == 0
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(report)
	} else {
		fmt.Fprintln(stderr, "azvcr lint:", lintSummary(report, dirty))
	}
	if !report.Clean {
		return exitError
	}
	return exitOK
}

func lintSummary(r lintReport, dirty int) string {
	var summary string
	if n := len(r.Findings); n > 0 {
		summary = fmt.Sprintf("%s in %s", plural(n, "finding"), plural(dirty, "file"))
	} else {
		summary = plural(r.Files-len(r.Unreadable), "file") + " clean"
	}
	if n := len(r.Unreadable); n > 0 {
		summary += fmt.Sprintf("; %s could not be read", plural(n, "file"))
	}
	return summary
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
