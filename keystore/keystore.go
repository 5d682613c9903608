// Package keystore is where keyturn's secrets live: the OS keyring (the
// default), an encrypted file for hosts without one, or memory for the demo
// and tests. A Vault pairs a Backend with the index of secrets kept in the
// config file, since not every backend can list what it holds (macOS and
// Windows keyrings cannot here); those that can are Listers, from which
// lost index entries are rebuilt.
//
// Values never appear in errors: every error names the backend, the
// operation and the secret's name, the cause and the way out.
package keystore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"keyturn/config"
)

// Environment variables read by this package (or meant for the CLI to read).
const (
	EnvStore          = "KEYTURN_STORE"           // keyring | file | pass | memory
	EnvStoreFile      = "KEYTURN_STORE_FILE"      // the file store's path
	EnvPassphrase     = "KEYTURN_FILE_PASSPHRASE" // the file store's passphrase
	EnvKeyringTimeout = "KEYTURN_KEYRING_TIMEOUT" // e.g. "10s" or "10"
)

// Backend kinds.
const (
	KindKeyring = "keyring"
	KindFile    = "file"
	KindMemory  = "memory"
)

// DisplayName is how both faces name a backend kind in sentences.
func DisplayName(kind string) string {
	switch kind {
	case KindKeyring:
		return "the keyring"
	case KindFile:
		return "the encrypted secrets file"
	case KindMemory:
		return "the memory store (gone when keyturn exits)"
	case "":
		return "the store"
	}
	return "the " + kind + " store"
}

var (
	// ErrNotFound means the secret is not in the store.
	ErrNotFound = errors.New("secret not found in the store")
	// ErrTooLarge means the value is larger than the backend can hold.
	ErrTooLarge = errors.New("secret value too large for this store")
	// ErrWrongPassphrase means the file store's passphrase does not open it.
	ErrWrongPassphrase = errors.New("wrong passphrase for the secrets file")
	// ErrDamaged means the file store cannot be read: truncated, changed or not a keyturn file.
	ErrDamaged = errors.New("secrets file is damaged")
	// ErrNoPassphrase means no passphrase was given for the file store.
	ErrNoPassphrase = errors.New("no passphrase for the secrets file")
	// ErrPassphraseMismatch means the passphrase for a new secrets file was
	// typed twice, differently: nothing is written.
	ErrPassphraseMismatch = errors.New("the two passphrases differ")
	// ErrUnavailable means the backend cannot be reached at all (no D-Bus
	// session, no Secret Service, locked collection, timeout).
	ErrUnavailable = errors.New("secret store unavailable")
)

// Backend is a raw value store: names to values, nothing else.
type Backend interface {
	// Name is "keyring", "file" or "memory" (or a test double's name).
	Name() string
	// Set stores value under name, replacing any previous value.
	Set(ctx context.Context, name, value string) error
	// Get returns the value stored under name, or an error wrapping ErrNotFound.
	Get(ctx context.Context, name string) (string, error)
	// Delete removes name, or returns an error wrapping ErrNotFound.
	Delete(ctx context.Context, name string) error
}

// Lister is a Backend that can name the secrets it holds, so that index
// entries lost in a crash can be rebuilt. List returns an error wrapping
// errors.ErrUnsupported where the platform's store cannot tell.
type Lister interface {
	List(ctx context.Context) ([]string, error)
}

// nameSetter is a Lister that can name what it holds as a set, unsorted:
// Vault.List checks every index entry against it, and sorting 10,000 names
// only to make a set of them was the one cost of `secret list` that grew
// faster than the list.
type nameSetter interface {
	nameSet(ctx context.Context) (map[string]bool, error)
}

// StoreError is what every backend returns when an operation fails. It never
// holds the value.
type StoreError struct {
	Backend string // "keyring", "file", "memory"
	Op      string // "set", "get", "delete"
	Name    string // the secret's name
	Cause   string // what went wrong, in words: "timed out after 5s", "no D-Bus session"
	Hint    string // the way out in words: "unlock your keyring"
	Other   string // a store kind that avoids this failure ("file"); each face says how to choose it
	Err     error  // the underlying error, also shown
}

func (e *StoreError) Error() string {
	var b strings.Builder
	b.WriteString(e.Backend)
	b.WriteString(" store: ")
	b.WriteString(e.Op)
	if e.Name != "" {
		b.WriteString(" ")
		b.WriteString(e.Name)
	}
	if e.Cause != "" {
		b.WriteString(": ")
		b.WriteString(e.Cause)
	}
	if e.Err != nil && !(e.Cause != "" && isSentinel(e.Err)) {
		if e.Cause != "" {
			b.WriteString(" (")
			b.WriteString(e.Err.Error())
			b.WriteString(")")
		} else {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *StoreError) Unwrap() error { return e.Err }

// isSentinel reports a bare sentinel of this package, which a cause already
// puts in words (the message does not repeat it; errors.Is still finds it).
func isSentinel(err error) bool {
	switch err {
	case ErrWrongPassphrase, ErrDamaged, ErrTooLarge, ErrNoPassphrase, ErrPassphraseMismatch, ErrUnavailable:
		return true
	}
	return false
}

func notFound(backend, op, name string) error {
	return &StoreError{Backend: backend, Op: op, Name: name, Err: ErrNotFound}
}

// MaxNameLen is the longest secret name ValidName accepts.
const MaxNameLen = 200

// ValidName checks a secret's name: letters, digits and . _ - / @ : % only,
// no leading or trailing slash, no empty or "."/".." path element, at most
// MaxNameLen characters. Examples: "prod/command/abc123", "work-mm/credential",
// "chat/pat/ci%20token" (see EscapeNamePart).
func ValidName(name string) error {
	bad := func(why string) error { return fmt.Errorf("invalid secret name %q: %s", name, why) }
	switch {
	case name == "":
		return errors.New("invalid secret name: empty")
	case len(name) > MaxNameLen:
		return fmt.Errorf("invalid secret name: %d characters, at most %d", len(name), MaxNameLen)
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return bad("starts or ends with a slash")
	}
	for _, r := range name {
		if r != '/' && r != escapeByte && (r >= utf8.RuneSelf || !plainNameByte(byte(r))) {
			return bad(fmt.Sprintf("%q is not allowed (use letters, digits and . _ - / @ : %%)", r))
		}
	}
	for _, part := range strings.Split(name, "/") {
		switch part {
		case "":
			return bad("has an empty part (//)")
		case ".", "..":
			return bad(`has a "." or ".." part`)
		}
	}
	return nil
}

// escapeByte starts an escape in a name part (EscapeNamePart). Names made
// before it was allowed cannot hold it, so they stay as they were.
const escapeByte = '%'

// plainNameByte reports whether c stands for itself in a name part.
func plainNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-@:", c) >= 0
}

// EscapeNamePart makes any text (a server's token name or id) one element
// of a valid secret name, different texts giving different elements: each
// byte but letters, digits and . _ - @ : becomes %XX, '%' itself included,
// and "." and ".." become %2E and %2E%2E. Text that was already a valid
// element, without '%', stays as it is. url.PathUnescape reads it back.
func EscapeNamePart(s string) string {
	if s == "." || s == ".." {
		return strings.Repeat("%2E", len(s))
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; plainNameByte(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// The one rule for what a fingerprint or a mask may show of a secret: at
// most FingerprintLen characters, and only of a part at least
// MinFingerprinted characters long, where 4 characters are a small share.
const (
	FingerprintLen   = 4
	MinFingerprinted = 16
)

// Fingerprint is what the index, the screens and the commands may show of a
// value: the last 4 characters of its last part (a value holding several
// codes, one a line or space apart, is judged by its last code, not by its
// total length). A part shorter than MinFingerprinted gets no fingerprint
// (""): 4 characters of it would give too much away.
func Fingerprint(value string) string {
	parts := strings.Fields(value)
	if len(parts) == 0 {
		return ""
	}
	last := []rune(parts[len(parts)-1])
	if len(last) < MinFingerprinted {
		return ""
	}
	return string(last[len(last)-FingerprintLen:])
}

// Choose picks the backend kind: the --store flag if given, else the
// KEYTURN_STORE value env, else what the config file remembers, else
// "keyring". "memory" is accepted only from the flag or env (the demo and
// tests ask for it explicitly). An unknown name is an error; there is no
// silent fallback to another backend.
func Choose(flag, env string, cfg *config.Config) (kind string, err error) {
	from, v := "", ""
	switch {
	case strings.TrimSpace(flag) != "":
		from, v = "--store", flag
	case strings.TrimSpace(env) != "":
		from, v = EnvStore, env
	case cfg != nil && strings.TrimSpace(cfg.Store) != "":
		from, v = "the config file's \"store\"", cfg.Store
	default:
		return KindKeyring, nil
	}
	kind = strings.ToLower(strings.TrimSpace(v))
	switch kind {
	case KindKeyring, KindFile, KindPass:
		return kind, nil
	case KindMemory:
		if from == "--store" || from == EnvStore {
			return kind, nil
		}
		return "", fmt.Errorf("%s says %q: the memory store is only for the demo and tests and is never remembered; use --store keyring or --store file", from, v)
	}
	return "", fmt.Errorf("unknown store %q from %s: use keyring, file or pass", v, from)
}

// DefaultFilePath is where the file store lives unless told otherwise:
// keyturn/secrets.enc in the user's config directory.
func DefaultFilePath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory (use --store-file or %s): %w", EnvStoreFile, err)
	}
	return filepath.Join(dir, "keyturn", "secrets.enc"), nil
}

// ChooseFile picks the file store's path: the --store-file flag, else
// KEYTURN_STORE_FILE (env), else what the config file remembers, else
// DefaultFilePath.
func ChooseFile(flag, env string, cfg *config.Config) (string, error) {
	switch {
	case flag != "":
		return flag, nil
	case env != "":
		return env, nil
	case cfg != nil && cfg.StoreFile != "":
		return cfg.StoreFile, nil
	}
	return DefaultFilePath()
}

// Options configure Open.
type Options struct {
	File       string                 // the file store's path (see ChooseFile)
	Passphrase func() ([]byte, error) // the file store's passphrase (e.g. PassphraseFromEnv, or a prompt)
	Timeout    time.Duration          // the keyring's per-call timeout; 0 = KEYTURN_KEYRING_TIMEOUT or 5s

	// AwaitUnlock, without Passphrase, opens the file store locked: its
	// passphrase comes from a dialog, through the vault's Unlocker.
	AwaitUnlock bool

	// Pass configures the pass store (its Timeout defaults to Timeout).
	Pass PassOptions
}

// Open returns the backend of the given kind (see Choose).
func Open(kind string, o Options) (Backend, error) {
	switch kind {
	case KindKeyring:
		return NewKeyring(o.Timeout), nil
	case KindFile:
		if o.File == "" {
			return nil, errors.New("file store: no file path")
		}
		if o.Passphrase == nil && o.AwaitUnlock {
			return NewLockedFile(o.File), nil
		}
		if o.Passphrase == nil {
			return nil, errors.New("file store: no way to get the passphrase")
		}
		return NewFile(o.File, o.Passphrase), nil
	case KindPass:
		po := o.Pass
		if po.Timeout <= 0 {
			po.Timeout = o.Timeout
		}
		p, err := NewPass(po)
		if err != nil {
			return nil, err
		}
		return p, nil
	case KindMemory:
		return NewMemory(), nil
	}
	return nil, fmt.Errorf("unknown store %q: use keyring, file or pass", kind)
}

// kindErr marks err as one of this package's sentinel errors (for errors.Is)
// while its message stays err's own.
type kindErr struct{ kind, err error }

func (e *kindErr) Error() string   { return e.err.Error() }
func (e *kindErr) Unwrap() []error { return []error{e.kind, e.err} }

func withKind(kind, err error) error { return &kindErr{kind: kind, err: err} }
