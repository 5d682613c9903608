package account

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"keyturn/client"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/textsafe"
)

// Kinds of issued secret, as used in secret names and token REFs.
const (
	KindCommand    = "command"    // Mattermost slash-command token
	KindWebhook    = "webhook"    // Mattermost outgoing-webhook token
	KindUserToken  = "user-token" // Mattermost user access token
	KindPAT        = "pat"        // Rocket.Chat personal access token
	KindSession    = "session"    // Capillary's current 15-minute token
	KindCredential = "credential" // what keyturn itself uses to act as the account
	KindPending    = "pending"    // a second-factor challenge waiting for its code
	KindBackup     = "backup-codes"
)

// Status is an account with what keyturn knows of its sign-in.
type Status struct {
	Name     string `json:"name"`
	Service  string `json:"service"`
	URL      string `json:"url"`
	User     string `json:"user,omitempty"`
	SignedIn bool   `json:"signed_in"`
	// Via says how: "session", "personal access token", "key".
	Via string `json:"via,omitempty"`
	// Store is where the credential lives ("keyring", "file", "memory").
	Store   string     `json:"store,omitempty"`
	Since   *time.Time `json:"since,omitempty"`   // when the credential was stored
	Expires *time.Time `json:"expires,omitempty"` // Capillary: the current token's expiry
	Problem string     `json:"problem,omitempty"` // e.g. "credential listed but missing from the keyring"
	Pending string     `json:"pending,omitempty"` // the step of a challenge waiting for a code
	// PendingFor says in words what the waiting challenge needs.
	PendingFor string `json:"pending_for,omitempty"`
	Extra      Extra  `json:"extra,omitempty"`
	Insecure   bool   `json:"insecure_http,omitempty"`
	// MFAUnconfirmed: since then the server holds a replaced TOTP secret
	// that no code has confirmed; finishing the setup (or switching MFA
	// off) is the way back to a working sign-in.
	MFAUnconfirmed *time.Time `json:"mfa_unconfirmed,omitempty"`

	// Expiring are stored tokens expired or expiring within ExpiryWarning
	// (Show only).
	Expiring []ExpiringSecret `json:"expiring,omitempty"`
	// UserTokenRotation is how the server rotates user tokens, once found
	// out: "in-place" or "create-revoke" ("" not yet known).
	UserTokenRotation string `json:"user_token_rotation,omitempty"`
}

// Extra holds the Capillary identity fields, for display and editing.
type Extra struct {
	Brand          string `json:"brand,omitempty"`
	DeviceID       string `json:"device_id,omitempty"`
	IdentifierType string `json:"identifier_type,omitempty"`
	Identifier     string `json:"identifier,omitempty"`
	Region         string `json:"region,omitempty"`
	MFA            string `json:"mfa,omitempty"` // the MFA step: auto, on or off
	// Mobile and Email go with a user-name identifier.
	Mobile string `json:"mobile,omitempty"`
	Email  string `json:"email,omitempty"`
}

// Answer answers a second-factor challenge. For Rocket.Chat's password
// method and Capillary's MFA password, Code is the password itself.
type Answer struct {
	Method string
	Code   string
}

// Challenge is a second factor the server asked for. It is returned as an
// error; the caller asks the person and calls again with an Answer.
type Challenge struct {
	Account  string
	Service  string
	Step     string    // "mfa" (Mattermost), "2fa" (Rocket.Chat), "otp", "mfa-otp", "mfa-password" (Capillary)
	Method   string    // what the server wants now (client.Method*)
	Methods  []string  // what it offers; the person may switch among them
	CodeSent bool      // a code went out of band with this answer
	SentTo   string    // where it went, when known
	Expires  time.Time // when the pending challenge or sent code expires
	Invalid  bool      // the last answer was wrong: say the server's message
	Locked   bool      // too many wrong answers
	Message  string    // the server's words
	// IsPassword is true when the answer is a password, not a numeric
	// code (Rocket.Chat's password fallback, Capillary's MFA password).
	IsPassword bool
	// CanResend is true when a new code can be asked for (Rocket.Chat
	// email, Capillary OTP).
	CanResend bool
}

func (c *Challenge) Error() string {
	var b strings.Builder
	switch {
	case c.Locked:
		fmt.Fprintf(&b, "%s: too many wrong codes", c.Account)
	case c.Invalid:
		noun := strings.TrimPrefix(strings.TrimPrefix(c.What(), "a "), "the ")
		fmt.Fprintf(&b, "%s: the %s was not accepted", c.Account, noun)
	default:
		fmt.Fprintf(&b, "%s: %s needs %s", c.Account, ServiceName(c.Service), c.What())
	}
	if c.CodeSent {
		if c.SentTo != "" {
			fmt.Fprintf(&b, "; a code was sent to %s", c.SentTo)
		} else {
			b.WriteString("; a code was sent")
		}
	}
	if c.Message != "" && c.Invalid {
		fmt.Fprintf(&b, " (%s)", c.Message)
	}
	return b.String()
}

// What names the answer the person must give, in words.
func (c *Challenge) What() string {
	switch {
	case c.Step == "mfa-password":
		return "the MFA password"
	case c.Step == "password":
		return "the account password"
	case c.Step == "mfa-otp":
		return "the MFA one-time code (OTP)"
	case c.Method == client.MethodPassword:
		return "the account password (as the second factor)"
	case c.Method == client.MethodTOTP:
		return "a code from the authenticator app"
	case c.Method == client.MethodEmail:
		return "the code sent by email"
	case c.Method == client.MethodOTP:
		return "the one-time code (OTP)"
	}
	return "a second-factor code"
}

// OutOfBand reports whether the code travels outside (email, SMS), so a
// script without --code must stop and come back with it.
func (c *Challenge) OutOfBand() bool {
	return c.Method == client.MethodEmail || c.Method == client.MethodOTP
}

// Ref names one token on a server: KIND:ID, or "session" for Capillary.
type Ref struct {
	Kind string
	ID   string // command id, webhook id, user-token id, or PAT name
}

func (r Ref) String() string {
	if r.ID == "" {
		return r.Kind
	}
	return r.Kind + ":" + r.ID
}

// ParseRef reads a REF: command:<id>, webhook:<id>, user-token:<id>,
// pat:<name> or session.
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	if s == KindSession {
		return Ref{Kind: KindSession}, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return Ref{}, fmt.Errorf("token REF %q: write KIND:ID (command:<id>, webhook:<id>, user-token:<id>, pat:<name>) or session", s)
	}
	switch kind {
	case KindCommand, KindWebhook, KindUserToken, KindPAT:
	default:
		return Ref{}, fmt.Errorf("token REF %q: unknown kind %q (command, webhook, user-token, pat, session)", s, kind)
	}
	// A PAT's name is whatever the person gave it on the server; the other
	// ids are Mattermost's, letters and digits.
	if kind != KindPAT && (strings.ContainsAny(id, " \t\r\n/") || len(id) > 128) {
		return Ref{}, fmt.Errorf("token REF %q: the id has spaces or slashes, or is too long", s)
	}
	ref := Ref{Kind: kind, ID: id}
	// The id becomes part of a secret's name: refuse what no store name can
	// hold (the real account's name is checked again before any request).
	if err := CheckStorable("account", ref); err != nil {
		return Ref{}, fmt.Errorf("token REF %q: %v", s, err)
	}
	return ref, nil
}

// Token is one token the server lists (never its value).
type Token struct {
	Ref         Ref        `json:"-"`
	RefString   string     `json:"ref"`
	Kind        string     `json:"kind"`
	ID          string     `json:"id"`
	Label       string     `json:"label"`          // description, trigger, display name or PAT name
	Team        string     `json:"team,omitempty"` // Mattermost team name
	Active      *bool      `json:"active,omitempty"`
	Status      string     `json:"status,omitempty"` // TokenState: active, expired, disabled
	Created     *time.Time `json:"created,omitempty"`
	Expires     *time.Time `json:"expires,omitempty"`
	LastPart    string     `json:"last_token_part,omitempty"` // Rocket.Chat lastTokenPart
	Bypass2FA   *bool      `json:"bypass_two_factor,omitempty"`
	Fingerprint string     `json:"fingerprint,omitempty"` // of the stored copy, if keyturn holds one
	Stored      bool       `json:"stored"`                // keyturn holds its value
	Secret      string     `json:"secret_name,omitempty"` // its name in the store
	// current is the token itself when the server shows it in its list
	// (slash commands, outgoing webhooks): a bulk rotation stopped before
	// an answer arrived reads it back instead of reporting it unknown.
	current string
}

// String names a token without its value, so that printing one (%v, %+v)
// never shows the secret it may carry.
func (t Token) String() string { return textsafe.Line(t.Ref.String()) + " " + strconv.Quote(t.Label) }

// ListFilter narrows a token list.
type ListFilter struct {
	Kind string // "" for all kinds the service has
	Team string // Mattermost team name or id; "" for every team
}

// Issued is a token a server just handed out.
type Issued struct {
	Name        string     `json:"name"` // its name in the store
	Account     string     `json:"account"`
	Kind        string     `json:"kind"`
	Ref         string     `json:"ref"`
	Fingerprint string     `json:"fingerprint"`
	Stored      bool       `json:"stored"`
	Store       string     `json:"store,omitempty"` // backend it went to
	Expires     *time.Time `json:"expires,omitempty"`
	// Value is the token. The faces show it only when asked, or when it
	// could not be stored (then it is the only copy).
	Value string `json:"-"`
	// Notes are things the person should know: an old token that could
	// not be revoked, a verification that failed.
	Notes []string `json:"notes,omitempty"`
	// Next are the ways out the notes call for (revoke the old token, sign
	// in with the new one), rendered by each face in its own words.
	Next []Remedy `json:"-"`
	// Deliveries are what became of the secret's consumers once the token
	// was stored (see deliverRotated).
	Deliveries []Delivery `json:"deliveries,omitempty"`

	// What RetryStore writes: the index entry and the stored form (a
	// credential is stored as JSON around its token).
	meta   config.SecretMeta
	stored string
	// also is issued with this one and saved again with it (Capillary's
	// key when neither it nor its session could be stored).
	also *Issued
}

// NotStoredError says a token was issued and the store refused it. The
// token is in Issued.Value: show it, let the person retry or copy it.
type NotStoredError struct {
	Issued *Issued
	Err    error
}

func (e *NotStoredError) Error() string {
	return fmt.Sprintf("%s was issued but NOT saved: %v", e.Issued.Name, e.Err)
}
func (e *NotStoredError) Unwrap() error { return e.Err }

// UnknownOutcomeError says a request that changes a token was sent and no
// usable answer came: the server may have rotated it. keyturn never retries
// such a request by itself.
type UnknownOutcomeError struct {
	Account string
	Ref     Ref
	Err     error
	Check   string // how to find out, in words
	Remedy  Remedy // the way out, for RemedyFor
}

func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("%s %s: the request was sent but no answer came back (%v); the server may have rotated the token. %s", e.Account, e.Ref, e.Err, e.Check)
}
func (e *UnknownOutcomeError) Unwrap() error { return e.Err }

// ErrMFAActive refuses an MFA setup that would replace a working secret.
var ErrMFAActive = errors.New("MFA is already active: setting it up again replaces the secret and breaks the current authenticator entry (use --replace to do it on purpose)")

// ErrNotSignedIn is returned when an operation needs a credential.
var ErrNotSignedIn = errors.New("not signed in")

// MFASetup is a new TOTP secret waiting for its first code.
type MFASetup struct {
	Account string `json:"account"`
	Secret  string `json:"secret"`
	URL     string `json:"otpauth_url"`
}

// GroupSecret writes a TOTP secret in groups of four for reading aloud.
func GroupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SecretName is the store name of an issued token. The server's id or name
// is escaped, so that every name a server can hold has its own valid store
// name; names that were valid before (no '%') are unchanged.
func SecretName(account string, ref Ref) string {
	if ref.Kind == KindSession {
		return account + "/" + KindSession
	}
	return account + "/" + ref.Kind + "/" + keystore.EscapeNamePart(ref.ID)
}

// ParseSecretName is SecretName read backwards: the account and ref of a
// name keyturn gives an issued token, so that an index entry can be made
// again for it (a crash's lost entry, a not-saved token stored by hand).
// Other names report false.
func ParseSecretName(name string) (account string, ref Ref, ok bool) {
	parts := strings.SplitN(name, "/", 3)
	switch {
	case len(parts) == 2 && parts[1] == KindSession:
		return parts[0], Ref{Kind: KindSession}, true
	case len(parts) == 3 && contains([]string{KindCommand, KindWebhook, KindUserToken, KindPAT}, parts[1]):
		id, err := url.PathUnescape(parts[2])
		if err != nil || id == "" || keystore.EscapeNamePart(id) != parts[2] {
			return "", Ref{}, false
		}
		return parts[0], Ref{Kind: parts[1], ID: id}, true
	}
	return "", Ref{}, false
}

// CheckStorable refuses a token whose store name would still be invalid:
// a name too long even for the store. Every path that sends a request
// issuing such a token checks it first, since its answer could not be kept.
func CheckStorable(account string, ref Ref) error {
	name := SecretName(account, ref)
	if len(name) > keystore.MaxNameLen {
		return fmt.Errorf("the token's name is too long to be stored: %d bytes as a secret name (%s), at most %d; give it a shorter name on the server",
			len(name), shortName(name), keystore.MaxNameLen)
	}
	if err := keystore.ValidName(name); err != nil {
		return fmt.Errorf("the token cannot be stored: %w", err)
	}
	return nil
}

// shortName is a long secret name cut for an error message.
func shortName(name string) string {
	if len(name) <= 60 {
		return name
	}
	return name[:60] + "…"
}

func credentialName(account string) string { return account + "/" + KindCredential }
func pendingName(account string) string    { return account + "/" + KindPending }

// pendingFor names what a waiting step needs, in words.
func pendingFor(step string) string {
	c := Challenge{Step: step}
	switch step {
	case "otp", "mfa-otp":
		c.Method = client.MethodOTP
	case "2fa":
		c.Method = client.MethodEmail
	case "password":
		c.Method = client.MethodPassword
	}
	return c.What()
}
