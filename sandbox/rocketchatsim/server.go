// Package rocketchatsim is a simulated Rocket.Chat server (REST v1, as 8.8
// answers): login with the two-factor protocol, /me, logout, personal
// access tokens, emailed codes, TOTP setup, permissions and the API rate
// limiter. It is written from ../shared/api/rocketchat.md and imports
// nothing of keyturn's clients, so a field the client gets wrong fails a
// test instead of being mirrored.
//
// State lives in memory. Every token it issues is recorded in the
// environment's ledger ("session" for logins, "pat" for personal access
// tokens); emailed codes go to an outbox tests and the demo can read.
package rocketchatsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"keyturn/sandbox/simnet"
)

// Service is the name the server records in the ledger.
const Service = "rocketchat"

// Version is the Rocket.Chat version the server behaves as.
const Version = "8.8.1"

// Settings, with Rocket.Chat's defaults.
const (
	loginExpiration       = 90 * 24 * time.Hour // Accounts_LoginExpiration
	rememberFor           = 1800 * time.Second  // Accounts_TwoFactorAuthentication_RememberFor
	emailCodeExpiration   = 3600 * time.Second  // ..._By_Email_Code_Expiration
	maxInvalidEmailCodes  = 5                   // ..._Max_Invalid_Email_Code_Attempts
	totpMaxDelta          = 1                   // Accounts_TwoFactorAuthentication_MaxDelta
	rateLimitCalls        = 10                  // API_Enable_Rate_Limiter_Limit_Calls_Default
	rateLimitWindow       = 60 * time.Second    // API_Enable_Rate_Limiter_Limit_Time_Default
	loginBlockFailures    = 10                  // Block_Multiple_Failed_Logins_Attempts_Until_Block_by_User
	loginBlockWindow      = 5 * time.Minute     // ..._Time_To_Unblock_By_User_In_Minutes
	backupCodeCount       = 12
	backupCodeLength      = 8
	lastTokenPartLength   = 6
	permPAT               = "create-personal-access-tokens"
	permBypassRateLimit   = "api-bypass-rate-limit"
	permLogoutOtherUser   = "logout-other-user"
	messageMustBeLoggedIn = "You must be logged in to do this."
)

// rolePermissions is the part of Rocket.Chat's default permission table the
// simulated routes consult.
var rolePermissions = map[string][]string{
	"admin": {permPAT, permBypassRateLimit, permLogoutOtherUser},
	"user":  {permPAT},
	"bot":   {permBypassRateLimit},
	"guest": {},
}

// Server is the simulated Rocket.Chat.
type Server struct {
	env   *simnet.Env
	table map[string]route

	mu        sync.Mutex
	users     []*user
	outbox    []Mail
	limiter   map[string]*window
	rateLimit bool
	failures  map[string][]time.Time // failed logins per user id
	// olderLogout answers logout as before 7.4 (a JSON body); current
	// servers send 200 with an empty body.
	olderLogout bool
	// forgets2FA: a passed second factor is not remembered (8.5 until
	// RocketChat/Rocket.Chat#41065 over REST, or RememberFor set to 0).
	forgets2FA bool
}

type user struct {
	ID             string
	Username       string
	Name           string
	Emails         []email
	PasswordDigest string // hex SHA-256 of the password (the real server bcrypts this digest)
	Roles          []string
	CreatedAt      time.Time
	TOTP           totpState
	Email2FA       bool
	EmailCode      *emailCode
	Tokens         []*loginToken
}

type email struct {
	Address  string
	Verified bool
}

type totpState struct {
	Enabled      bool
	Secret       string
	TempSecret   string
	HashedBackup []string
}

type emailCode struct {
	Hash     string
	Expire   time.Time
	Attempts int
}

// loginToken is an entry of services.resume.loginTokens: a login session
// or a personal access token, stored hashed.
type loginToken struct {
	Hashed          string
	When            time.Time // sessions
	PAT             bool
	Name            string
	CreatedAt       time.Time
	LastTokenPart   string
	BypassTwoFactor bool
	AuthorizedUntil time.Time
	AuthorizedHash  string
}

// Mail is a message the server "sent".
type Mail struct {
	To       string    `json:"to"`
	Username string    `json:"username"`
	Subject  string    `json:"subject"`
	Code     string    `json:"code"` // the six digits
	Text     string    `json:"text"` // as mailed: "123-456"
	Time     time.Time `json:"time"`
}

// Seeded users' fixed credentials, so docs and tests can use them.
const (
	AliceID       = "AliceUserId234567"
	AlicePassword = "alice-rocket-pw-1"
	AliceTOTP     = "KEYTURNROCKETALICETOTPSECRET2345"
	BobID         = "BobUserId23456789"
	BobPassword   = "bob-rocket-pw-1"
	CarolID       = "CarolUserId234567"
	CarolPassword = "carol-rocket-pw-1"
	DaveID        = "DaveUserId2345678"
	DavePassword  = "dave-rocket-pw-1"
	// AlicePATName and AlicePAT are a personal access token seeded for alice.
	AlicePATName = "seeded-ci"
	AlicePAT     = "kEyTuRnSeEdEdAlIcEpErSoNaLaCcEsStOkEn_12345"
)

// AliceBackupCodes are alice's TOTP backup codes (each single-use).
var AliceBackupCodes = []string{
	"Ab3dEf7h", "Jk4mNp8q", "Rs5tUv9w", "Xy6zAb2c", "De7fGh3j", "Km8nPq4r",
	"St9uVw5x", "Yz2aBc6d", "Ef3gHj7k", "Mn4pQr8s", "Tu5vWx9y", "Za6bCd2e",
}

// New is a server seeded with alice (admin, TOTP and email 2FA), bob (email
// 2FA), carol (no second factor: the password fallback applies) and dave
// (no permission to create personal access tokens). The rate limiter is on.
func New(env *simnet.Env) *Server {
	if env == nil {
		env = simnet.NewEnv()
	}
	s := &Server{env: env, limiter: map[string]*window{}, rateLimit: true, failures: map[string][]time.Time{}}
	created := env.Clock.Now().Add(-365 * 24 * time.Hour)
	hashed := make([]string, len(AliceBackupCodes))
	for i, c := range AliceBackupCodes {
		hashed[i] = sha256Hex(c)
	}
	alice := &user{ID: AliceID, Username: "alice", Name: "Alice Admin", Emails: []email{{"alice@example.com", true}},
		PasswordDigest: sha256Hex(AlicePassword), Roles: []string{"admin", "user"}, CreatedAt: created,
		TOTP: totpState{Enabled: true, Secret: AliceTOTP, HashedBackup: hashed}, Email2FA: true}
	bob := &user{ID: BobID, Username: "bob", Name: "Bob Builder", Emails: []email{{"bob@example.com", true}},
		PasswordDigest: sha256Hex(BobPassword), Roles: []string{"user"}, CreatedAt: created, Email2FA: true}
	carol := &user{ID: CarolID, Username: "carol", Name: "Carol Coder", Emails: []email{{"carol@example.com", true}},
		PasswordDigest: sha256Hex(CarolPassword), Roles: []string{"user"}, CreatedAt: created}
	dave := &user{ID: DaveID, Username: "dave", Name: "Dave Guest", Emails: []email{{"dave@example.com", true}},
		PasswordDigest: sha256Hex(DavePassword), Roles: []string{"guest"}, CreatedAt: created}
	s.users = []*user{alice, bob, carol, dave}
	s.addPAT(alice, AlicePATName, AlicePAT, false, created.Add(time.Hour))
	if env.Hostile {
		s.addPAT(alice, HostilePATName, simnet.RocketToken(), false, created.Add(2*time.Hour))
	}
	s.table = s.routes()
	return s
}

// SetRateLimit turns the API rate limiter (10 calls a minute per address
// and route, admins exempt) on or off; it is on by default, as on a real
// server. Turning it on starts fresh windows.
func (s *Server) SetRateLimit(on bool) {
	s.mu.Lock()
	s.rateLimit = on
	s.limiter = map[string]*window{}
	s.mu.Unlock()
}

// SetOlderLogout makes logout answer as before 7.4, with
// {"status":"success","data":{"message":…}}; by default it answers as
// current servers do, 200 with an empty body (RocketChat/Rocket.Chat#35922).
func (s *Server) SetOlderLogout(on bool) {
	s.mu.Lock()
	s.olderLogout = on
	s.mu.Unlock()
}

// SetForgetsSecondFactor makes the server remember no passed second
// factor: every call that needs one asks again, so a single-use e-mail
// code serves one call only (8.5 until RocketChat/Rocket.Chat#41065, or
// Accounts_TwoFactorAuthentication_RememberFor at 0).
func (s *Server) SetForgetsSecondFactor(on bool) {
	s.mu.Lock()
	s.forgets2FA = on
	s.mu.Unlock()
}

// Outbox is every mail sent so far, oldest first.
func (s *Server) Outbox() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.outbox...)
}

// LastEmailCode is the last code mailed to the user (by user name or
// email address), or "".
func (s *Server) LastEmailCode(username string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.outbox) - 1; i >= 0; i-- {
		m := s.outbox[i]
		if strings.EqualFold(m.Username, username) || strings.EqualFold(m.To, username) {
			return m.Code
		}
	}
	return ""
}

// SeedUser describes a seeded user and how to sign in as them.
type SeedUser struct {
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	UserID      string   `json:"userId"`
	Email       string   `json:"email"`
	Roles       []string `json:"roles"`
	TwoFactor   []string `json:"twoFactor"` // enabled methods; empty: the password fallback
	TOTPSecret  string   `json:"totpSecret,omitempty"`
	BackupCodes []string `json:"backupCodes,omitempty"`
	CanMakePATs bool     `json:"canCreatePersonalAccessTokens"`
	Note        string   `json:"note,omitempty"`
}

// SeedPAT is a seeded personal access token.
type SeedPAT struct {
	Owner           string `json:"owner"`
	UserID          string `json:"userId"`
	Name            string `json:"name"`
	Token           string `json:"token"`
	BypassTwoFactor bool   `json:"bypassTwoFactor"`
}

// SeedInfo is what Seeds returns.
type SeedInfo struct {
	Service string     `json:"service"`
	Version string     `json:"version"`
	Users   []SeedUser `json:"users"`
	PATs    []SeedPAT  `json:"personalAccessTokens"`
	Notes   []string   `json:"notes"`
}

// Seeds describes the seeded users, their credentials and the seeded token.
func (s *Server) Seeds() any {
	return SeedInfo{
		Service: Service,
		Version: Version,
		Users: []SeedUser{
			{Username: "alice", Password: AlicePassword, UserID: AliceID, Email: "alice@example.com", Roles: []string{"admin", "user"},
				TwoFactor: []string{"totp", "email"}, TOTPSecret: AliceTOTP, BackupCodes: AliceBackupCodes, CanMakePATs: true,
				Note: "login asks for the TOTP code (or a backup code); other routes accept x-2fa-method email too; exempt from the rate limiter"},
			{Username: "bob", Password: BobPassword, UserID: BobID, Email: "bob@example.com", Roles: []string{"user"},
				TwoFactor: []string{"email"}, CanMakePATs: true, Note: "codes are mailed to the sandbox outbox"},
			{Username: "carol", Password: CarolPassword, UserID: CarolID, Email: "carol@example.com", Roles: []string{"user"},
				TwoFactor: []string{}, CanMakePATs: true, Note: "no second factor: 2FA routes take the password (sent as its SHA-256 hex)"},
			{Username: "dave", Password: DavePassword, UserID: DaveID, Email: "dave@example.com", Roles: []string{"guest"},
				TwoFactor: []string{}, CanMakePATs: false, Note: "lacks create-personal-access-tokens: PAT routes answer 403"},
		},
		PATs: []SeedPAT{{Owner: "alice", UserID: AliceID, Name: AlicePATName, Token: AlicePAT}},
		Notes: []string{
			"rate limiter on: 10 calls per minute per address and route (admins exempt)",
			"a passed second factor is remembered for 30 minutes per token, User-Agent and address",
		},
	}
}

// Codes are the codes a person needs right now: the TOTP code of every
// user with an authenticator (or one being set up) and the last code mailed
// to each user.
func (s *Server) Codes(now time.Time) []simnet.Code {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []simnet.Code
	for _, u := range s.users {
		if u.TOTP.Enabled && u.TOTP.Secret != "" {
			out = append(out, simnet.Code{Label: "rocketchat " + u.Username + " TOTP", Code: simnet.TOTPCode(u.TOTP.Secret, now)})
		}
		if u.TOTP.TempSecret != "" {
			out = append(out, simnet.Code{Label: "rocketchat " + u.Username + " TOTP (setup)", Code: simnet.TOTPCode(u.TOTP.TempSecret, now)})
		}
	}
	seen := map[string]bool{}
	for i := len(s.outbox) - 1; i >= 0; i-- {
		m := s.outbox[i]
		if seen[m.Username] {
			continue
		}
		seen[m.Username] = true
		out = append(out, simnet.Code{Label: "rocketchat " + m.Username + " email code", Code: m.Code})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// ---- helpers ----

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// hashLoginToken is Meteor's Accounts._hashLoginToken: base64 SHA-256.
func hashLoginToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (s *Server) now() time.Time { return s.env.Clock.Now() }

func (s *Server) userByID(id string) *user {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (s *Server) userByUsername(name string) *user {
	for _, u := range s.users {
		if u.Username == name {
			return u
		}
	}
	return nil
}

func (s *Server) userByEmail(addr string) *user {
	for _, u := range s.users {
		for _, e := range u.Emails {
			if strings.EqualFold(e.Address, addr) {
				return u
			}
		}
	}
	return nil
}

func (u *user) can(perm string) bool {
	for _, r := range u.Roles {
		for _, p := range rolePermissions[r] {
			if p == perm {
				return true
			}
		}
	}
	return false
}

func (u *user) verifiedEmails() []string {
	var out []string
	for _, e := range u.Emails {
		if e.Verified {
			out = append(out, e.Address)
		}
	}
	return out
}

func (u *user) token(hashed string) *loginToken {
	for _, t := range u.Tokens {
		if t.Hashed == hashed {
			return t
		}
	}
	return nil
}

func (u *user) pat(name string) *loginToken {
	for _, t := range u.Tokens {
		if t.PAT && t.Name == name {
			return t
		}
	}
	return nil
}

func (u *user) removeTokens(keep func(*loginToken) bool) {
	kept := u.Tokens[:0]
	for _, t := range u.Tokens {
		if keep(t) {
			kept = append(kept, t)
		}
	}
	for i := len(kept); i < len(u.Tokens); i++ {
		u.Tokens[i] = nil
	}
	u.Tokens = kept
}

func (s *Server) expired(t *loginToken, now time.Time) bool {
	return !t.PAT && now.After(t.When.Add(loginExpiration))
}

func (s *Server) addSession(u *user) string {
	tok := simnet.RocketToken()
	u.Tokens = append(u.Tokens, &loginToken{Hashed: hashLoginToken(tok), When: s.now()})
	s.env.Ledger.Record(Service, "session", u.ID, tok)
	return tok
}

func (s *Server) addPAT(u *user, name, tok string, bypass bool, created time.Time) {
	u.Tokens = append(u.Tokens, &loginToken{Hashed: hashLoginToken(tok), PAT: true, Name: name, CreatedAt: created,
		LastTokenPart: tok[len(tok)-lastTokenPartLength:], BypassTwoFactor: bypass})
	s.env.Ledger.Record(Service, "pat", name, tok)
}

func isoDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"success":false,"error":"Internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
