package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/redact"
)

// The corpus is what the benchmarks record and replay: interaction i, for any i, as a Go SDK client
// sends it (live) and as azvcr records it (redacted). Four kinds, in the proportions of a Cosmos DB
// test suite with some management calls: item reads, SQL queries, item creates and ARM reads.
const (
	cosmosHost = "bench.documents.azure.com"
	armHost    = "management.azure.com"
	docsPath   = "/dbs/benchdb/colls/orders/docs"
	// liveSubscription is the subscription a live ARM request names; recordings hold zeros.
	liveSubscription = "6d1f2c3a-4b5e-4f60-8a7b-9c0d1e2f3a4b"
)

type kind int

const (
	kindRead kind = iota
	kindQuery
	kindCreate
	kindARM
)

// kindPattern spreads the kinds over every ten interactions: 4 reads, 3 queries, 2 creates, 1 ARM.
var kindPattern = [10]kind{kindRead, kindQuery, kindRead, kindCreate, kindRead, kindQuery, kindARM, kindRead, kindCreate, kindQuery}

func kindOf(i int) kind { return kindPattern[i%len(kindPattern)] }

// The two interactions the single-request measures replay: interaction 0 is an item read and 1 a
// query (kindPattern starts with them).
const (
	getInteraction   = 0
	queryInteraction = 1
)

// serial is i as it appears in names and values: fixed width, so lengths do not depend on i.
func serial(i int) string { return fmt.Sprintf("%07d", i) }

func tenant(i int) string { return "tenant-" + strconv.Itoa(i%16) }

// document is an item as Cosmos DB stores it, with its system properties.
func document(i int) string {
	return fmt.Sprintf(`{"id":"item-%s","pk":"%s","n":%d,"name":"widget %s","description":"a small blue widget","price":%d.95,`+
		`"_rid":"gAABAIAAAAE%sAA==","_self":"dbs/gAABAA==/colls/gAABAIAAAAE=/docs/gAABAIAAAAE%sAA==/","_etag":"\"0000d21c-0000-0800-0000-%s0000\"","_attachments":"attachments/","_ts":%d}`,
		serial(i), tenant(i), 1000000+i, serial(i), 10+i%90, serial(i), serial(i), serial(i)+"abcde", 1700000000+i)
}

// cosmosResponseHeaders are what the Cosmos DB gateway answers with, already as recorded (fixed
// date and activity id), so the floor's answer and azvcr's replay are the same bytes.
func cosmosResponseHeaders(i int, body string) http.Header {
	lsn := strconv.Itoa(100 + i%1000)
	return http.Header{
		"Content-Length":      {strconv.Itoa(len(body))},
		"Content-Location":    {"https://" + cosmosHost + docsPath},
		"Content-Type":        {"application/json"},
		"Date":                {redact.FixedDate},
		"Etag":                {`"0000d21c-0000-0800-0000-` + serial(i) + `abcde0000"`},
		"X-Ms-Activity-Id":    {redact.ZeroGUID},
		"X-Ms-Request-Charge": {"1"},
		"X-Ms-Session-Token":  {"0:-1#" + lsn},
	}
}

// cosmosRequestHeaders are what azcosmos sends; the signature and date change every request.
func cosmosRequestHeaders(i int) http.Header {
	return http.Header{
		"Accept-Encoding":                       {"gzip"},
		"Authorization":                         {"type%3Dmaster%26ver%3D1.0%26sig%3D" + strings.Repeat("Zm9vYmFy", 5) + "MTIz%3D"},
		"User-Agent":                            {"azsdk-go-azcosmos/v1.5.0 (go1.26.8; linux)"},
		"X-Ms-Activity-Id":                      {fmt.Sprintf("9b2e4c1a-0d3f-4e5a-8b6c-%012d", i)},
		"X-Ms-Cosmos-Sdk-Supportedcapabilities": {"1"},
		"X-Ms-Date":                             {"Thu, 13 Nov 2025 10:00:00 GMT"},
		"X-Ms-Documentdb-Partitionkey":          {`["` + tenant(i) + `"]`},
		"X-Ms-Version":                          {"2020-11-05"},
	}
}

// live is interaction i as the client sends it and the upstream answers it.
func live(i int) *cassette.Interaction {
	req := cassette.Request{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	var resp cassette.Response
	switch kindOf(i) {
	case kindRead:
		req.Method, req.Host, req.URL = "GET", cosmosHost, "https://"+cosmosHost+docsPath+"/item-"+serial(i)
		req.Headers = cosmosRequestHeaders(i)
		resp.Body = document(i)
		resp.Code, resp.Status = 200, "200 OK"
		resp.Headers = cosmosResponseHeaders(i, resp.Body)
	case kindQuery:
		req.Method, req.Host, req.URL = "POST", cosmosHost, "https://"+cosmosHost+docsPath
		req.Body = fmt.Sprintf(`{"query":"SELECT * FROM c WHERE c.pk = @pk AND c.n >= @min ORDER BY c.n","parameters":[{"name":"@pk","value":"%s"},{"name":"@min","value":%d}]}`, tenant(i), 1000000+i)
		req.Headers = cosmosRequestHeaders(i)
		req.Headers["Content-Type"] = []string{"application/query+json"}
		req.Headers["X-Ms-Documentdb-Isquery"] = []string{"True"}
		req.Headers["X-Ms-Documentdb-Query-Enablecrosspartition"] = []string{"False"}
		req.Headers["X-Ms-Max-Item-Count"] = []string{"2"}
		resp.Body = `{"_rid":"gAABAIAAAAE=","Documents":[` + document(i) + "," + document(i+1) + `],"_count":2}`
		resp.Code, resp.Status = 200, "200 OK"
		resp.Headers = cosmosResponseHeaders(i, resp.Body)
		resp.Headers["X-Ms-Item-Count"] = []string{"2"}
	case kindCreate:
		req.Method, req.Host, req.URL = "POST", cosmosHost, "https://"+cosmosHost+docsPath
		req.Body = fmt.Sprintf(`{"id":"item-%s","pk":"%s","n":%d,"name":"widget %s","tags":["blue","small"]}`, serial(i), tenant(i), 1000000+i, serial(i))
		req.Headers = cosmosRequestHeaders(i)
		req.Headers["Content-Type"] = []string{"application/json"}
		req.Headers["Prefer"] = []string{"return=minimal"}
		resp.Code, resp.Status = 201, "201 Created"
		resp.Body = document(i)
		resp.Headers = cosmosResponseHeaders(i, resp.Body)
	case kindARM:
		req.Method, req.Host, req.URL = "GET", armHost, "https://"+armHost+armPath(i, liveSubscription)+"?api-version=2024-11-15"
		req.Headers = http.Header{
			"Accept":                 {"application/json"},
			"Accept-Encoding":        {"gzip"},
			"Authorization":          {"Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyIsInRpZCI6ImJlbmNoIn0.c2lnbmF0dXJlLW9mLXRoZS1iZW5jaC10b2tlbi1ub3QtYS1yZWFsLW9uZQ"},
			"User-Agent":             {"azsdk-go-armcosmos/v2.7.0 (go1.26.8; linux)"},
			"X-Ms-Client-Request-Id": {fmt.Sprintf("2c7d9e1f-3a4b-4c5d-8e6f-%012d", i)},
		}
		resp.Code, resp.Status = 200, "200 OK"
		resp.Body = armAccount(i)
		resp.Headers = http.Header{
			"Cache-Control":               {"no-cache"},
			"Content-Length":              {strconv.Itoa(len(resp.Body))},
			"Content-Type":                {"application/json"},
			"Date":                        {redact.FixedDate},
			"Strict-Transport-Security":   {"max-age=31536000; includeSubDomains"},
			"X-Ms-Correlation-Request-Id": {redact.ZeroGUID},
			"X-Ms-Ratelimit-Remaining-Subscription-Reads": {"11999"},
			"X-Ms-Request-Id":         {redact.ZeroGUID},
			"X-Ms-Routing-Request-Id": {"WESTUS:20000101T000000Z:" + redact.ZeroGUID},
		}
	}
	req.ContentLength = int64(len(req.Body))
	if req.Body != "" {
		req.Headers["Content-Length"] = []string{strconv.Itoa(len(req.Body))}
	}
	resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.1", 1, 1
	resp.ContentLength = int64(len(resp.Body))
	resp.Duration = "0s"
	return &cassette.Interaction{ID: i, Request: req, Response: resp}
}

func armPath(i int, subscription string) string {
	return "/subscriptions/" + subscription + "/resourceGroups/rg-bench/providers/Microsoft.DocumentDB/databaseAccounts/acct-" + serial(i)
}

// armAccount is a database account as ARM describes it (subscription already redacted).
func armAccount(i int) string {
	name := "acct-" + serial(i)
	return `{"id":"` + armPath(i, redact.ZeroGUID) + `","name":"` + name + `","location":"West US","type":"Microsoft.DocumentDB/databaseAccounts","kind":"GlobalDocumentDB","tags":{"env":"bench"},` +
		`"systemData":{"createdAt":"2025-11-13T10:00:00.0000000Z"},"properties":{"provisioningState":"Succeeded","documentEndpoint":"https://` + name + `.documents.azure.com:443/",` +
		`"publicNetworkAccess":"Enabled","enableAutomaticFailover":false,"enableMultipleWriteLocations":false,` +
		`"virtualNetworkRules":[],"EnabledApiTypes":"Sql",` +
		`"instanceId":"5b1c7e2a-8f3d-4a6b-9c0e-` + fmt.Sprintf("%012d", i) + `","databaseAccountOfferType":"Standard",` +
		`"consistencyPolicy":{"defaultConsistencyLevel":"Session","maxIntervalInSeconds":5,"maxStalenessPrefix":100},"configurationOverrides":{},` +
		`"writeLocations":[{"id":"` + name + `-westus","locationName":"West US","documentEndpoint":"https://` + name + `-westus.documents.azure.com:443/","provisioningState":"Succeeded","failoverPriority":0,"isZoneRedundant":false}],` +
		`"cors":[],"capabilities":[],"ipRules":[],"backupPolicy":{"type":"Periodic"},"keysMetadata":{}},"identity":{"type":"None"}}`
}

// recorded is interaction i as azvcr's default rules write it.
func recorded(i int, rules redact.Redactor) *cassette.Interaction {
	it := live(i)
	rules.Interaction(it)
	return it
}

// wire is the live request i as bytes on the wire, the way Go's client writes it.
func wire(i int) []byte {
	it := live(i)
	u := strings.TrimPrefix(strings.TrimPrefix(it.Request.URL, "https://"), it.Request.Host)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", it.Request.Method, u, it.Request.Host)
	it.Request.Headers.Write(&b)
	b.WriteString("\r\n")
	b.WriteString(it.Request.Body)
	return b.Bytes()
}

// indexOf finds which interaction a live request is, from what it names: the item or account id,
// or the query's @min parameter. The floor uses it to answer as the upstream would.
func indexOf(method, path string, body []byte) (int, bool) {
	number := func(s, after string, width int) (int, bool) {
		k := strings.Index(s, after)
		if k < 0 || len(s) < k+len(after)+width {
			return 0, false
		}
		n, err := strconv.Atoi(s[k+len(after) : k+len(after)+width])
		return n, err == nil
	}
	switch {
	case method == "GET" && strings.Contains(path, "/databaseAccounts/acct-"):
		return number(path, "/acct-", 7)
	case method == "GET":
		return number(path, "/item-", 7)
	case bytes.Contains(body, []byte(`"@min","value":`)):
		n, ok := number(string(body), `"@min","value":`, 7)
		return n - 1000000, ok
	default:
		return number(string(body), `"id":"item-`, 7)
	}
}
