package testproxy

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/testproxyjson"
)

var updateBenchEntries = flag.Bool("update-bench-entries", false, "write testdata/bench-entries.json from realisticEntries")

// benchEntriesFile holds realisticEntries as a test-proxy recording: what the sanitizer tests and
// benchmarks read, as a playback session would.
var benchEntriesFile = filepath.Join("testdata", "bench-entries.json")

// realisticEntries is a small recording shaped like the suites test-proxy serves: Cosmos DB data
// calls, ARM reads and key listings, an Entra ID token exchange, Storage calls with SAS URLs and
// XML answers, a Key Vault secret and a long-running operation. Every value is made up, and none
// looks like a secret to the leak checks (the emulator's published key aside).
func realisticEntries() []*cassette.Interaction {
	const (
		sub  = "6d1f2c3a-4b5e-4f60-8a7b-9c0d1e2f3a4b"
		tid  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		acct = "https://acct-bench.documents.azure.com"
		arm  = "https://management.azure.com"
	)
	doc := func(i int) string {
		return fmt.Sprintf(`{"id":"item-%04d","pk":"tenant-%d","n":%d,"name":"widget %04d","description":"a small blue widget","price":%d.95,`+
			`"_rid":"gAABAIAAAAE%04dAA==","_self":"dbs\/gAABAA==\/colls\/gAABAIAAAAE=\/docs\/gAABAIAAAAE%04dAA==\/","_etag":"\"0000d21c-0000-0800-0000-%04dabcde0000\"","_attachments":"attachments\/","_ts":%d}`,
			i, i%16, 1000000+i, i, 10+i%90, i, i, i, 1700000000+i)
	}
	cosmosReq := func(i int) http.Header {
		return http.Header{
			"Accept": {"application/json"}, "Authorization": {"type%3Dmaster%26ver%3D1.0%26sig%3DZm9vYmFyZm9vYmFyMTIz%3D"},
			"User-Agent": {"azsdk-go-azcosmos/v1.5.0 (go1.26.8; linux)"}, "x-ms-activity-id": {fmt.Sprintf("9b2e4c1a-0d3f-4e5a-8b6c-%012d", i)},
			"x-ms-date": {"Thu, 13 Nov 2025 10:00:00 GMT"}, "x-ms-documentdb-partitionkey": {fmt.Sprintf(`["tenant-%d"]`, i%16)}, "x-ms-version": {"2020-11-05"},
		}
	}
	cosmosResp := func(body string) http.Header {
		return http.Header{
			"Content-Length": {strconv.Itoa(len(body))}, "Content-Type": {"application/json"}, "Date": {"Thu, 13 Nov 2025 10:00:00 GMT"},
			"x-ms-activity-id": {"4a1f0c9e-5b2d-4e3f-9a8b-7c6d5e4f3a2b"}, "x-ms-request-charge": {"1"}, "x-ms-session-token": {"0:-1#112"},
			"x-ms-gatewayversion": {"2.0.0"}, "Strict-Transport-Security": {"max-age=31536000"},
		}
	}
	armResp := func(body string) http.Header {
		return http.Header{
			"Cache-Control": {"no-cache"}, "Content-Length": {strconv.Itoa(len(body))}, "Content-Type": {"application/json; charset=utf-8"},
			"Date": {"Thu, 13 Nov 2025 10:00:00 GMT"}, "Strict-Transport-Security": {"max-age=31536000; includeSubDomains"},
			"X-Content-Type-Options": {"nosniff"}, "x-ms-correlation-request-id": {"1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"},
			"x-ms-ratelimit-remaining-subscription-reads": {"11999"}, "x-ms-request-id": {"1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"},
			"x-ms-routing-request-id": {"WESTUS:20251113T100000Z:1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"},
		}
	}
	armReq := func(i int) http.Header {
		return http.Header{
			"Accept": {"application/json"}, "Accept-Encoding": {"gzip"}, "Authorization": {"Sanitized"},
			"User-Agent": {"azsdk-go-armcosmos/v2.7.0 (go1.26.8; linux)"}, "x-ms-client-request-id": {fmt.Sprintf("2c7d9e1f-3a4b-4c5d-8e6f-%012d", i)},
		}
	}
	account := func(i int) string {
		name := fmt.Sprintf("acct-%04d", i)
		id := "/subscriptions/" + sub + "/resourceGroups/rg-bench/providers/Microsoft.DocumentDB/databaseAccounts/" + name
		return `{"id":"` + id + `","name":"` + name + `","location":"West US","type":"Microsoft.DocumentDB/databaseAccounts","kind":"GlobalDocumentDB","tags":{},` +
			`"systemData":{"createdAt":"2025-11-13T10:00:00.0000000Z","createdBy":"someone@example.com","lastModifiedBy":"someone@example.com"},` +
			`"properties":{"provisioningState":"Succeeded","documentEndpoint":"https://` + name + `.documents.azure.com:443/","publicNetworkAccess":"Enabled",` +
			`"enableAutomaticFailover":false,"virtualNetworkRules":[],"instanceId":"5b1c7e2a-8f3d-4a6b-9c0e-000000000001","databaseAccountOfferType":"Standard",` +
			`"consistencyPolicy":{"defaultConsistencyLevel":"Session","maxIntervalInSeconds":5,"maxStalenessPrefix":100},` +
			`"writeLocations":[{"id":"` + name + `-westus","locationName":"West US","documentEndpoint":"https://` + name + `-westus.documents.azure.com:443/","provisioningState":"Succeeded","failoverPriority":0,"isZoneRedundant":false}],` +
			`"readLocations":[{"id":"` + name + `-westus","locationName":"West US","documentEndpoint":"https://` + name + `-westus.documents.azure.com:443/","provisioningState":"Succeeded","failoverPriority":0,"isZoneRedundant":false}],` +
			`"capabilities":[],"ipRules":[],"backupPolicy":{"type":"Periodic","periodicModeProperties":{"backupIntervalInMinutes":240,"backupRetentionIntervalInHours":8}},` +
			`"keysMetadata":{"primaryMasterKey":{"generationTime":"2025-11-13T10:00:00Z"}}},"identity":{"type":"SystemAssigned","principalId":"0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b","tenantId":"` + tid + `"}}`
	}
	var its []*cassette.Interaction
	add := func(method, url string, reqH http.Header, reqBody string, code int, respH http.Header, respBody string) {
		if reqBody != "" {
			reqH["Content-Length"] = []string{strconv.Itoa(len(reqBody))}
		}
		its = append(its, &cassette.Interaction{
			Request:  cassette.Request{Method: method, URL: url, Headers: reqH, Body: reqBody},
			Response: cassette.Response{Code: code, Headers: respH, Body: respBody},
		})
	}
	tokenBody := `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"fake-access-token"}`
	add("POST", "https://login.microsoftonline.com/"+tid+"/oauth2/v2.0/token",
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "User-Agent": {"azsdk-go-azidentity/v1.8.0"}, "client-request-id": {"3f2e1d0c-9b8a-4765-8432-10fedcba9876"}},
		"client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&client_secret=fake-client-secret&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
		200, http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Cache-Control": {"no-store, no-cache"}, "P3P": {`CP="DSP CUR OTPi IND OTRi ONL FIN"`},
			"x-ms-ests-server": {"2.1.19185.5 - WUS2 ProdSlices"}, "Set-Cookie": {"fpc=AqP4; expires=Sat, 13-Dec-2025 10:00:00 GMT; path=/; secure; HttpOnly; SameSite=None"},
			"x-ms-request-id": {"aa11bb22-cc33-4d44-8e55-ff6600778899"}}, tokenBody)
	for i := range 12 {
		switch i % 4 {
		case 0, 2:
			add("GET", acct+"/dbs/benchdb/colls/orders/docs/item-"+fmt.Sprintf("%04d", i), cosmosReq(i), "", 200, cosmosResp(doc(i)), doc(i))
		case 1:
			q := fmt.Sprintf(`{"query":"SELECT * FROM c WHERE c.pk = @pk AND c.n >= @min ORDER BY c.n","parameters":[{"name":"@pk","value":"tenant-%d"},{"name":"@min","value":%d}]}`, i%16, 1000000+i)
			h := cosmosReq(i)
			h["Content-Type"] = []string{"application/query+json"}
			h["x-ms-documentdb-isquery"] = []string{"True"}
			body := `{"_rid":"gAABAIAAAAE=","Documents":[` + doc(i) + "," + doc(i+1) + `],"_count":2}`
			add("POST", acct+"/dbs/benchdb/colls/orders/docs", h, q, 200, cosmosResp(body), body)
		case 3:
			h := cosmosReq(i)
			h["Content-Type"] = []string{"application/json"}
			create := fmt.Sprintf(`{"id":"item-%04d","pk":"tenant-%d","n":%d,"name":"widget %04d","tags":["blue","small"]}`, i, i%16, 1000000+i, i)
			add("POST", acct+"/dbs/benchdb/colls/orders/docs", h, create, 201, cosmosResp(doc(i)), doc(i))
		}
	}
	accountURL := arm + "/subscriptions/" + sub + "/resourceGroups/rg-bench/providers/Microsoft.DocumentDB/databaseAccounts/acct-0001"
	add("GET", accountURL+"?api-version=2024-11-15", armReq(1), "", 200, armResp(account(1)), account(1))
	keys := `{"primaryMasterKey":"C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==","secondaryMasterKey":"fake-key-2",` +
		`"primaryReadonlyMasterKey":"fake-key-3","secondaryReadonlyMasterKey":"fake-key-4"}`
	add("POST", accountURL+"/listKeys?api-version=2024-11-15", armReq(2), "", 200, armResp(keys), keys)
	conns := `{"connectionStrings":[{"connectionString":"AccountEndpoint=https://acct-0001.documents.azure.com:443/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==;","description":"Primary SQL Connection String","keyKind":"Primary","type":"Sql"}]}`
	add("POST", accountURL+"/listConnectionStrings?api-version=2024-11-15", armReq(3), "", 200, armResp(conns), conns)
	put := `{"location":"West US","kind":"GlobalDocumentDB","properties":{"databaseAccountOfferType":"Standard","locations":[{"locationName":"West US","failoverPriority":0}]}}`
	lro := armResp(account(1))
	lro["Azure-AsyncOperation"] = []string{arm + "/subscriptions/" + sub + "/providers/Microsoft.DocumentDB/locations/westus/operationsStatus/7e6d5c4b?api-version=2024-11-15&t=638500000000000000&c=MIIHhzCCBm-gAwIBAgITfAAAAA&s=abcdef&h=xyz"}
	lro["Location"] = []string{arm + "/subscriptions/" + sub + "/providers/Microsoft.DocumentDB/locations/westus/operationResults/7e6d5c4b?api-version=2024-11-15"}
	reqPut := armReq(4)
	reqPut["Content-Type"] = []string{"application/json"}
	add("PUT", accountURL+"?api-version=2024-11-15", reqPut, put, 200, lro, account(1))
	status := `{"status":"Succeeded","name":"7e6d5c4b-0000-0000-0000-000000000000","startTime":"2025-11-13T10:00:00Z"}`
	add("GET", arm+"/subscriptions/"+sub+"/providers/Microsoft.DocumentDB/locations/westus/operationsStatus/7e6d5c4b?api-version=2024-11-15", armReq(5), "", 200, armResp(status), status)
	blob := "https://storebench.blob.core.windows.net/container/dir/file.txt?sv=2023-11-03&ss=b&srt=sco&sp=rwdlac&se=2025-11-14T10:00:00Z&st=2025-11-13T10:00:00Z&spr=https&sig=Zm9vYmFyYmF6JTJCcXV4JTNE"
	add("PUT", blob, http.Header{"Content-Type": {"text/plain"}, "x-ms-blob-type": {"BlockBlob"}, "x-ms-version": {"2023-11-03"},
		"x-ms-copy-source": {"https://source.blob.core.windows.net/c/f?sig=abc"}, "x-ms-client-request-id": {"5e4d3c2b-1a09-4877-a665-544332211000"}},
		"hello, world\nsecond line\n", 201, http.Header{"ETag": {`"0x8DC0000000000"`}, "x-ms-request-id": {"a1b2c3d4-0001-0002-0003-000000000004"},
			"x-ms-version": {"2023-11-03"}, "x-ms-request-server-encrypted": {"true"}, "Content-Length": {"0"}}, "")
	udk := `<?xml version="1.0" encoding="utf-8"?><UserDelegationKey><SignedOid>0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b</SignedOid><SignedTid>` + tid +
		`</SignedTid><SignedStart>2025-11-13T10:00:00Z</SignedStart><SignedExpiry>2025-11-14T10:00:00Z</SignedExpiry><SignedService>b</SignedService><SignedVersion>2023-11-03</SignedVersion><Value>Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4</Value></UserDelegationKey>`
	add("POST", "https://storebench.blob.core.windows.net/?restype=service&comp=userdelegationkey",
		http.Header{"Content-Type": {"application/xml"}, "Authorization": {"Bearer x"}, "x-ms-version": {"2023-11-03"}},
		`<?xml version="1.0" encoding="utf-8"?><KeyInfo><Start>2025-11-13T10:00:00Z</Start><Expiry>2025-11-14T10:00:00Z</Expiry></KeyInfo>`,
		200, http.Header{"Content-Type": {"application/xml"}, "x-ms-request-id": {"a1b2c3d4-0001-0002-0003-000000000005"}}, udk)
	secret := `{"value":"s3cr3t-v4lue","id":"https://kvbench.vault.azure.net/secrets/db-password/0123456789abcdef0123456789abcdef","attributes":{"enabled":true,"created":1700000000,"updated":1700000000,"recoveryLevel":"Recoverable+Purgeable","recoverableDays":90},"tags":{}}`
	add("GET", "https://kvbench.vault.azure.net/secrets/db-password/?api-version=7.5", http.Header{"Accept": {"application/json"}, "Authorization": {"Bearer x"}},
		"", 200, http.Header{"Content-Type": {"application/json; charset=utf-8"}, "x-ms-keyvault-region": {"westus"}, "x-ms-request-id": {"b2c3d4e5-0001-0002-0003-000000000006"},
			"x-ms-keyvault-service-version": {"1.9.1000.1"}}, secret)
	return its
}

// TestBenchEntriesUpToDate: testdata/bench-entries.json is realisticEntries as test-proxy JSON
// (go test ./testproxy -run TestBenchEntriesUpToDate -update-bench-entries writes it).
func TestBenchEntriesUpToDate(t *testing.T) {
	want, err := testproxyjson.Marshal(&cassette.Cassette{Version: cassette.Version, Interactions: realisticEntries()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *updateBenchEntries {
		if err := os.WriteFile(benchEntriesFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(benchEntriesFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not realisticEntries as written now; run with -update-bench-entries", benchEntriesFile)
	}
}

// benchEntries reads testdata/bench-entries.json as a playback session does.
func benchEntries(tb testing.TB) []*cassette.Interaction {
	tb.Helper()
	c, _, err := testproxyjson.Load(benchEntriesFile)
	if err != nil {
		tb.Fatal(err)
	}
	if len(c.Interactions) < 20 || !strings.Contains(c.Interactions[0].Request.URL, "oauth2") {
		tb.Fatalf("%s holds %d entries", benchEntriesFile, len(c.Interactions))
	}
	return c.Interactions
}
