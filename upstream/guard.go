package upstream

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/azvcr/azvcr/internal/hostport"
)

// Refusal is the error a Guard returns instead of connecting. Whoever answers the client turns it
// into an HTTP answer with Status and Message, and records nothing.
type Refusal struct {
	Status  int
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Guard forwards to Next only requests whose host the allow-list names and that are not
// addressed to azvcr itself. It is what keeps azvcr from being an open proxy or a loop.
type Guard struct {
	Next   http.RoundTripper
	Allow  *AllowList
	IsSelf func(hostport string) bool // nil: no self check
}

// RoundTrip implements http.RoundTripper.
func (g *Guard) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := g.Check(withPort(r.URL)); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	return g.Next.RoundTrip(r)
}

// Check reports the Refusal for a host that may not be contacted, or nil.
func (g *Guard) Check(host string) *Refusal {
	if g.Allow != nil && !g.Allow.Allows(host) {
		return &Refusal{Status: http.StatusForbidden, Message: NotAllowedMessage(host)}
	}
	if g.IsSelf != nil && g.IsSelf(host) {
		return selfRefusal()
	}
	return nil
}

func selfRefusal() *Refusal {
	return &Refusal{Status: http.StatusLoopDetected, Message: "azvcr: refusing to forward a request to itself"}
}

// withPort is the URL's host:port, the scheme's default port filled in.
func withPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if strings.EqualFold(u.Scheme, "https") {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// NotAllowedMessage explains a refused host and how to allow it.
func NotAllowedMessage(host string) string {
	return fmt.Sprintf("azvcr: %s is not an allowed upstream; azvcr forwards only to %s and hosts given with --allow-host\n",
		hostport.StripPort(host), strings.Join(DefaultAllowedHosts, ", "))
}
