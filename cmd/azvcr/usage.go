package main

const usage = `azvcr records Azure Cosmos DB and Resource Manager traffic and replays it offline.

Usage:
  azvcr record      --cassette FILE [flags]   forward to Azure, write every interaction to FILE
  azvcr replay      --cassette FILE [flags]   answer from FILE; no network connection at all
  azvcr auto        --cassette FILE [flags]   replay what FILE holds, record and append the rest
  azvcr passthrough [flags]                   forward and intercept, write nothing
  azvcr ca init     [--ca-dir DIR] [--force]  create the per-install CA (ECDSA P-256, key mode 0600)
  azvcr ca path     [--ca-dir DIR]            print the CA certificate path for clients to trust
  azvcr lint        FILE...                   report anything in FILE that looks like a secret
                    [--format text|json]        (json: one document for CI, same exit codes)
  azvcr convert     IN OUT                    convert a test-proxy .json recording to a .yaml cassette, or back
  azvcr version
  azvcr help COMMAND                          a command's help (also: azvcr COMMAND -h)

Azure SDK test-proxy drop-in (same engine; see the README's test-proxy section):
  azvcr start [--storage-location DIR] [--resolve HOST=ADDR] [--upstream-ca FILE]
              [--max-body-size SIZE] [-- --urls=http://localhost:5000;https://localhost:5001]
                                              serve the test-proxy protocol: /Record/Start,
                                              /Playback/Start, /Admin/..., sessions by x-recording-id;
                                              --resolve and --upstream-ca as for the proxy, for
                                              record sessions
  azvcr restore -a assets.json                fetch the recordings an assets.json names with git
                                              into <repo root>/.assets (the assets repository is
                                              $AZVCR_ASSETS_BASE_URL/<AssetsRepo>, default
                                              https://github.com/<AssetsRepo>)
  azvcr --version                             the bare version, as test-proxy prints it

Proxy flags (record, replay, auto, passthrough):
` + proxyFlags + `
On start azvcr prints the environment a client needs (HTTPS_PROXY and the CA certificate path,
as KEY=VALUE lines on stdout). SIGINT or SIGTERM stops it: every completed interaction is already
on disk; a summary (replayed, unused, misses) goes to stderr and azvcr exits 0.

azvcr lint reads any file line by line (a malformed cassette too) and prints file:line: rule: excerpt
for each value that looks like a secret, masked (first four characters and length). Rules:
cosmos-signature, sas-signature, connection-string-key, client-secret, entra-client-secret,
bearer-token, jwt, cosmos-key, private-key, named-secret, partial-redaction; values are also
found URL-encoded, JSON-escaped, inside base64 and inside !!binary bodies. What azvcr's redaction
writes (REDACTED, the zero GUID) is not reported, but a placeholder with part of a secret beside
it is. A summary goes to stderr; --format json prints one JSON document on stdout instead.

A replayed request with no recording is answered with status 490, header X-Azvcr-Miss and a JSON
body naming the closest recorded interaction and what differed.

Exit codes:
  0  stopped by SIGINT/SIGTERM, or a command finished
  1  runtime error (unreadable or malformed cassette, CA problem, address in use); lint found
     something that looks like a secret, or could not read a file
  2  usage error
  3  --fail-on-miss was given and some request had no recording
`

// proxyFlags are the flags of record, replay, auto and passthrough.
const proxyFlags = `  --cassette FILE        cassette file (YAML, go-vcr format version 2; version 1 is read too)
  --listen ADDR          address to listen on (default ` + defaultListen + `; port 0 picks one)
  --config FILE          config file with redaction rules (default: .azvcr.yaml in the working
                         directory, if there is one)
  --ca-dir DIR           CA directory (default $AZVCR_CA_DIR, else <user config dir>/azvcr);
                         a CA is created there on first use
  --allow-host HOST      also forward to HOST (exact name, *.suffix or "loopback"); repeatable.
                         Always allowed: *.documents.azure.com, management.azure.com,
                         login.microsoftonline.com, localhost and loopback addresses
  --upstream-ca FILE     trust the PEM certificates in FILE for upstream TLS; repeatable
  --upstream-insecure    do not verify upstream certificates (local emulators only)
  --resolve HOST=ADDR    when forwarding to HOST connect to ADDR instead (TLS still verified for
                         HOST): record an emulator or test server under a production name; repeatable
  --verify-signatures    replay/auto: recompute each Cosmos master-key signature with the playback
                         key and answer 401, as Cosmos DB does, when it does not match
  --playback-key KEY     the key for --verify-signatures (default: the public Cosmos emulator key)
  --fail-on-miss         replay/auto: exit 3 if any request had no recording
  --repeat POLICY        which requests get their last answer again once all recordings are used:
                         metadata (default: account, database, container and pk-range reads),
                         none, or all
  --max-body-size SIZE   refuse request and response bodies larger than SIZE (default 64MiB;
                         KiB, MiB, GiB or bytes; 0: no limit): a larger request gets 413, a
                         larger upstream answer 502, and neither is recorded
  --overwrite            record: replace a cassette that already holds interactions (the old file
                         stays until the first new interaction is written); without it, record
                         refuses such a cassette
  -v, --verbose          log every request`
