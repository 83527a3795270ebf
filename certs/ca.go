package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/azvcr/azvcr/internal/hostport"
)

// CA file names inside the CA directory.
const (
	CACertFile = "ca.pem"
	CAKeyFile  = "ca-key.pem"
)

// CADirEnv overrides the default CA directory.
const CADirEnv = "AZVCR_CA_DIR"

// CA is azvcr's own certificate authority, created once per install. It signs the per-host leaf
// certificates that clients see while azvcr intercepts their TLS.
type CA struct {
	Dir      string
	CertPath string
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	certDER  []byte
}

// DefaultCADir is $AZVCR_CA_DIR, else azvcr/ under the user's config directory.
func DefaultCADir() (string, error) {
	if d := os.Getenv(CADirEnv); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory (set %s): %w", CADirEnv, err)
	}
	return filepath.Join(base, "azvcr"), nil
}

// InitCA creates a new CA in dir. An existing CA is kept unless force is set, because clients
// already trust it. It reports whether a new CA was written.
func InitCA(dir string, force bool) (*CA, bool, error) {
	if !force {
		if ca, err := LoadCA(dir); err == nil {
			return ca, false, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, false, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, false, err
	}
	host, _ := os.Hostname()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"azvcr"}, CommonName: "azvcr local CA (" + host + ")"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, false, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, false, err
	}
	// The key is written first and only its owner may read it.
	if err := writeFileMode(filepath.Join(dir, CAKeyFile), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, false, err
	}
	if err := writeFileMode(filepath.Join(dir, CACertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, false, err
	}
	ca, err := LoadCA(dir)
	return ca, err == nil, err
}

func writeFileMode(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil { // umask may have narrowed or widened nothing; be exact
		return err
	}
	return os.Rename(tmp, path)
}

// LoadCA reads the CA in dir. A key file that others can read is refused.
func LoadCA(dir string) (*CA, error) {
	keyPath := filepath.Join(dir, CAKeyFile)
	certPath := filepath.Join(dir, CACertFile)
	st, err := os.Stat(keyPath)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("CA key %s is readable by others (mode %04o); run: chmod 600 %s", keyPath, st.Mode().Perm(), keyPath)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	kb, _ := pem.Decode(keyPEM)
	cb, _ := pem.Decode(certPEM)
	if kb == nil || cb == nil {
		return nil, fmt.Errorf("CA in %s: not PEM; recreate it with: azvcr ca init --force", dir)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA key %s: %w", keyPath, err)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA certificate %s: %w", certPath, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("CA certificate %s is not a CA", certPath)
	}
	return &CA{Dir: dir, CertPath: certPath, cert: cert, key: key, certDER: cb.Bytes}, nil
}

// Certificate returns the CA certificate, for clients that build their own trust pool.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// Pool is a cert pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// leafValidity is short: leaves live in memory only and are minted again per process.
const leafValidity = 7 * 24 * time.Hour

// mintLeaf signs a certificate for host (a DNS name or an IP address) with key.
func (ca *CA) mintLeaf(host string, key *ecdsa.PrivateKey) (*tls.Certificate, error) {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{Organization: []string{"azvcr"}, CommonName: host},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := hostport.ParseIP(host); ip != nil {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		if ip.IsLoopback() {
			// Some proxy agents (Node's https-proxy-agent) verify a tunnel to a loopback IP against
			// the name "localhost"; naming it too keeps them working unmodified.
			tmpl.DNSNames = append(tmpl.DNSNames, "localhost")
		}
	} else {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.certDER}, PrivateKey: key, Leaf: leaf}, nil
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}
