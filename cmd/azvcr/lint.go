package main

import (
	"fmt"
	"io"

	"github.com/azvcr/azvcr/secrets"
)

// runLint prints every finding in the files to stdout and a summary to stderr. Exit 0 when all
// are clean, 1 on any finding or unreadable file, 2 when no file is given.
func runLint(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lint", stderr)
	if err := fs.Parse(args); err != nil {
		return usageCode(err)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "azvcr lint: no files given (usage: azvcr lint FILE...)")
		return exitUsage
	}
	var findings, dirty, unreadable int
	for _, path := range fs.Args() {
		found, err := secrets.LintFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "azvcr lint:", err)
			unreadable++
			continue
		}
		for _, f := range found {
			fmt.Fprintln(stdout, f)
		}
		findings += len(found)
		if len(found) > 0 {
			dirty++
		}
	}
	var summary string
	if findings > 0 {
		summary = fmt.Sprintf("%s in %s", plural(findings, "finding"), plural(dirty, "file"))
	} else {
		summary = plural(fs.NArg()-unreadable, "file") + " clean"
	}
	if unreadable > 0 {
		summary += fmt.Sprintf("; %s could not be read", plural(unreadable, "file"))
	}
	fmt.Fprintln(stderr, "azvcr lint:", summary)
	if findings > 0 || unreadable > 0 {
		return exitError
	}
	return exitOK
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
