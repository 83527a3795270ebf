// Package azvcr is a record-and-replay proxy for Azure Cosmos DB and Azure Resource Manager
// traffic. This package holds no code: the work is in the packages below, arranged in floors
// where each imports only from the floors beneath it (layers_test.go enforces it):
//
//	cmd/azvcr                                  the command: flags, signals, exit codes
//	forwardproxy, testproxy                    the faces: how requests arrive
//	engine                                     record or replay, for one request
//	matcher, redact, testproxyjson, upstream,  matching; redaction rules; the test-proxy
//	certs                                      file format; the way out; the CA
//	cassette, secrets, internal/hostport       the cassette format; the secret detectors
//
// docs/architecture.md describes each package and the path of a request through them.
package azvcr
