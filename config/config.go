// Package config reads and writes keyturn's config file: the accounts, the
// store that was chosen, and the index of stored secrets (names and metadata,
// never values).
//
// The file is JSON, mode 0600, in a 0700 directory. Every change goes through
// File.Update, which takes a sibling lock file, re-reads the file, applies the
// change and replaces the file atomically, so two keyturn processes never lose
// each other's updates. A file that does not parse is reported and never
// overwritten.
package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Version is the config file format this package writes.
const Version = 1

// EnvPath names the environment variable that overrides the config file path.
const EnvPath = "KEYTURN_CONFIG"

// maxSize caps how much of a config file is read; a config file is a few KiB.
const maxSize = 16 << 20

// ErrDamaged is wrapped by the error Load and Update return for a config file
// that cannot be parsed.
var ErrDamaged = errors.New("config file is damaged")

// ErrNewer is wrapped by the error Update returns for a config file written by
// a newer keyturn; it is not rewritten, so nothing it holds is dropped.
var ErrNewer = errors.New("config file was written by a newer keyturn")

// Config is the whole config file.
type Config struct {
	Version   int          `json:"version"`
	Store     string       `json:"store,omitempty"`      // "keyring" | "file", once chosen
	StoreFile string       `json:"store_file,omitempty"` // the file store's path, when not the default
	Accounts  []Account    `json:"accounts"`
	Secrets   []SecretMeta `json:"secrets"` // the index of stored secrets, never their values
	// Policies are the maximum ages of tokens, per kind and optionally
	// per account.
	Policies []Policy `json:"policies,omitempty"`
	// Consumers are where issued secrets are delivered after a rotation.
	Consumers []Consumer `json:"consumers,omitempty"`

	// extra keeps top-level fields this version does not know, so that a
	// rewrite by an older keyturn does not drop what a newer one wrote.
	extra map[string]json.RawMessage
}

// Account is one login on one server. It never holds a secret.
type Account struct {
	Name    string `json:"name"`
	Service string `json:"service"` // mattermost | rocketchat | capillary
	URL     string `json:"url"`
	User    string `json:"user,omitempty"`

	// Capillary extras.
	Brand          string `json:"brand,omitempty"`
	DeviceID       string `json:"device_id,omitempty"`
	IdentifierType string `json:"identifier_type,omitempty"`
	Identifier     string `json:"identifier,omitempty"`
	Region         string `json:"region,omitempty"`
	// MFA says whether a Capillary sign-in runs the MFA step: "auto" (or
	// "") when the first factor's role says MFA_PENDING, "on", "off".
	MFA string `json:"mfa,omitempty"`
	// Mobile and Email go with a Capillary USERNAME identifier.
	Mobile string `json:"mobile,omitempty"`
	Email  string `json:"email,omitempty"`

	InsecureHTTP bool   `json:"insecure_http,omitempty"` // allow plain http to a non-loopback host
	CAFile       string `json:"ca_file,omitempty"`

	// MFAUnconfirmed is when the server replaced the account's active TOTP
	// secret with one no code has confirmed yet (nil: none): the
	// authenticator's old entry no longer signs in.
	MFAUnconfirmed *time.Time `json:"mfa_unconfirmed,omitempty"`
	// Server is what keyturn learned of the server's behaviour, kept so it
	// is found out once; it is found out again when the version changes.
	Server *ServerFacts `json:"server,omitempty"`
}

// ServerFacts are capabilities keyturn learned from a server's answers.
type ServerFacts struct {
	Version string `json:"version,omitempty"` // the version they were learned on
	// UserTokenRotation is how Mattermost user tokens are rotated:
	// "in-place" (POST /users/tokens/rotate) or "create-revoke".
	UserTokenRotation string `json:"user_token_rotation,omitempty"`
	// MaxTokenLifetimeDays is the server's maximum token lifetime (0: none
	// known).
	MaxTokenLifetimeDays int `json:"max_token_lifetime_days,omitempty"`
	// ForgetsSecondFactor: the server asks for a second factor on every
	// call (Rocket.Chat remembering none), so a bulk run needs a code per
	// token.
	ForgetsSecondFactor bool `json:"forgets_second_factor,omitempty"`
}

// SecretMeta is the index entry of one stored secret: everything about it but
// its value.
type SecretMeta struct {
	Name        string     `json:"name"`
	Account     string     `json:"account"`
	Kind        string     `json:"kind"`
	ID          string     `json:"id"` // the server-side id, if any
	Created     time.Time  `json:"created"`
	Rotated     *time.Time `json:"rotated,omitempty"`
	Expires     *time.Time `json:"expires,omitempty"`
	Fingerprint string     `json:"fingerprint"` // keystore.Fingerprint: at most 4 characters, none of a short value
	// Label is the token's name on its server as last listed ("/deploy
	// (Deploy)", "CI events"), so the vault can say what a row is.
	Label string `json:"label,omitempty"`
}

// New returns an empty config of the current version.
func New() *Config {
	return &Config{Version: Version, Accounts: []Account{}, Secrets: []SecretMeta{}}
}

// DefaultPath is $KEYTURN_CONFIG if set, else keyturn/config.json in the
// user's config directory (os.UserConfigDir).
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory (set %s to choose a config file): %w", EnvPath, err)
	}
	return filepath.Join(dir, "keyturn", "config.json"), nil
}

// File is the config file at Path.
type File struct {
	Path string

	memo memo // the last config read, to skip decoding the same bytes again
}

// Open returns the config file at path. Nothing is read until Load or Update.
func Open(path string) *File { return &File{Path: path} }

// Load reads the config file. A missing (or empty) file is an empty config; a
// file that does not parse is an error wrapping ErrDamaged that names the path,
// and the file is left as it is.
func (f *File) Load() (*Config, error) {
	c, err := f.shared()
	if err != nil {
		return nil, err
	}
	return c.clone(), nil
}

// Read calls fn with the config as Load would return it, but without a
// copy: fn must not change c, nor keep a slice, map or pointer of it once it
// returns (strings and values it copies out are its own). It is for lookups
// (an account, index entries) in a config whose index of thousands Load
// would copy whole.
func (f *File) Read(fn func(c *Config)) error {
	c, err := f.shared()
	if err != nil {
		return err
	}
	fn(c)
	return nil
}

// Update changes the config file under its lock: it takes the lock file,
// reads the file afresh, calls fn, and if fn returns nil writes the result
// atomically (temporary file in the same directory, mode 0600, fsync, rename,
// fsync of the directory). If fn returns an error nothing is written and that
// error is returned. A damaged file, or one written by a newer keyturn, is
// reported and never overwritten. The directory is created with mode 0700.
func (f *File) Update(fn func(*Config) error) error {
	return f.UpdateContext(context.Background(), fn)
}

// UpdateContext is Update with a context that bounds the wait for the lock.
func (f *File) UpdateContext(ctx context.Context, fn func(*Config) error) error {
	if f.Path == "" {
		return errors.New("config: no config file path")
	}
	unlock, err := Lock(ctx, f.Path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer func() { _ = unlock() }()

	c, err := f.own()
	if err != nil {
		return err
	}
	if c.Version > Version {
		return fmt.Errorf("%w: %s has version %d and this keyturn understands version %d; upgrade keyturn (the file is left as it is)",
			ErrNewer, f.Path, c.Version, Version)
	}
	if err := fn(c); err != nil {
		return err
	}
	c.Version = Version
	var encErr error
	err = WriteFileAtomicWith(f.Path, 0o600, func(w io.Writer) error {
		encErr = c.encodeTo(w)
		return encErr
	})
	var we *writeError
	switch {
	case errors.As(encErr, &we):
		return fmt.Errorf("config: write %s: %w", f.Path, we.err)
	case encErr != nil:
		return fmt.Errorf("config: encode %s: %w", f.Path, encErr)
	case err != nil:
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// shared is the config the file holds, as the memo keeps it: nobody may
// change it (Load and Update copy it first).
func (f *File) shared() (*Config, error) {
	if c, ok := f.remembered(); ok {
		return c, nil
	}
	data, c, err := f.readFresh()
	if err != nil || data == nil {
		return c, err
	}
	f.memo.put(data, c)
	return c, nil
}

// own is the config the file holds, for the caller to change: a copy of
// the memo's, or one read afresh (and then not remembered: the caller is
// about to change it and write the file anew).
func (f *File) own() (*Config, error) {
	if c, ok := f.remembered(); ok {
		return c.clone(), nil
	}
	_, c, err := f.readFresh()
	return c, err
}

// remembered is the memo's config if the file still holds the bytes it
// came from (by their digest, read in pieces).
func (f *File) remembered() (*Config, bool) {
	if f.Path == "" {
		return nil, false
	}
	sum, ok := f.memo.held()
	if !ok {
		return nil, false
	}
	if now, err := fileDigest(f.Path); err != nil || now != sum {
		return nil, false
	}
	return f.memo.get(sum)
}

// readFresh reads and decodes the file: a new config and no bytes if it
// does not exist.
func (f *File) readFresh() ([]byte, *Config, error) {
	if f.Path == "" {
		return nil, nil, errors.New("config: no config file path")
	}
	fh, err := os.Open(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, New(), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("config: read %s: %w", f.Path, err)
	}
	defer fh.Close()
	var data []byte
	if st, err := fh.Stat(); err == nil && st.Size() > 0 && st.Size() <= maxSize {
		data = make([]byte, 0, st.Size()+1) // one allocation, not a doubling series
	}
	data, err = readAllInto(data, io.LimitReader(fh, maxSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("config: read %s: %w", f.Path, err)
	}
	if len(data) > maxSize {
		return nil, nil, fmt.Errorf("%w: %s is larger than %d MiB; move it away or fix it (keyturn leaves it as it is)", ErrDamaged, f.Path, maxSize>>20)
	}
	c, err := decode(f.Path, data)
	if err != nil {
		return nil, nil, err
	}
	return data, c, nil
}

// readAllInto is io.ReadAll appending to buf.
func readAllInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func decode(path string, data []byte) (*Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return New(), nil
	}
	damaged := func(err error) error {
		return fmt.Errorf("%w: %s: %v; fix it or move it away (keyturn leaves it as it is)", ErrDamaged, path, describeJSONError(data, err))
	}
	var c Config
	// Sized up front: encoding/json grows a slice by a quarter at a time,
	// which at 10,000 index entries allocated five times the index. Each
	// entry has one fingerprint key and takes far more than 64 bytes, so a
	// file of repeated keys cannot make this allocate much more than itself.
	if n := bytes.Count(data, []byte(`"fingerprint"`)); n > 0 {
		c.Secrets = make([]SecretMeta, 0, min(n, len(data)/64))
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, damaged(err)
	}
	// One pass in the common case: a file this version wrote has no
	// top-level field it does not know. Only otherwise is it read a second
	// time, to keep the unknown fields. (Unmarshal, not a Decoder: a
	// Decoder copies the file into a buffer it grows by doubling, megabytes
	// of garbage at 10,000 index entries.)
	if onlyKnownFields(data) {
		return finish(&c), nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, damaged(err)
	}
	// encoding/json matches field names without regard to case, Unicode
	// folding included ("ſtore" is "store"), so every key that fed a known
	// field is dropped here; kept, it would be written back beside the real
	// field and win on the next read.
	for k := range all {
		if isKnownField(k) {
			delete(all, k)
		}
	}
	if len(all) > 0 {
		c.extra = all
	}
	return finish(&c), nil
}

// finish fills what an older or empty file leaves out.
func finish(c *Config) *Config {
	if c.Version == 0 {
		c.Version = Version
	}
	if c.Accounts == nil {
		c.Accounts = []Account{}
	}
	if c.Secrets == nil {
		c.Secrets = []SecretMeta{}
	}
	return c
}

// knownFields are the config's top-level fields.
var knownFields = []string{"version", "store", "store_file", "accounts", "secrets", "policies", "consumers"}

// isKnownField reports whether a top-level key feeds a known field.
func isKnownField(k string) bool {
	for _, known := range knownFields {
		if strings.EqualFold(k, known) {
			return true
		}
	}
	return false
}

// onlyKnownFields reports whether data, valid JSON, is an object whose keys
// all feed known fields (or is no object). A key written with an escape is
// taken as unknown: the slow path reads it properly.
func onlyKnownFields(data []byte) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return true
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= len(data) || data[i] == '}' {
			return true
		}
		if data[i] == ',' {
			i++
			continue
		}
		end := skipString(data, i)
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !isKnownField(string(key)) {
			return false
		}
		i = skipSpace(data, end)
		i = skipValue(data, skipSpace(data, i+1)) // past ':' and the value
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index past the string that starts at data[i].
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the index past the value that starts at data[i].
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch data[i] {
		case '"':
			i = skipString(data, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of the enclosing object
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// describeJSONError adds the line and column to a JSON syntax error.
func describeJSONError(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return "not valid JSON: " + err.Error()
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("not valid JSON at line %d, column %d: %v", line, col, err)
}

// plain has Config's fields without its methods, for encoding.
type plain Config

// encodeTo writes what encode returns, but the index one entry at a time:
// encode held the file twice over (marshalled, then indented), megabytes
// at 10,000 entries, at the moment a bulk run holds the most.
func (c *Config) encodeTo(w io.Writer) error {
	put := func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return &writeError{err}
		}
		return nil
	}
	if len(c.extra) > 0 || len(c.Secrets) == 0 {
		data, err := c.encode()
		if err != nil {
			return err
		}
		return put(data)
	}
	// Everything but the index, with an empty one where it goes.
	rest := *c
	rest.Secrets = nil
	data, err := rest.encode()
	if err != nil {
		return err
	}
	const slot = "\n  \"secrets\": []"
	at := bytes.Index(data, []byte(slot))
	if at < 0 {
		return errors.New("the index has no place in the encoded config")
	}
	if err := put(data[:at+len(slot)-1]); err != nil { // up to the '['
		return err
	}
	var buf bytes.Buffer
	for i := range c.Secrets {
		entry, err := json.Marshal(&c.Secrets[i])
		if err != nil {
			return err
		}
		buf.Reset()
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		if err := json.Indent(&buf, entry, "    ", "  "); err != nil {
			return err
		}
		if err := put(buf.Bytes()); err != nil {
			return err
		}
	}
	return put(append([]byte("\n  ]"), data[at+len(slot):]...))
}

// writeError is a failure to write what encodeTo encoded.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func (c *Config) encode() ([]byte, error) {
	cp := *c
	if cp.Accounts == nil {
		cp.Accounts = []Account{}
	}
	if cp.Secrets == nil {
		cp.Secrets = []SecretMeta{}
	}
	known, err := json.Marshal((*plain)(&cp))
	if err != nil {
		return nil, err
	}
	if len(c.extra) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(known, &m); err != nil {
			return nil, err
		}
		for k, v := range c.extra {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
		if known, err = json.Marshal(m); err != nil {
			return nil, err
		}
	}
	// Grown once: indenting adds about half again, and a buffer grown by
	// doubling left megabytes of garbage at 10,000 index entries.
	var out bytes.Buffer
	out.Grow(len(known) + len(known)/2 + 64)
	if err := json.Indent(&out, known, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
