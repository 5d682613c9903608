package account_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/keystore"
)

// checkOf finds one check of a report.
func checkOf(t *testing.T, rep *account.DoctorReport, area, name string) account.Check {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Area == area && c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s check %q in %+v", area, name, rep.Checks)
	return account.Check{}
}

func TestDoctorOnAHealthySetup(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"})
	w.add(config.Account{Name: "cap", Service: account.Capillary, URL: w.sb.CapillaryURL, Brand: "b", DeviceID: "d", IdentifierType: "MOBILE", Identifier: "1"})
	rep := w.mgr.Doctor(context.Background(), account.DoctorOptions{Getenv: func(string) string { return "" }, OSRelease: "6.1.0-generic"})
	if rep.Problems != 0 {
		t.Fatalf("problems on a healthy setup: %+v", rep.Checks)
	}
	if c := checkOf(t, rep, "account mm", "version"); c.Detail != "11.10.0" { // the sandbox answers as Mattermost 11.10
		t.Fatalf("mattermost version: %+v", c)
	}
	if c := checkOf(t, rep, "account rc", "version"); c.Status != account.CheckOK || c.Detail == "" {
		t.Fatalf("rocket.chat version: %+v", c)
	}
	for _, a := range []string{"account mm", "account rc", "account cap"} {
		for _, n := range []string{"reachable", "clock", "TLS"} {
			if c := checkOf(t, rep, a, n); c.Status != account.CheckOK {
				t.Errorf("%s %s: %+v", a, n, c)
			}
		}
	}
	if c := checkOf(t, rep, "config", "config file"); c.Status != account.CheckOK || !strings.Contains(c.Detail, "0600") {
		t.Fatalf("config file: %+v", c)
	}
}

func TestDoctorOnABrokenSetup(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	// A server nobody listens on, a config file others can read, and a
	// server clock two minutes ahead.
	w.add(config.Account{Name: "gone", Service: account.Mattermost, URL: "http://127.0.0.1:1", User: "x"})
	if err := os.Chmod(w.cfg.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	w.sb.Env.Clock.Advance(2 * time.Minute)
	rep := w.mgr.Doctor(context.Background(), account.DoctorOptions{Getenv: func(string) string { return "" }, OSRelease: "6.1.0"})
	if rep.Problems != 3 {
		t.Fatalf("want 3 problems, got %d: %+v", rep.Problems, rep.Checks)
	}
	c := checkOf(t, rep, "account gone", "reachable")
	if c.Status != account.CheckProblem || !strings.Contains(c.Fix, "check the URL") {
		t.Fatalf("unreachable: %+v", c)
	}
	c = checkOf(t, rep, "config", "config file")
	if c.Status != account.CheckProblem || !strings.Contains(c.Detail, "mode 0644") || c.Fix != "chmod 600 "+w.cfg.Path {
		t.Fatalf("config mode: %+v", c)
	}
	c = checkOf(t, rep, "account mm", "clock")
	if c.Status != account.CheckProblem || !regexp.MustCompile(`(1m59s|2m0s|2m1s) off`).MatchString(c.Detail) || !strings.Contains(c.Fix, "timedatectl") {
		t.Fatalf("clock skew: %+v", c)
	}
}

// namedStore is a memory store that calls itself the keyring.
type namedStore struct {
	keystore.Backend
	name string
}

func (n namedStore) Name() string { return n.name }

func TestDoctorKeyringLockedUnderWSLAndFileStoreModes(t *testing.T) {
	dir := t.TempDir()
	cf := config.Open(filepath.Join(dir, "config.json"))
	ctx := context.Background()
	kr := account.New(cf, keystore.NewVault(namedStore{keystore.NewMemory(), keystore.KindKeyring}, cf), account.Options{})
	env := map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}
	rep := kr.Doctor(ctx, account.DoctorOptions{Getenv: func(k string) string { return env[k] },
		Keyring: func(context.Context) keystore.KeyringProbe {
			return keystore.KeyringProbe{DBus: true, Locked: true, LockKnown: true}
		}})
	if c := checkOf(t, rep, "store", "collection"); c.Status != account.CheckProblem || !strings.Contains(c.Fix, "unlock") {
		t.Fatalf("locked collection: %+v", c)
	}
	if c := checkOf(t, rep, "store", "WSL"); c.Status != account.CheckWarning || !strings.Contains(c.Detail, "Credential Manager") || !strings.Contains(c.Fix, "--store file") {
		t.Fatalf("WSL: %+v", c)
	}
	rep = kr.Doctor(ctx, account.DoctorOptions{Getenv: func(string) string { return "" }, OSRelease: "5.15.0-microsoft-standard-WSL2",
		Keyring: func(context.Context) keystore.KeyringProbe {
			return keystore.KeyringProbe{DBus: true, Session: "DBUS_SESSION_BUS_ADDRESS is not set"}
		}})
	if c := checkOf(t, rep, "store", "D-Bus session"); c.Status != account.CheckProblem || !strings.Contains(c.Fix, "dbus-run-session") {
		t.Fatalf("no session: %+v", c)
	}
	checkOf(t, rep, "store", "WSL")

	storeFile := filepath.Join(dir, "secrets.enc")
	os.WriteFile(storeFile, []byte("x"), 0o640)
	fs := account.New(cf, keystore.NewVault(keystore.NewFile(storeFile, nil), cf), account.Options{})
	rep = fs.Doctor(ctx, account.DoctorOptions{Getenv: func(string) string { return "" }, OSRelease: "6.1"})
	c := checkOf(t, rep, "store", "store file")
	if c.Status != account.CheckProblem || c.Fix != "chmod 600 "+storeFile || rep.Problems != 1 {
		t.Fatalf("store file mode: %+v (%d problems)", c, rep.Problems)
	}
	os.Chmod(storeFile, 0o600)
	rep = fs.Doctor(ctx, account.DoctorOptions{Getenv: func(string) string { return "" }, OSRelease: "6.1"})
	if c := checkOf(t, rep, "store", "store file"); c.Status != account.CheckOK || rep.Problems != 0 {
		t.Fatalf("store file 0600: %+v %s", c, fmt.Sprint(rep.Checks))
	}
}

func TestDoctorTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Version-Id", "11.10.0..abc.false")
		w.Write([]byte(`{"status":"OK"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	cf := config.Open(filepath.Join(dir, "config.json"))
	m := account.New(cf, keystore.NewVault(keystore.NewMemory(), cf), account.Options{Timeout: 5 * time.Second})
	ctx := context.Background()
	for _, a := range []config.Account{
		{Name: "untrusted", Service: account.Mattermost, URL: srv.URL, User: "x"},
		{Name: "trusted", Service: account.Mattermost, URL: srv.URL, User: "x", CAFile: ca},
	} {
		if _, err := m.Add(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	rep := m.Doctor(ctx, account.DoctorOptions{Getenv: func(string) string { return "" }, OSRelease: "6.1"})
	c := checkOf(t, rep, "account untrusted", "TLS")
	if c.Status != account.CheckProblem || !strings.Contains(c.Fix, "CA file") {
		t.Fatalf("untrusted certificate: %+v", c)
	}
	c = checkOf(t, rep, "account trusted", "TLS")
	if c.Status != account.CheckOK || !strings.Contains(c.Detail, "verified, TLS 1.3, certificate valid until") {
		t.Fatalf("trusted certificate: %+v", c)
	}
	if c := checkOf(t, rep, "account trusted", "version"); c.Detail != "11.10.0" {
		t.Fatalf("version: %+v", c)
	}
	if rep.Problems != 1 {
		t.Fatalf("problems: %d, want 1: %+v", rep.Problems, rep.Checks)
	}
}
