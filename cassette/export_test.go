package cassette

// ParseWithLibrary exposes the YAML library's path to the package's external tests: the one a
// malformed file takes, whatever the fast reader makes of it.
var ParseWithLibrary = parseWithLibrary
