package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/testproxyjson"
)

const convertUsage = `usage: azvcr convert [--overwrite] IN OUT

Converts between Microsoft's Azure SDK test-proxy recordings (JSON: {"Entries": [...],
"Variables": {...}}) and azvcr cassettes (YAML, go-vcr format version 2). The format of each file
follows its extension: .json is a test-proxy recording, .yaml and .yml a cassette. An IN with
another extension is read as JSON when it starts with '{', else as YAML; an OUT with another
extension gets the format IN does not have. Test-proxy variables are kept in the cassette under a
top-level "variables" key, which go-vcr ignores. An OUT that already exists is refused unless
--overwrite is given; it is replaced atomically.
`

type fileFormat int

const (
	formatUnknown fileFormat = iota
	formatTestProxy
	formatCassette
)

func (f fileFormat) String() string {
	if f == formatTestProxy {
		return "test-proxy JSON"
	}
	return "YAML cassette"
}

func formatByExt(path string) fileFormat {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return formatTestProxy
	case ".yaml", ".yml":
		return formatCassette
	}
	return formatUnknown
}

// runConvert converts IN to OUT. Exit 0 when written, 1 on an unreadable, malformed or
// unconvertible file (the message names file:line), 2 on a bad command line.
func runConvert(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("convert", stderr)
	overwrite := fs.Bool("overwrite", false, "replace an existing OUT")
	var files []string
	for _, a := range args { // --overwrite may come after the files too
		if a == "--overwrite" || a == "-overwrite" {
			*overwrite = true
		} else {
			files = append(files, a)
		}
	}
	if code, done := parseFlags(fs, "convert", files, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(stderr, "azvcr convert: want two files, IN and OUT, got %d\n%s", fs.NArg(), convertUsage)
		return exitUsage
	}
	in, out := fs.Arg(0), fs.Arg(1)
	if st, err := os.Stat(out); err == nil && st.Size() > 0 && !*overwrite {
		fmt.Fprintf(stderr, "azvcr convert: %s already exists; give --overwrite to replace it\n", out)
		return exitUsage
	}
	data, err := os.ReadFile(in)
	if err != nil {
		fmt.Fprintln(stderr, "azvcr convert:", err)
		return exitError
	}
	from := formatByExt(in)
	if from == formatUnknown {
		from = formatCassette
		if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\ufeff"), []byte("{")) {
			from = formatTestProxy
		}
	}
	to := formatByExt(out)
	if to == formatUnknown {
		to = formatTestProxy
		if from == formatTestProxy {
			to = formatCassette
		}
	}

	var c *cassette.Cassette
	if from == formatTestProxy {
		c, _, err = testproxyjson.Parse(in, data)
	} else {
		c, err = cassette.Parse(in, data)
	}
	if err != nil {
		fmt.Fprintln(stderr, "azvcr convert:", err)
		return exitError
	}
	if c.Torn != nil {
		fmt.Fprintln(stderr, "azvcr convert: warning:", c.Torn)
	}

	if to == formatTestProxy {
		err = testproxyjson.Save(out, c, c.Variables)
	} else {
		err = cassette.Save(out, c)
	}
	if err != nil {
		var ie *testproxyjson.InteractionError
		if errors.As(err, &ie) {
			at := in
			if from == formatCassette {
				if line := interactionLine(data, ie.Index); line > 0 {
					at = fmt.Sprintf("%s:%d", in, line)
				}
			}
			fmt.Fprintf(stderr, "azvcr convert: %s: %v; %s not written\n", at, ie, out)
		} else {
			fmt.Fprintln(stderr, "azvcr convert:", err)
		}
		return exitError
	}
	fmt.Fprintf(stderr, "azvcr convert: converted %s, %s: %s -> %s\n",
		plural(len(c.Interactions), "interaction"), plural(len(c.Variables), "variable"), in, out)
	return exitOK
}

// interactionLine is the line where interaction i starts in a YAML cassette, or 0.
func interactionLine(data []byte, i int) int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) != 1 {
		return 0
	}
	root := doc.Content[0]
	for k := 0; k+1 < len(root.Content); k += 2 {
		if root.Content[k].Value == "interactions" && i < len(root.Content[k+1].Content) {
			return root.Content[k+1].Content[i].Line
		}
	}
	return 0
}
