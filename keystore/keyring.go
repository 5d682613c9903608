package keystore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// KeyringService is the service name under which every keyturn secret is
// stored in the OS keyring; the user (account) field is the secret's name.
const KeyringService = "keyturn"

// DefaultKeyringTimeout bounds each keyring call unless KEYTURN_KEYRING_TIMEOUT says otherwise.
const DefaultKeyringTimeout = 5 * time.Second

const keyringHint = "unlock your keyring"

// provider is the slice of go-keyring that the backend uses; tests swap in fakes.
type provider interface {
	Set(service, user, password string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

type osProvider struct{}

func (osProvider) Set(s, u, p string) error        { return gokeyring.Set(s, u, p) }
func (osProvider) Get(s, u string) (string, error) { return gokeyring.Get(s, u) }
func (osProvider) Delete(s, u string) error        { return gokeyring.Delete(s, u) }

type keyringBackend struct {
	p       provider
	timeout time.Duration
	goos    string
	// preflight reports, before any D-Bus traffic, that there is no session
	// bus to talk to (so that godbus does not autolaunch a stray dbus-daemon).
	preflight func() error
	// list names what the keyring holds under a service (listKeyring);
	// tests swap in fakes.
	list func(service string) ([]string, error)
	// diagnose says, after a failure or a timeout, why the keyring is not
	// answering ("collection locked", "no Secret Service"); "" if unknown.
	diagnose func(ctx context.Context) string
}

// KeyringTimeout reads KEYTURN_KEYRING_TIMEOUT ("10s", "1m", or a number of
// seconds). Unset means DefaultKeyringTimeout; a bad or non-positive value is
// an error (NewKeyring then uses the default, so the CLI should report it).
func KeyringTimeout() (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(EnvKeyringTimeout))
	if v == "" {
		return DefaultKeyringTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, err2 := strconv.ParseFloat(v, 64)
		if err2 != nil {
			return DefaultKeyringTimeout, fmt.Errorf("%s=%q is not a duration (try 10s)", EnvKeyringTimeout, v)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d <= 0 {
		return DefaultKeyringTimeout, fmt.Errorf("%s=%q must be positive", EnvKeyringTimeout, v)
	}
	return d, nil
}

// NewKeyring returns the OS keyring backend (Secret Service on Linux and the
// BSDs, Keychain on macOS, Credential Manager on Windows) through
// github.com/zalando/go-keyring, under service "keyturn" with the secret's
// name as user. Each call runs in its own goroutine and gives up after
// timeout (0 means KEYTURN_KEYRING_TIMEOUT, else 5s) or when ctx is done:
// a locked collection waits for an unlock prompt that nobody may see.
//
// Errors are *StoreError wrapping ErrUnavailable (or ErrNotFound, ErrTooLarge)
// and the underlying error, naming the cause — no D-Bus session, no Secret
// Service, collection locked, timed out — and the way out.
//
// Values larger than the platform takes (about 3000 bytes on macOS, 2560 on
// Windows, 64 KiB here on Linux) are refused with ErrTooLarge before anything
// is written; they are not split.
func NewKeyring(timeout time.Duration) Backend {
	return newKeyring(osProvider{}, timeout)
}

func newKeyring(p provider, timeout time.Duration) *keyringBackend {
	if timeout <= 0 {
		timeout, _ = KeyringTimeout()
	}
	return &keyringBackend{p: p, timeout: timeout, goos: runtime.GOOS, preflight: sessionPreflight, diagnose: diagnoseSecretService, list: listKeyring}
}

func (k *keyringBackend) Name() string { return KindKeyring }

// maxKeyringValue is the longest value (in bytes) the platform's keyring
// takes for a secret called name, mirroring the checks go-keyring makes.
func maxKeyringValue(goos, service, name string) (limit int, what string) {
	switch goos {
	case "darwin":
		// go-keyring base64-encodes the value behind a prefix and sends
		// "add-generic-password -U -s SVC -a NAME -w VALUE\n" to security(1),
		// whose command line may not exceed 4096 bytes.
		overhead := len("add-generic-password -U -s  -a  -w \n") + shellQuotedLen(service) +
			shellQuotedLen(name) + len("go-keyring-base64:")
		b64 := 4096 - overhead
		if b64 < 0 {
			return 0, "the macOS keychain"
		}
		return b64 / 4 * 3, "the macOS keychain"
	case "windows":
		return 2560, "the Windows Credential Manager"
	default:
		// The Secret Service has no hard limit, but slows down with large
		// values; tokens are far smaller than this.
		return 64 << 10, "keyturn's keyring store"
	}
}

// shellQuotedLen is the length of s after go-keyring's shell quoting.
func shellQuotedLen(s string) int {
	if s == "" {
		return 2
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return len(s)
	}
	return 2 + len(s) + 4*strings.Count(s, "'")
}

type result struct {
	v   string
	err error
}

// call runs fn in a goroutine bounded by the timeout and ctx, and turns what
// comes back into a *StoreError.
func (k *keyringBackend) call(ctx context.Context, op, name string, fn func() (string, error)) (string, error) {
	fail := func(cause, hint string, err error) error {
		if hint == "" {
			hint = keyringHint
		}
		return &StoreError{Backend: KindKeyring, Op: op, Name: name, Cause: cause, Hint: hint, Other: KindFile, Err: err}
	}
	if name == "" && op != "list" {
		return "", &StoreError{Backend: KindKeyring, Op: op, Cause: "empty name", Err: errors.New("a secret needs a name")}
	}
	if err := ctx.Err(); err != nil {
		return "", &StoreError{Backend: KindKeyring, Op: op, Name: name, Cause: "cancelled", Err: err}
	}
	if k.preflight != nil {
		if err := k.preflight(); err != nil {
			return "", fail("no D-Bus session", "start a desktop session or `dbus-run-session` with an unlocked keyring daemon",
				withKind(ErrUnavailable, err))
		}
	}
	done := make(chan result, 1) // buffered: a call that returns after we gave up must not block
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err == nil {
			return r.v, nil
		}
		if errors.Is(r.err, gokeyring.ErrNotFound) {
			return "", notFound(KindKeyring, op, name)
		}
		if errors.Is(r.err, gokeyring.ErrSetDataTooBig) {
			return "", &StoreError{Backend: KindKeyring, Op: op, Name: name, Cause: "value too large for the OS keyring",
				Other: KindFile, Err: withKind(ErrTooLarge, r.err)}
		}
		cause, hint := classify(r.err)
		if cause == "" {
			cause = k.diagnoseBriefly(ctx)
		}
		if cause == "" {
			cause = "the keyring refused"
		}
		return "", fail(cause, hint, withKind(ErrUnavailable, r.err))
	case <-timer.C:
		cause := fmt.Sprintf("timed out after %s", k.timeout)
		if why := k.diagnoseBriefly(ctx); why != "" {
			cause += ": " + why
		} else {
			cause += ": the keyring did not answer (a locked collection may be waiting for an unlock prompt)"
		}
		if op == "set" || op == "delete" {
			cause += "; the keyring may still carry out this " + op + " once it is unlocked"
		}
		return "", fail(cause, "", withKind(ErrUnavailable, context.DeadlineExceeded))
	case <-ctx.Done():
		cause := "cancelled"
		if op == "set" || op == "delete" {
			cause += "; the keyring may still carry out this " + op + " once it answers"
		}
		return "", &StoreError{Backend: KindKeyring, Op: op, Name: name, Cause: cause, Err: ctx.Err()}
	}
}

func (k *keyringBackend) diagnoseBriefly(ctx context.Context) string {
	if k.diagnose == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return k.diagnose(ctx)
}

func (k *keyringBackend) Set(ctx context.Context, name, value string) error {
	if limit, what := maxKeyringValue(k.goos, KeyringService, name); len(value) > limit {
		return &StoreError{Backend: KindKeyring, Op: "set", Name: name,
			Cause: fmt.Sprintf("value is %d bytes and %s takes at most %d", len(value), what, limit),
			Other: KindFile, Err: ErrTooLarge}
	}
	_, err := k.call(ctx, "set", name, func() (string, error) {
		return "", k.p.Set(KeyringService, name, value)
	})
	return err
}

func (k *keyringBackend) Get(ctx context.Context, name string) (string, error) {
	return k.call(ctx, "get", name, func() (string, error) {
		return k.p.Get(KeyringService, name)
	})
}

func (k *keyringBackend) Delete(ctx context.Context, name string) error {
	_, err := k.call(ctx, "delete", name, func() (string, error) {
		return "", k.p.Delete(KeyringService, name)
	})
	return err
}

// List names the secrets keyturn keeps in the keyring, where the platform
// can tell (the Secret Service); elsewhere the error wraps
// errors.ErrUnsupported.
func (k *keyringBackend) List(ctx context.Context) ([]string, error) {
	if k.list == nil {
		return nil, &StoreError{Backend: KindKeyring, Op: "list", Cause: "listing is not supported here", Err: errors.ErrUnsupported}
	}
	var unsupported bool
	joined, err := k.call(ctx, "list", "", func() (string, error) {
		names, err := k.list(KeyringService)
		if errors.Is(err, errors.ErrUnsupported) {
			unsupported = true
			return "", nil
		}
		// Names never hold a newline (ValidName), so one joins them.
		return strings.Join(names, "\n"), err
	})
	if err != nil {
		return nil, err
	}
	if unsupported {
		return nil, &StoreError{Backend: KindKeyring, Op: "list", Cause: "this platform's keyring cannot list what it holds", Err: errors.ErrUnsupported}
	}
	if joined == "" {
		return nil, nil
	}
	return strings.Split(joined, "\n"), nil
}
