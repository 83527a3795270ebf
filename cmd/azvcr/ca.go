package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/azvcr/azvcr/certs"
)

func runCA(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "azvcr ca: want init or path\n\n%s", commandHelp["ca"])
		return exitUsage
	}
	if wantsHelp(args[:1]) {
		fmt.Fprint(stdout, commandHelp["ca"])
		return exitOK
	}
	fs := newFlagSet("ca "+args[0], stderr)
	caDir := fs.String("ca-dir", "", "CA directory")
	force := fs.Bool("force", false, "replace an existing CA")
	if code, done := parseFlags(fs, "ca", args[1:], stdout, stderr); done {
		return code
	}
	dir, err := resolveCADir(*caDir)
	if err != nil {
		fmt.Fprintln(stderr, "azvcr:", err)
		return exitError
	}
	switch args[0] {
	case "init":
		ca, created, err := certs.InitCA(dir, *force)
		if err != nil {
			fmt.Fprintln(stderr, "azvcr ca init:", err)
			return exitError
		}
		if created {
			fmt.Fprintf(stderr, "azvcr: created CA in %s (key readable by its owner only)\n", dir)
		} else {
			fmt.Fprintf(stderr, "azvcr: CA already exists in %s (use --force to replace it)\n", dir)
		}
		fmt.Fprintln(stdout, ca.CertPath)
		return exitOK
	case "path":
		ca, err := certs.LoadCA(dir)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(stderr, "azvcr ca path: no CA in %s; create one with: azvcr ca init\n", dir)
			} else {
				fmt.Fprintln(stderr, "azvcr ca path:", err)
			}
			return exitError
		}
		fmt.Fprintln(stdout, ca.CertPath)
		return exitOK
	}
	fmt.Fprintf(stderr, "azvcr ca: unknown subcommand %q (want init or path)\n", args[0])
	return exitUsage
}

func resolveCADir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return certs.DefaultCADir()
}
