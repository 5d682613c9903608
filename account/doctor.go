package account

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"keyturn/client"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/textsafe"
)

// What a check found.
const (
	CheckOK      = "ok"
	CheckWarning = "warning" // worth knowing; not a problem
	CheckProblem = "problem" // something to fix
)

// Check is one thing doctor looked at.
type Check struct {
	Area   string `json:"area"`  // "store", "config" or "account NAME"
	Name   string `json:"check"` // what was checked
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"` // what to do, for a warning or a problem
}

// DoctorReport is every check, in order.
type DoctorReport struct {
	Checks   []Check `json:"checks"`
	Problems int     `json:"problems"`
	Warnings int     `json:"warnings"`
}

// DoctorOptions let tests stand in for the machine.
type DoctorOptions struct {
	Getenv    func(string) string // nil: os.Getenv
	OSRelease string              // the kernel release; "" reads it (Linux)
	// Keyring probes the OS keyring; nil: keystore.ProbeKeyring.
	Keyring func(context.Context) keystore.KeyringProbe
}

// Clock skew limits: TOTP codes are 30-second steps, and servers accept
// about one step either side.
const (
	skewWarn    = 10 * time.Second
	skewProblem = 30 * time.Second
	// certWarn is how soon a server certificate's expiry is worth saying.
	certWarn = 14 * 24 * time.Hour
)

// Doctor checks the store, the config file and every account's server, and
// says for each problem what to do. Nothing secret is read.
func (m *Manager) Doctor(ctx context.Context, o DoctorOptions) *DoctorReport {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Keyring == nil {
		o.Keyring = keystore.ProbeKeyring
	}
	rep := &DoctorReport{}
	rep.Checks = append(rep.Checks, m.storeChecks(ctx, o)...)
	rep.Checks = append(rep.Checks, m.configChecks()...)
	rep.Checks = append(rep.Checks, m.serverChecks(ctx)...)
	for _, c := range rep.Checks {
		switch c.Status {
		case CheckProblem:
			rep.Problems++
		case CheckWarning:
			rep.Warnings++
		}
	}
	return rep
}

func ok(area, name, detail string) Check {
	return Check{Area: area, Name: name, Status: CheckOK, Detail: detail}
}
func problem(area, name, detail, fix string) Check {
	return Check{Area: area, Name: name, Status: CheckProblem, Detail: textsafe.Line(detail), Fix: fix}
}
func warning(area, name, detail, fix string) Check {
	return Check{Area: area, Name: name, Status: CheckWarning, Detail: textsafe.Line(detail), Fix: fix}
}

// storeChecks looks at the chosen store: the keyring's bus, service and
// collection, the file store's path and modes, and WSL.
func (m *Manager) storeChecks(ctx context.Context, o DoctorOptions) []Check {
	backend := m.vault.Backend()
	out := []Check{ok("store", "backend", "secrets go to the "+backend+" store")}
	wsl := detectWSL(o)
	switch backend {
	case keystore.KindKeyring:
		out = append(out, m.keyringChecks(ctx, o)...)
		if wsl {
			out = append(out, warning("store", "WSL", "running under WSL: the Windows Credential Manager is not reachable from here; the keyring is a Secret Service inside WSL, which needs a D-Bus session and a keyring daemon started and unlocked in each session",
				"start one with 'dbus-run-session -- bash' and 'gnome-keyring-daemon --unlock', or use the file store (--store file)"))
		}
	case keystore.KindFile:
		out = append(out, fileModeChecks("store", "store file", m.vault.FilePath())...)
		if wsl {
			out = append(out, ok("store", "WSL", "running under WSL: the file store needs no keyring daemon"))
		}
	case keystore.KindMemory:
		out = append(out, warning("store", "memory", "the memory store keeps nothing after keyturn exits", "choose the keyring or the file store (--store)"))
	default:
		if _, err := m.vault.Get(ctx, doctorProbeName); err != nil && !errors.Is(err, keystore.ErrNotFound) {
			out = append(out, problem("store", "answers", err.Error(), "see the message; 'keyturn --help' lists the stores"))
		} else {
			out = append(out, ok("store", "answers", "the store answered a read"))
		}
	}
	return out
}

// doctorProbeName is read (never written) to see that a store answers.
const doctorProbeName = "keyturn-doctor/probe"

func (m *Manager) keyringChecks(ctx context.Context, o DoctorOptions) []Check {
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	p := o.Keyring(pctx)
	if !p.DBus {
		return m.keyringAnswers(ctx)
	}
	if p.Session != "" {
		return []Check{problem("store", "D-Bus session", p.Session,
			"start a desktop session, or run keyturn inside 'dbus-run-session' with an unlocked keyring daemon, or use --store file")}
	}
	out := []Check{ok("store", "D-Bus session", "a session bus is there")}
	if p.Service != "" {
		return append(out, problem("store", "Secret Service", p.Service, "start and unlock a keyring daemon (gnome-keyring, KeePassXC), or use --store file"))
	}
	out = append(out, ok("store", "Secret Service", "a Secret Service is on the bus"))
	if p.Locked {
		// A read now would wait on an unlock prompt nobody may see.
		return append(out, problem("store", "collection", "the keyring collection is locked",
			"unlock it in your keyring app, or with 'gnome-keyring-daemon --unlock' (it reads the password on stdin)"))
	}
	if p.LockKnown {
		out = append(out, ok("store", "collection", "unlocked"))
	} else {
		out = append(out, ok("store", "collection", "the Secret Service does not say whether it is locked; the read below tells"))
	}
	return append(out, m.keyringAnswers(ctx)...)
}

// keyringAnswers reads a name that is not there: a working keyring says
// "not found", within the store's timeout.
func (m *Manager) keyringAnswers(ctx context.Context) []Check {
	_, err := m.vault.Get(ctx, doctorProbeName)
	if err != nil && !errors.Is(err, keystore.ErrNotFound) {
		return []Check{problem("store", "answers", err.Error(), "see the message above; or use --store file")}
	}
	return []Check{ok("store", "answers", "the keyring answered a read")}
}

// detectWSL reports whether keyturn runs under the Windows Subsystem for Linux.
func detectWSL(o DoctorOptions) bool {
	if o.Getenv("WSL_DISTRO_NAME") != "" || o.Getenv("WSL_INTEROP") != "" {
		return true
	}
	rel := o.OSRelease
	if rel == "" && runtime.GOOS == "linux" {
		b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
		rel = string(b)
	}
	rel = strings.ToLower(rel)
	return strings.Contains(rel, "microsoft") || strings.Contains(rel, "wsl")
}

func (m *Manager) configChecks() []Check {
	return fileModeChecks("config", "config file", m.cfg.Path)
}

// fileModeChecks checks a private file keyturn keeps: the file 0600 (no
// access for others), its directory not writable by others, no link.
func fileModeChecks(area, what, path string) []Check {
	if path == "" {
		return nil
	}
	var out []Check
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		out = append(out, ok(area, what, path+" (not created yet)"))
	case err != nil:
		out = append(out, problem(area, what, err.Error(), "check the path and its permissions"))
	case fi.Mode()&fs.ModeSymlink != 0:
		out = append(out, problem(area, what, path+" is a symbolic link", "keyturn writes no file through a link: put the real file in its place"))
	case runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0:
		out = append(out, problem(area, what, fmt.Sprintf("%s has mode %04o: other users can read or change it", path, fi.Mode().Perm()),
			"chmod 600 "+ShellArg(path)))
	default:
		out = append(out, ok(area, what, fmt.Sprintf("%s (mode %04o)", path, fi.Mode().Perm())))
	}
	dir := filepath.Dir(path)
	if di, err := os.Stat(dir); err == nil && runtime.GOOS != "windows" && di.Mode().Perm()&0o022 != 0 {
		out = append(out, problem(area, what+" directory", fmt.Sprintf("%s has mode %04o: other users can add or swap files in it", dir, di.Mode().Perm()),
			"chmod 700 "+ShellArg(dir)))
	}
	return out
}

// serverChecks asks every account's server at once, without signing in.
func (m *Manager) serverChecks(ctx context.Context) []Check {
	cfg, err := m.cfg.Load()
	if err != nil {
		return []Check{problem("config", "accounts", err.Error(), "fix or move the config file")}
	}
	results := make([][]Check, len(cfg.Accounts))
	var wg sync.WaitGroup
	for i, a := range cfg.Accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = m.serverCheck(ctx, a)
		}()
	}
	wg.Wait()
	var out []Check
	for _, r := range results {
		out = append(out, r...)
	}
	return out
}

// prober is a service whose server answers a request without a
// credential and says its version there; doctor asks any other service's
// server for its base URL.
type prober interface {
	probePath() string
	version(res *client.Response) string
}

func (m *Manager) serverCheck(ctx context.Context, a config.Account) []Check {
	area := "account " + a.Name
	hc, err := m.httpClient(a)
	if err != nil {
		return []Check{problem(area, "server", err.Error(), "fix the account's URL: 'keyturn account remove "+a.Name+"' and add it again")}
	}
	path := "/"
	svc, _ := Lookup(a.Service)
	p, canProbe := svc.(prober)
	if canProbe {
		path = p.probePath()
	}
	sent := time.Now()
	res, err := hc.Do(ctx, &client.Request{Method: http.MethodGet, Path: path})
	got := time.Now()
	if err != nil {
		if tlsFailure(err) {
			return []Check{problem(area, "TLS", err.Error(), "if the server uses a private CA, give the account its CA file (ca_file); otherwise the certificate is wrong or expired: tell the server's admin")}
		}
		return []Check{problem(area, "reachable", err.Error(), "check the URL ("+a.URL+"), the network, a VPN or a proxy (HTTPS_PROXY)")}
	}
	out := []Check{ok(area, "reachable", fmt.Sprintf("%s answered HTTP %d in %s", a.URL, res.Status, got.Sub(sent).Round(time.Millisecond)))}
	out = append(out, tlsCheck(area, a, res, m.opts.Now()))
	if canProbe {
		if v := p.version(res); v != "" {
			out = append(out, ok(area, "version", textsafe.Line(v)))
		}
	}
	out = append(out, skewCheck(area, res, sent, got, m.opts.Now))
	return out
}

func tlsFailure(err error) bool {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var ve *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &rh) || errors.As(err, &ve)
}

func tlsCheck(area string, a config.Account, res *client.Response, now time.Time) Check {
	if res.TLS == nil {
		if a.InsecureHTTP {
			return warning(area, "TLS", "plain http to "+a.URL+": anyone on the path can read the tokens", "use https")
		}
		return ok(area, "TLS", "plain http to a loopback address")
	}
	detail := "verified, " + tls.VersionName(res.TLS.Version)
	if len(res.TLS.PeerCertificates) > 0 {
		until := res.TLS.PeerCertificates[0].NotAfter
		detail += ", certificate valid until " + until.UTC().Format("2006-01-02")
		if until.Sub(now) < certWarn {
			return warning(area, "TLS", detail, "the certificate expires soon: tell the server's admin")
		}
	}
	return ok(area, "TLS", detail)
}

// skewCheck compares the server's Date header with this clock at the
// middle of the request. TOTP codes depend on both agreeing.
func skewCheck(area string, res *client.Response, sent, got time.Time, now func() time.Time) Check {
	date, err := http.ParseTime(res.Header.Get("Date"))
	if err != nil {
		return warning(area, "clock", "the server sent no usable Date header: the clock could not be compared", "")
	}
	// now() may be shifted (tests): the middle of the request on its clock.
	local := now().Add(-got.Sub(sent) / 2)
	// Date is cut to the second: its middle is half a second on.
	skew := date.Add(500 * time.Millisecond).Sub(local).Round(time.Second)
	fix := "set the clock right (for example 'timedatectl set-ntp true', or 'w32tm /resync' on Windows); two-factor codes depend on it"
	switch abs := max(skew, -skew); {
	case abs >= skewProblem:
		return problem(area, "clock", fmt.Sprintf("this clock is %s off the server's: TOTP codes will be refused", abs), fix)
	case abs >= skewWarn:
		return warning(area, "clock", fmt.Sprintf("this clock is %s off the server's: TOTP codes may be refused", abs), fix)
	}
	return ok(area, "clock", fmt.Sprintf("within %s of the server's", max(skew, -skew)+time.Second))
}
