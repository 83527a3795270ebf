package redact

import (
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/azvcr/azvcr/cassette"
	"github.com/azvcr/azvcr/internal/jsonlex"
	"github.com/azvcr/azvcr/secrets"
)

// The shortcuts of quick.go, of apply's header listing, of azure-ids (learning without the lock,
// the texts it has learned from, the GUID-shaped test before replacing) and of learnable are held
// here to the slow paths they replace: slowRequest and slowResponse redact as Redactor did before
// them, and the tests compare every part of the results.

// slowRequest redacts req as Request did before the shortcuts.
func slowRequest(r Redactor, req *cassette.Request) {
	restore := r.keep(req.Headers)
	before := len(req.Body)
	slowApply(r, func(rule Rule) {
		switch rule := rule.(type) {
		case HeaderRule:
			slowHeaderApply(rule, req.Headers)
		case *azureIDRule:
			slowAzureRedact(rule, req.Headers, &req.URL, &req.Body)
		default:
			rule.RedactRequest(req)
		}
	}, func(w *walker) { w.request(req) })
	restore()
	fixLength(req.Headers, &req.ContentLength, before, len(req.Body))
}

// slowResponse redacts resp as Response did before the shortcuts.
func slowResponse(r Redactor, resp *cassette.Response) {
	restore := r.keep(resp.Headers)
	before := len(resp.Body)
	slowApply(r, func(rule Rule) {
		switch rule := rule.(type) {
		case HeaderRule:
			slowHeaderApply(rule, resp.Headers)
		case *azureIDRule:
			slowAzureRedact(rule, resp.Headers, &resp.Body)
		default:
			rule.RedactResponse(resp)
		}
	}, func(w *walker) { w.response(resp) })
	restore()
	fixLength(resp.Headers, &resp.ContentLength, before, len(resp.Body))
}

// slowApply offers every value to every value rule (walker.slow) and runs the other rules one
// by one.
func slowApply(r Redactor, one func(Rule), walk func(*walker)) {
	for i := 0; i < len(r); {
		w := &walker{slow: true}
		for ; i < len(r); i++ {
			vr, ok := r[i].(valueRule)
			if !ok {
				break
			}
			w.rules = append(w.rules, vr)
		}
		if len(w.rules) > 0 {
			walk(w)
			continue
		}
		one(r[i])
		i++
	}
}

func slowHeaderApply(h HeaderRule, hdr http.Header) {
	for key, vals := range hdr {
		for _, name := range h.Headers {
			if strings.EqualFold(key, name) {
				for i := range vals {
					vals[i] = h.Value
				}
				break
			}
		}
	}
}

// slowAzureRedact learns under the lock from every text, remembers no text, and replaces with
// the regular expression in every text.
func slowAzureRedact(a *azureIDRule, h map[string][]string, texts ...*string) {
	learn := func(texts ...string) {
		a.mu.Lock()
		defer a.mu.Unlock()
		grew := false
		for _, t := range texts {
			if !learnIDHints.in(t) {
				continue
			}
			for _, re := range learnIDRes {
				for _, m := range re.FindAllStringSubmatch(t, -1) {
					if id := strings.ToLower(m[1]); id != ZeroGUID && !a.ids[id] {
						a.ids[id] = true
						grew = true
					}
				}
			}
		}
		if grew {
			var alts []string
			for id := range a.ids {
				alts = append(alts, regexp.QuoteMeta(id))
			}
			a.re.Store(regexp.MustCompile(`(?i)` + strings.Join(alts, "|")))
		}
	}
	for _, t := range texts {
		learn(*t)
	}
	for _, vals := range h {
		learn(vals...)
	}
	re := a.re.Load()
	if re == nil {
		return
	}
	for _, t := range texts {
		*t = re.ReplaceAllString(*t, ZeroGUID)
	}
	replaceHeaders(h, re, ZeroGUID)
}

// slowLearnable is learnable as it was, decoding with url.QueryUnescape.
func slowLearnable(s string) bool {
	if learnIDHints.in(s) {
		return true
	}
	if strings.IndexByte(s, '%') < 0 {
		return false
	}
	decoded, err := url.QueryUnescape(s)
	return err == nil && learnIDHints.in(decoded)
}

// Values with secrets and ids of every kind the rules know, plain and URL-encoded.
var (
	quickKey    = strings.Repeat("Zq8vL2mPx7RtW4kY9hNc", 4) + "AAAA=="
	quickJWT    = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiI3MmY5ODhiZiJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
	quickAuth   = url.QueryEscape("type=master&ver=1.0&sig=K2l4bW9yZXNlY3JldHNpZ25hdHVyZXNsb25nZW5vdWdo")
	quickValues = []string{
		"", "x", "REDACTED", "item-000001", "2024-11-15", `["tenant-01"]`, "True", "application/query+json", quickKey, quickJWT,
		"Bearer " + quickJWT, quickAuth, "type=master&ver=1.0&sig=" + quickKey, "Zq8vL2mPx7RtW4kY9hNc", "Zq8vL2mPx7RtW4",
		"Zq8vL2mPx7RtW", "sv=2024-05-04&sig=abcdefghijklmnopqrstuv%2Bw%3D&se=2030", url.QueryEscape("sig=" + quickKey),
		"AccountEndpoint=https://a.documents.azure.com:443/;AccountKey=" + quickKey + ";",
		"Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=" + quickKey, probeSub, probeTenant, strings.ToUpper(probeOther),
		"/subscriptions/" + probeSub + "/resourceGroups/rg", "https%3A%2F%2Flogin.microsoftonline.com%2F" + probeTenant + "%2Foauth2",
		`{"tenantId":"` + probeTenant + `","password":"hunter2hunter2"}`, `{"query":"SELECT * FROM c WHERE c.pk = @pk","parameters":[{"name":"@pk","value":"tenant-01"}]}`,
		"client_id=x&client_secret=Zq8~vL2mPx7RtW4kY9hNc.Q_abcdefghijklm&grant_type=client_credentials", "pAsswd:Zq8vL2mPx7",
		"https://u:p@h/x?token=abc&sig=" + quickKey, "%zz", "a%2", "+%41+", "WESTUS2:20261122T181000Z:" + probeOther,
		"Thu, 13 Nov 2025 10:00:00 GMT", "session=abc; tenantId=" + probeOther, `{"a":"{\"password\":\"hunter2hunter2\"}"}`,
	}
	quickNames = []string{
		"Authorization", "X-Ms-Documentdb-Partitionkey", "Content-Type", "X-Ms-Documentdb-Isquery", "X-Api-Key", "x-api-key",
		"Cookie", "X-Ms-Date", "X-Ms-Routing-Request-Id", "X-Ms-Client-Request-Id", "Location", "Proxy-Authorization",
		"X-Ms-Authorization-Auxiliary", "Password", "Sig", "X-Custom-Secret", "Referer",
	}
	quickURLs = []string{
		"https://acct.documents.azure.com/dbs/db/colls/orders/docs/item-000001",
		"https://management.azure.com/subscriptions/" + probeSub + "/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/acct?api-version=2024-11-15",
		"https://a.blob.core.windows.net/c/" + quickKey + "?sv=1&sig=" + url.QueryEscape(quickKey),
		"https://u:" + quickKey + "@h/tenants/" + probeTenant + "/x%2Fy/" + url.PathEscape(quickJWT) + "#access_token=" + quickJWT,
		"https://login.microsoftonline.com/" + probeTenant + "/oauth2/v2.0/token?client_secret=abc&code=xyz",
		"https://h/a\\u0041b/%zz/" + strings.ToUpper(probeSub) + "?redirect_uri=https%3A%2F%2Fh%2F%3Fcode%3Dsecretcode123",
		"", "/relative/path?password=hunter2",
	}
)

// quickRequests are requests made of the values above, in every part.
func quickRequests() []cassette.Request {
	var out []cassette.Request
	for i, u := range quickURLs {
		for j, v := range quickValues {
			name := quickNames[(i+j)%len(quickNames)]
			h := http.Header{name: {v}, quickNames[(i*3+j)%len(quickNames)]: {quickValues[(j*7+i)%len(quickValues)], v}}
			if j%3 == 0 {
				h["X-Ms-Documentdb-Partitionkey"] = []string{`["tenant-01"]`}
			}
			body := quickValues[(j*5+i)%len(quickValues)]
			out = append(out, cassette.Request{Method: "POST", URL: u, Headers: h, Body: body, ContentLength: int64(len(body)),
				Form: map[string][]string{"password": {v}}})
		}
	}
	out = append(out, probeCorpus()...)
	return out
}

// TestQuickRedactMatchesSlow carries one Redactor with the shortcuts and one without through the
// same session of requests and responses (azure-ids learns as it goes), comparing every result.
func TestQuickRedactMatchesSlow(t *testing.T) {
	for _, rules := range []func() Redactor{DefaultRules, func() Redactor {
		r, _ := DefaultRules().Without("azure-ids", "authorization")
		return append(r, KeepHeaders{Headers: []string{"Cookie"}}, newAzureIDRule(), HeaderRule{RuleName: "x", Headers: []string{"x-ms-date"}, Value: "D"})
	}, func() Redactor {
		r, _ := DefaultRules().Without("arm-keys") // as many value rules as the last, not the same
		return r
	}, func() Redactor {
		// a rule that puts a new header in place: the header rules after it edit that one
		r := DefaultRules()
		return append(append(Redactor{HeaderRule{RuleName: "y", Headers: []string{"cookie"}, Value: "C"}, swapHeaders{}}, r[9:]...), swapHeaders{}, r[8], r[11])
	}} {
		quick, slow := rules(), rules()
		for i, req := range quickRequests() {
			for pass := range 2 { // the second time, azure-ids has seen the texts
				compareQuick(t, quick, slow, req, pass)
			}
			if i%10 == 0 {
				// a large header is not listed
				big := cloneQuickRequest(req)
				for k := range 20 {
					big.Headers[quickNames[k%len(quickNames)]+"-"+string(rune('a'+k))] = []string{quickValues[k%len(quickValues)]}
				}
				compareQuick(t, quick, slow, big, 0)
			}
		}
	}
}

func cloneQuickRequest(r cassette.Request) cassette.Request {
	r.Headers = r.Headers.Clone()
	if r.Headers == nil {
		r.Headers = http.Header{}
	}
	if r.Form != nil {
		f := make(map[string][]string, len(r.Form))
		for k, v := range r.Form {
			f[k] = append([]string(nil), v...)
		}
		r.Form = f
	}
	return r
}

func compareQuick(t *testing.T, quick, slow Redactor, req cassette.Request, pass int) {
	t.Helper()
	got, want := cloneQuickRequest(req), cloneQuickRequest(req)
	quick.Request(&got)
	slowRequest(slow, &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pass %d: request %+v redacts to\n%+v, slowly to\n%+v", pass, req, got, want)
	}
	resp := cassette.Response{Code: 200, Body: req.Body, Headers: req.Headers.Clone(), ContentLength: int64(len(req.Body))}
	gotResp, wantResp := resp, resp
	gotResp.Headers, wantResp.Headers = resp.Headers.Clone(), resp.Headers.Clone()
	quick.Response(&gotResp)
	slowResponse(slow, &wantResp)
	if !reflect.DeepEqual(gotResp, wantResp) {
		t.Fatalf("pass %d: response %+v redacts to\n%+v, slowly to\n%+v", pass, resp, gotResp, wantResp)
	}
}

// FuzzQuickRedact: a request made of a fuzzed URL, header and body redacts as slowly, twice in
// a row (the second time azure-ids has learned from it).
func FuzzQuickRedact(f *testing.F) {
	for i, req := range quickRequests() {
		for name, vals := range req.Headers {
			f.Add(req.URL, name, vals[0], req.Body)
			break
		}
		if i > 60 {
			break
		}
	}
	f.Fuzz(func(t *testing.T, u, name, value, body string) {
		quick, slow := DefaultRules(), DefaultRules()
		req := cassette.Request{Method: "PUT", URL: u, Body: body, ContentLength: int64(len(body)),
			Headers: http.Header{name: {value}, "X-Ms-Documentdb-Partitionkey": {value}, "Authorization": {value, quickAuth}}}
		compareQuick(t, quick, slow, req, 0)
		compareQuick(t, quick, slow, req, 1)
		swapped := cassette.Request{Method: "GET", URL: value, Body: u, Headers: http.Header{name: {body}}}
		compareQuick(t, quick, slow, swapped, 2)
	})
}

// quickRules are the default value rules that have quick tests.
func quickRules(t testing.TB) []quickRule {
	var out []quickRule
	for _, r := range DefaultRules() {
		if q, ok := r.(quickRule); ok {
			out = append(out, q)
		}
	}
	if len(out) == 0 {
		t.Fatal("no default rule has quick tests")
	}
	return out
}

// checkQuickTests fails if a quick test says a rule leaves a value alone that it edits.
func checkQuickTests(t *testing.T, rules []quickRule, p place, name, text string) {
	t.Helper()
	for _, r := range rules {
		v := value{place: p, name: name, text: text}
		r.redactValue(&v)
		if len(v.edits) == 0 {
			continue
		}
		if r.idle()&(1<<p) != 0 {
			t.Errorf("%s is idle at place %d but edits %q=%q: %v", r.Name(), p, name, text, v.edits)
		}
		if r.leaves(p, name, text) {
			t.Errorf("%s leaves %q=%q at place %d but edits it: %v", r.Name(), name, text, p, v.edits)
		}
	}
}

func TestQuickTests(t *testing.T) {
	rules := quickRules(t)
	for p := range numPlaces {
		for _, name := range append(quickNames, "", "password", "primaryMasterKey", "AccountKey", "access_token", "_token") {
			for _, text := range quickValues {
				checkQuickTests(t, rules, place(p), name, text)
			}
		}
	}
}

// FuzzQuickTests: no quick test says a rule leaves alone a value it edits.
func FuzzQuickTests(f *testing.F) {
	for i, v := range quickValues {
		f.Add(byte(i), quickNames[i%len(quickNames)], v)
	}
	rules := quickRules(f)
	f.Fuzz(func(t *testing.T, p byte, name, text string) {
		checkQuickTests(t, rules, place(int(p)%numPlaces), name, text)
	})
}

// TestShortestSecret: the detectors find nothing shorter than secrets.MinSecretLen but by its name.
func TestShortestSecret(t *testing.T) {
	for _, v := range quickValues {
		for n := 0; n < secrets.MinSecretLen && n <= len(v); n++ {
			for _, s := range []string{v[:n], v[len(v)-n:]} {
				if m := secrets.FindValue("", s); len(m) > 0 {
					t.Errorf("secrets.FindValue finds %v in %q, shorter than %d", m, s, secrets.MinSecretLen)
				}
			}
		}
	}
}

// TestGUIDShape holds hasGUIDShape to the regular expression of a GUID.
func TestGUIDShape(t *testing.T) {
	re := regexp.MustCompile(guid)
	texts := append([]string{strings.Repeat("-", 40), "0000000-0000-0000-0000-000000000000", "x" + ZeroGUID + "x", ZeroGUID[:35]}, quickValues...)
	texts = append(texts, quickURLs...)
	for _, s := range texts {
		for _, c := range []string{s, strings.ReplaceAll(s, "a", "g"), strings.ToUpper(s), s[min(len(s), 3):]} {
			if got, want := hasGUIDShape(c), re.MatchString(c); got != want {
				t.Errorf("hasGUIDShape(%q) = %v, want %v", c, got, want)
			}
		}
	}
}

// FuzzGUIDShape holds hasGUIDShape to the regular expression of a GUID.
func FuzzGUIDShape(f *testing.F) {
	f.Add("/subscriptions/" + probeSub + "/x")
	f.Add(ZeroGUID[:30] + "-" + ZeroGUID)
	re := regexp.MustCompile(guid)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := hasGUIDShape(s), re.MatchString(s); got != want {
			t.Errorf("hasGUIDShape(%q) = %v, want %v", s, got, want)
		}
	})
}

// TestLearnableMatchesSlow holds learnable's own decoding to url.QueryUnescape.
func TestLearnableMatchesSlow(t *testing.T) {
	texts := append(append([]string{"%", "%4", "%G1", "tenants%2f", "tenants%2F", "%22tid%22", "subscriptions%2", "+tenants/",
		strings.Repeat("%41", 300) + "tenants%2F"}, quickValues...), quickURLs...)
	for _, s := range texts {
		if got, want := learnable(s), slowLearnable(s); got != want {
			t.Errorf("learnable(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzLearnable(f *testing.F) {
	for _, s := range []string{"%", "tenants%2F", "%22tid%22", "https%3A%2F%2Flogin.microsoftonline.com%2Fx", "a+b%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := learnable(s), slowLearnable(s); got != want {
			t.Errorf("learnable(%q) = %v, want %v", s, got, want)
		}
		if decoded, err := url.QueryUnescape(s); err == nil {
			var buf [8]byte
			if got, ok := queryUnescape(buf[:0], s); !ok || string(got) != decoded {
				t.Errorf("queryUnescape(%q) = %q, %v; want %q", s, got, ok, decoded)
			}
		} else if _, ok := queryUnescape(nil, s); ok {
			t.Errorf("queryUnescape(%q) decodes where url.QueryUnescape fails: %v", s, err)
		}
	})
}

// TestLearnIDHintsDecode: learnable looks only at the decoded text of a text that decodes,
// which holds every hint the text does as long as no hint holds "%" or "+" or starts with a hex
// digit.
func TestLearnIDHintsDecode(t *testing.T) {
	for _, h := range learnIDHints.subs {
		if strings.ContainsAny(h, "%+") || jsonlex.IsHex(h[0]) {
			t.Errorf("hint %q holds %% or + or starts with a hex digit", h)
		}
	}
}

// swapHeaders puts a new header with a cookie and a date in place of a message's header.
type swapHeaders struct{}

func (swapHeaders) Name() string                        { return "swap-headers" }
func (swapHeaders) RedactRequest(r *cassette.Request)   { r.Headers = swapped(r.Headers) }
func (swapHeaders) RedactResponse(r *cassette.Response) { r.Headers = swapped(r.Headers) }

func swapped(h http.Header) http.Header {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	h["Cookie"] = []string{"c=" + quickKey}
	h["X-Ms-Date"] = []string{"now " + probeSub}
	return h
}
