package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newTestCA(t testing.TB) *CA {
	t.Helper()
	ca, created, err := InitCA(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("InitCA in an empty directory reported no new CA")
	}
	return ca
}

func readPEMCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, rest := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%s: want exactly one CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInitCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "azvcr") // InitCA creates missing parents
	ca, created, err := InitCA(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("first InitCA: created = false")
	}
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	if ca.Dir != dir || ca.CertPath != certPath {
		t.Errorf("Dir, CertPath = %q, %q; want %q, %q", ca.Dir, ca.CertPath, dir, certPath)
	}

	st, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %04o, want 0600", st.Mode().Perm())
	}
	if st, err := os.Stat(certPath); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("cert stat = %v, %v; want mode 0644", st, err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("dir stat = %v, %v; want mode 0700", st, err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}

	cert := readPEMCert(t, certPath)
	if !cert.IsCA || !cert.BasicConstraintsValid {
		t.Error("certificate is not a CA")
	}
	if cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Error("CA certificate cannot sign certificates")
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("public key is %T, want ECDSA", cert.PublicKey)
	}
	if pub.Curve != elliptic.P256() {
		t.Errorf("curve = %s, want P-256", pub.Curve.Params().Name)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Errorf("CA is not self-signed: %v", err)
	}
	if !bytes.Equal(ca.Certificate().Raw, cert.Raw) {
		t.Error("Certificate() differs from the file")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool()}); err != nil {
		t.Errorf("CA does not verify against its own pool: %v", err)
	}

	keyData, _ := os.ReadFile(keyPath)
	kb, _ := pem.Decode(keyData)
	if kb == nil || kb.Type != "EC PRIVATE KEY" {
		t.Fatalf("key file is not an EC PRIVATE KEY PEM")
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(pub) {
		t.Error("key file does not match the certificate")
	}

	// Without force the existing CA is kept: clients already trust it.
	again, created, err := InitCA(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("second InitCA without force: created = true")
	}
	if !bytes.Equal(again.Certificate().Raw, cert.Raw) || !bytes.Equal(readPEMCert(t, certPath).Raw, cert.Raw) {
		t.Error("second InitCA without force replaced the certificate")
	}

	// With force it is replaced.
	forced, created, err := InitCA(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("InitCA with force: created = false")
	}
	if bytes.Equal(forced.Certificate().Raw, cert.Raw) || bytes.Equal(readPEMCert(t, certPath).Raw, cert.Raw) {
		t.Error("InitCA with force kept the old certificate")
	}
	if st, _ := os.Stat(keyPath); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode after force = %04o, want 0600", st.Mode().Perm())
	}
	loaded, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(loaded.Certificate().Raw, forced.Certificate().Raw) {
		t.Error("LoadCA after force returned another certificate")
	}
}

func TestLoadCARefusesReadableKey(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		ca := newTestCA(t)
		keyPath := filepath.Join(ca.Dir, CAKeyFile)
		if err := os.Chmod(keyPath, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCA(ca.Dir)
		if err == nil {
			t.Fatalf("LoadCA accepted a key with mode %04o", mode)
		}
		if !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), keyPath) {
			t.Errorf("mode %04o: error %q should say chmod 600 and name %s", mode, err, keyPath)
		}
		// InitCA without force must not silently replace a CA that clients may trust.
		if _, _, err := InitCA(ca.Dir, false); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: InitCA without force = %v, want the chmod error", mode, err)
		}
		if err := os.Chmod(keyPath, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCA(ca.Dir); err != nil {
			t.Errorf("after chmod 600: %v", err)
		}
	}
}

func TestLoadCAErrors(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		_, err := LoadCA(t.TempDir())
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want not-exist", err)
		}
	})
	t.Run("not PEM", func(t *testing.T) {
		ca := newTestCA(t)
		if err := os.WriteFile(ca.CertPath, []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCA(ca.Dir)
		if err == nil || !strings.Contains(err.Error(), "not PEM") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not a CA", func(t *testing.T) {
		ca := newTestCA(t)
		lc, err := NewLeaves(ca)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := lc.Certificate("leaf.example")
		if err != nil {
			t.Fatal(err)
		}
		data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]})
		if err := os.WriteFile(ca.CertPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = LoadCA(ca.Dir)
		if err == nil || !strings.Contains(err.Error(), "is not a CA") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestDefaultCADir(t *testing.T) {
	want := filepath.Join(t.TempDir(), "custom")
	t.Setenv(CADirEnv, want)
	got, err := DefaultCADir()
	if err != nil || got != want {
		t.Errorf("DefaultCADir() = %q, %v; want %q", got, err, want)
	}

	t.Setenv(CADirEnv, "")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(t.TempDir(), "xdg")) // Linux; elsewhere HOME-based
	base, err := os.UserConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	got, err = DefaultCADir()
	if err != nil || got != filepath.Join(base, "azvcr") {
		t.Errorf("DefaultCADir() without %s = %q, %v; want %q", CADirEnv, got, err, filepath.Join(base, "azvcr"))
	}
}
