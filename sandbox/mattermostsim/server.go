// Package mattermostsim is a simulated Mattermost server (API v4, as server
// 11.10 answers, or 11.2 with Settings.OlderServer) for keyturn's demo and
// tests: login with password then TOTP, MFA setup, slash commands, outgoing
// webhooks and personal access tokens (with expiry, the lifetime policy and
// in-place rotation from 11.10 on), with the real server's error ids,
// permissions and rate limiting. It is written from
// ../shared/api/mattermost.md, mattermost-2026.md and the recorded
// exchanges, and imports nothing of keyturn's clients.
package mattermostsim

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"keyturn/sandbox/simnet"
)

// Service is the name the server records in the ledger.
const Service = "mattermost"

// Ledger kinds of the tokens this server issues.
const (
	KindSession   = "session"
	KindUserToken = "user-token"
	KindCommand   = "command"
	KindWebhook   = "webhook"
)

// Seeded users, team and channel. Passwords and the admin's TOTP secret are
// fixed so docs and tests can use them.
const (
	AdminID         = "9rrsftoh7b89jmo3pzjy3jftky"
	AdminUsername   = "admin"
	AdminPassword   = "Admin-Passw0rd!"
	AdminEmail      = "admin@example.com"
	AdminTOTPSecret = "NNBGKJZQLIF6IVTTDANEOV6YJOZZPMTA"

	AliceID       = "k1fhx8m5wtn3dqg7ye4acb6r9o"
	AliceUsername = "alice"
	AlicePassword = "Alice-Passw0rd!"
	AliceEmail    = "alice@example.com"

	BobID       = "s4nyi9tefjb19dhnn9cxmetpmr"
	BobUsername = "bob"
	BobPassword = "Bob-Passw0rd!"
	BobEmail    = "bob@example.com"

	// Carol is a team admin of "ops" without the personal access token
	// role: she manages the team's commands and webhooks but gets 403 on
	// user tokens, as such users do on real servers.
	CarolID       = "c7q3wmd8xpb5ne1tkg6zrh2yfa"
	CarolUsername = "carol"
	CarolPassword = "Carol-Passw0rd!"
	CarolEmail    = "carol@example.com"

	TeamID         = "57catpyyyjnapdfnfe414y934o"
	TeamName       = "ops"
	TownSquareID   = "fg9amsre3jd4ur46dbsnhcnryr"
	versionID      = "11.10.0..sandbox.false"
	olderVersionID = "11.2.0..sandbox.false"
	maxBodyBytes   = 1 << 20
	perPageDefault = 60
	perPageMaximum = 200
)

// Settings are the parts of the server's configuration the sandbox models.
type Settings struct {
	EnableMultifactorAuthentication bool          // false: MFA endpoints answer 501
	EnableCommands                  bool          // false: custom slash commands are off
	EnableOutgoingWebhooks          bool          // false: outgoing webhooks are off
	EnableUserAccessTokens          bool          // false: PATs cannot be made and stop working
	MaximumLoginAttempts            int           // failed attempts before the account locks
	SessionLength                   time.Duration // how long a login session lives
	// MaximumPersonalAccessTokenLifetimeDays: above 0, every new or
	// rotated token must expire within that many days.
	MaximumPersonalAccessTokenLifetimeDays int
	// TokenCleanupInterval is how often the job that deletes expired
	// tokens runs (on the server's clock; 0 never).
	TokenCleanupInterval time.Duration
	// OlderServer answers as 11.2: no expiry (expires_at is ignored and
	// not shown), no lifetime setting, no rotate route (404).
	OlderServer bool
}

// DefaultSettings are a fresh server's.
func DefaultSettings() Settings {
	return Settings{
		EnableMultifactorAuthentication: true,
		EnableCommands:                  true,
		EnableOutgoingWebhooks:          true,
		EnableUserAccessTokens:          true,
		MaximumLoginAttempts:            10,
		SessionLength:                   30 * 24 * time.Hour,
		TokenCleanupInterval:            time.Hour,
	}
}

type user struct {
	ID                 string
	Username           string
	Email              string
	Password           string
	Roles              string
	CreateAt           int64
	UpdateAt           int64
	LastPasswordUpdate int64
	MFAActive          bool
	MFASecret          string
	usedSteps          []int64
	FailedAttempts     int
	seeded             bool
}

func (u *user) hasRole(r string) bool {
	for _, x := range strings.Fields(u.Roles) {
		if x == r {
			return true
		}
	}
	return false
}

type team struct {
	ID          string
	Name        string
	DisplayName string
	InviteID    string
	CreateAt    int64
	admins      map[string]bool // member user id → team admin
}

type channel struct {
	ID     string
	TeamID string
}

type session struct {
	ID        string
	Token     string
	UserID    string
	PATID     string // set for a personal access token's session
	CSRF      string
	ExpiresAt time.Time // zero: never
}

// Command is a slash command as the API shows it.
type command struct {
	ID               string `json:"id"`
	Token            string `json:"token"`
	CreateAt         int64  `json:"create_at"`
	UpdateAt         int64  `json:"update_at"`
	DeleteAt         int64  `json:"delete_at"`
	CreatorID        string `json:"creator_id"`
	TeamID           string `json:"team_id"`
	Trigger          string `json:"trigger"`
	Method           string `json:"method"`
	Username         string `json:"username"`
	IconURL          string `json:"icon_url"`
	AutoComplete     bool   `json:"auto_complete"`
	AutoCompleteDesc string `json:"auto_complete_desc"`
	AutoCompleteHint string `json:"auto_complete_hint"`
	DisplayName      string `json:"display_name"`
	Description      string `json:"description"`
	URL              string `json:"url"`
	PluginID         string `json:"plugin_id"`
}

type outgoingHook struct {
	ID           string   `json:"id"`
	Token        string   `json:"token"`
	CreateAt     int64    `json:"create_at"`
	UpdateAt     int64    `json:"update_at"`
	DeleteAt     int64    `json:"delete_at"`
	CreatorID    string   `json:"creator_id"`
	ChannelID    string   `json:"channel_id"`
	TeamID       string   `json:"team_id"`
	TriggerWords []string `json:"trigger_words"`
	TriggerWhen  int      `json:"trigger_when"`
	CallbackURLs []string `json:"callback_urls"`
	DisplayName  string   `json:"display_name"`
	Description  string   `json:"description"`
	ContentType  string   `json:"content_type"`
	Username     string   `json:"username"`
	IconURL      string   `json:"icon_url"`
}

type accessToken struct {
	ID          string `json:"id"`
	Token       string `json:"token,omitempty"`
	UserID      string `json:"user_id"`
	Description string `json:"description"`
	IsActive    bool   `json:"is_active"`
	ExpiresAt   int64  `json:"expires_at"` // Unix ms, 0 never
}

// Server is the simulated Mattermost server.
type Server struct {
	env     *simnet.Env
	limiter limiter

	mu           sync.Mutex
	settings     Settings
	users        map[string]*user
	byLogin      map[string]*user // lower-case username and email
	userOrder    []*user
	teams        map[string]*team
	teamByName   map[string]*team
	channels     map[string]*channel
	sessions     map[string]*session // by token
	commands     map[string]*command
	teamCommands map[string][]*command
	triggers     map[string]bool // team id + "/" + trigger
	hooks        map[string]*outgoingHook
	teamHooks    map[string][]*outgoingHook
	hookOrder    []*outgoingHook
	pats         map[string]*accessToken
	userPATs     map[string][]*accessToken
	patOrder     []*accessToken
	seedCommands []string
	seedHooks    []string
	lastCleanup  time.Time
}

// New is a server seeded with admin (system admin, MFA active with
// AdminTOTPSecret), alice (may make personal access tokens, no MFA), bob
// (a plain user) and carol (no personal access tokens), the team "ops"
// (admin, alice and carol are its team admins, bob a member), three slash commands and two outgoing webhooks owned by admin.
func New(env *simnet.Env) *Server {
	if env == nil {
		env = simnet.NewEnv()
	}
	s := &Server{
		env:          env,
		settings:     DefaultSettings(),
		users:        map[string]*user{},
		byLogin:      map[string]*user{},
		teams:        map[string]*team{},
		teamByName:   map[string]*team{},
		channels:     map[string]*channel{},
		sessions:     map[string]*session{},
		commands:     map[string]*command{},
		teamCommands: map[string][]*command{},
		triggers:     map[string]bool{},
		hooks:        map[string]*outgoingHook{},
		teamHooks:    map[string][]*outgoingHook{},
		pats:         map[string]*accessToken{},
		userPATs:     map[string][]*accessToken{},
	}
	s.limiter.clock = env.Clock
	s.seed()
	s.lastCleanup = s.now()
	return s
}

func (s *Server) now() time.Time { return s.env.Clock.Now() }

func millis(t time.Time) int64 { return t.UnixMilli() }

func (s *Server) seed() {
	now := millis(s.now())
	add := func(id, name, email, password, roles string) *user {
		u := &user{ID: id, Username: name, Email: email, Password: password, Roles: roles,
			CreateAt: now, UpdateAt: now, LastPasswordUpdate: now, seeded: true}
		s.users[id] = u
		s.byLogin[name] = u
		s.byLogin[email] = u
		s.userOrder = append(s.userOrder, u)
		return u
	}
	admin := add(AdminID, AdminUsername, AdminEmail, AdminPassword, "system_user system_admin")
	admin.MFAActive = true
	admin.MFASecret = AdminTOTPSecret
	add(AliceID, AliceUsername, AliceEmail, AlicePassword, "system_user system_user_access_token")
	add(BobID, BobUsername, BobEmail, BobPassword, "system_user")
	add(CarolID, CarolUsername, CarolEmail, CarolPassword, "system_user")

	t := &team{ID: TeamID, Name: TeamName, DisplayName: "Ops", InviteID: "8ihe6zog6tfxdmkybuwubw1mco", CreateAt: now,
		admins: map[string]bool{AdminID: true, AliceID: true, BobID: false, CarolID: true}}
	s.teams[t.ID] = t
	s.teamByName[t.Name] = t
	s.channels[TownSquareID] = &channel{ID: TownSquareID, TeamID: TeamID}

	for _, c := range []struct{ trigger, name, desc string }{
		{"deploy", "Deploy", "Deploy a build"},
		{"oncall", "On call", "Who is on call"},
		{"status", "Status", "Service status"},
	} {
		cmd := &command{ID: newID(), Token: newID(), CreateAt: now, UpdateAt: now, CreatorID: AdminID, TeamID: TeamID,
			Trigger: c.trigger, Method: "P", DisplayName: c.name, Description: c.desc, URL: "https://hooks.example.com/" + c.trigger}
		s.addCommand(cmd)
		s.seedCommands = append(s.seedCommands, cmd.ID)
	}
	for _, h := range []struct{ name, word string }{{"CI events", "build"}, {"Alerts", "alert"}} {
		hook := &outgoingHook{ID: newID(), Token: newID(), CreateAt: now, UpdateAt: now, CreatorID: AdminID,
			ChannelID: TownSquareID, TeamID: TeamID, TriggerWords: []string{h.word}, CallbackURLs: []string{"https://hooks.example.com/" + h.word},
			DisplayName: h.name, ContentType: "application/json"}
		s.addHook(hook)
		s.seedHooks = append(s.seedHooks, hook.ID)
	}
}

// addCommand stores a new command and records its token; s.mu is held or
// the server is not yet shared.
func (s *Server) addCommand(c *command) {
	s.commands[c.ID] = c
	s.teamCommands[c.TeamID] = append(s.teamCommands[c.TeamID], c)
	s.triggers[c.TeamID+"/"+c.Trigger] = true
	s.env.Ledger.Record(Service, KindCommand, c.ID, c.Token)
}

func (s *Server) addHook(h *outgoingHook) {
	s.hooks[h.ID] = h
	s.teamHooks[h.TeamID] = append(s.teamHooks[h.TeamID], h)
	s.hookOrder = append(s.hookOrder, h)
	s.env.Ledger.Record(Service, KindWebhook, h.ID, h.Token)
}

// SeedCommands adds n custom slash commands owned by the team's first
// admin to the named team (for benchmarks) and returns their ids; nil when
// there is no such team.
func (s *Server) SeedCommands(teamName string, n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teamByName[teamName]
	if t == nil {
		return nil
	}
	creator := ""
	for _, u := range s.userOrder {
		if t.admins[u.ID] {
			creator = u.ID
			break
		}
	}
	now := millis(s.now())
	ids := make([]string, 0, n)
	for i := 0; len(ids) < n; i++ {
		trig := "bench-" + itoa(i)
		if s.triggers[t.ID+"/"+trig] {
			continue
		}
		c := &command{ID: newID(), Token: newID(), CreateAt: now, UpdateAt: now, CreatorID: creator, TeamID: t.ID,
			Trigger: trig, Method: "P", DisplayName: "Bench " + itoa(i), URL: "https://hooks.example.com/bench"}
		s.addCommand(c)
		ids = append(ids, c.ID)
	}
	return ids
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// CommandToken is a slash command's current token, as the integration that
// uses it holds it ("" for no such command): tests hand it to keyturn as
// a leaked token.
func (s *Server) CommandToken(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.commands[id]; c != nil {
		return c.Token
	}
	return ""
}

// Configure changes the server's settings.
func (s *Server) Configure(f func(*Settings)) {
	s.mu.Lock()
	f(&s.settings)
	s.mu.Unlock()
}

// EnableRateLimit turns on the real server's rate limiter (off by default):
// perSec requests a second per client address with a burst of maxBurst.
func (s *Server) EnableRateLimit(perSec, maxBurst int) { s.limiter.set(true, perSec, maxBurst) }

// DisableRateLimit turns the rate limiter off again.
func (s *Server) DisableRateLimit() { s.limiter.set(false, 0, 0) }

// TOTPSecret is a user's current MFA secret ("" when none), found by user
// name, so tests can follow a generate they made.
func (s *Server) TOTPSecret(username string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.byLogin[strings.ToLower(username)]; u != nil {
		return u.MFASecret
	}
	return ""
}

// SeedUser is a seeded user and the credentials to sign in with.
type SeedUser struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	Email      string `json:"email"`
	Password   string `json:"password"`
	Roles      string `json:"roles"`
	TeamAdmin  bool   `json:"team_admin"`
	MFAActive  bool   `json:"mfa_active"`
	TOTPSecret string `json:"totp_secret,omitempty"`
}

// SeedObject is a seeded slash command or outgoing webhook.
type SeedObject struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Trigger string `json:"trigger,omitempty"`
}

// Seed describes what the server was seeded with.
type Seed struct {
	Service          string       `json:"service"`
	Users            []SeedUser   `json:"users"`
	TeamID           string       `json:"team_id"`
	TeamName         string       `json:"team_name"`
	ChannelID        string       `json:"channel_id"`
	Commands         []SeedObject `json:"commands"`
	OutgoingWebhooks []SeedObject `json:"outgoing_webhooks"`
}

// Seeds describes the seeded users (with passwords and TOTP secrets as they
// are now), the team and the seeded command and webhook ids.
func (s *Server) Seeds() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Seed{Service: Service, TeamID: TeamID, TeamName: TeamName, ChannelID: TownSquareID}
	t := s.teams[TeamID]
	for _, u := range s.userOrder {
		if !u.seeded {
			continue
		}
		out.Users = append(out.Users, SeedUser{ID: u.ID, Username: u.Username, Email: u.Email, Password: u.Password,
			Roles: u.Roles, TeamAdmin: t.admins[u.ID], MFAActive: u.MFAActive, TOTPSecret: u.MFASecret})
	}
	for _, id := range s.seedCommands {
		c := s.commands[id]
		out.Commands = append(out.Commands, SeedObject{ID: c.ID, Name: c.DisplayName, Trigger: c.Trigger})
	}
	for _, id := range s.seedHooks {
		h := s.hooks[id]
		out.OutgoingWebhooks = append(out.OutgoingWebhooks, SeedObject{ID: h.ID, Name: h.DisplayName})
	}
	return out
}

// Codes are the current TOTP codes of every user with an MFA secret (active,
// or generated and waiting for activation).
func (s *Server) Codes(now time.Time) []simnet.Code {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []simnet.Code
	for _, u := range s.userOrder {
		if u.MFASecret == "" {
			continue
		}
		label := "mattermost " + u.Username + " TOTP"
		if !u.MFAActive {
			label += " (to activate MFA)"
		}
		out = append(out, simnet.Code{Label: label, Code: simnet.TOTPCode(u.MFASecret, now)})
	}
	return out
}

// idEncoding is Mattermost's NewId alphabet: 16 random bytes give 26 chars.
var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// validID is model.IsValidId: 26 letters or digits.
func validID(id string) bool {
	if len(id) != 26 {
		return false
	}
	return alnum(id)
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// ---- HTTP plumbing -------------------------------------------------------

type appError struct {
	ID            string `json:"id"`
	Message       string `json:"message"`
	DetailedError string `json:"detailed_error"`
	RequestID     string `json:"request_id,omitempty"`
	StatusCode    int    `json:"status_code"`
}

// ctx is one handled request.
type ctx struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	reqID  string
	params map[string]string
	sess   *session
	user   *user // the session's user, under s.mu only
	status int
	out    any
}

// fail and reply set the answer; ServeHTTP writes it once the state lock
// is released.
func (c *ctx) fail(status int, id, message string) {
	c.reply(status, appError{ID: id, Message: message, RequestID: c.reqID, StatusCode: status})
}

func (c *ctx) reply(status int, v any) { c.status, c.out = status, v }

func (c *ctx) ok(v any) { c.reply(http.StatusOK, v) }

func (c *ctx) statusOK() { c.ok(map[string]string{"status": "OK"}) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"id":"sandbox.encode","message":"encoding failed","detailed_error":"","status_code":500}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// The error answers the handlers give, with the real server's ids and words.
func (c *ctx) sessionExpired() {
	c.fail(401, "api.context.session_expired.app_error", "Invalid or expired session, please login again.")
}

func (c *ctx) permissionDenied() {
	c.fail(403, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
}

func (c *ctx) invalidBodyParam(name string) {
	c.fail(400, "api.context.invalid_body_param.app_error", "Invalid or missing "+name+" in request body.")
}

func (c *ctx) invalidURLParam(name string) {
	c.fail(400, "api.context.invalid_url_param.app_error", "Invalid or missing "+name+" parameter in request URL.")
}

func (c *ctx) userNotFound() {
	c.fail(404, "app.user.missing_account.const", "Unable to find the user.")
}

func (c *ctx) mfaDisabled() {
	c.fail(501, "mfa.mfa_disabled.app_error", "Multi-factor authentication has been disabled on this server.")
}

func (c *ctx) commandNotFound() {
	c.fail(404, "store.sql_command.save.get.app_error", "Unable to get the command.")
}

func (c *ctx) tokenNotFound() {
	c.fail(404, "app.user_access_token.get_by_user.app_error", "Unable to get the personal access tokens by user.")
}

func routeNotFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, appError{ID: "api.context.404.app_error", Message: "Sorry, we could not find the page.",
		DetailedError: "There doesn't appear to be an api call for the url='" + r.URL.Path + "'.  Typo? are you missing a team_id or user_id as part of the url?",
		StatusCode:    http.StatusNotFound})
}

// body reads the request body (capped).
func (c *ctx) body() []byte {
	b, _ := io.ReadAll(io.LimitReader(c.r.Body, maxBodyBytes))
	return b
}

// stringMap is model.MapFromJSON: a JSON object of strings; a value of
// another type is silently dropped, and anything else is an empty map.
func stringMap(b []byte) map[string]string {
	var m map[string]string
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]string{}
	}
	return m
}

type route struct {
	method  string
	pattern []string // literal segments, or "{name}" for an id-like segment
	session bool
	h       func(*ctx)
}

var routes []route

// newerRoutes are the routes 11.2 does not have (OlderServer answers them
// with the routing 404).
var newerRoutes = map[string]bool{"POST users/tokens/rotate": true}

func init() {
	add := func(method, pattern string, session bool, h func(*ctx)) {
		routes = append(routes, route{method: method, pattern: strings.Split(pattern, "/"), session: session, h: h})
	}
	// Literal routes come before the ones with parameters they overlap.
	add("GET", "system/ping", false, (*ctx).statusOK)
	add("POST", "users/login", false, (*ctx).login)
	add("POST", "users/logout", false, (*ctx).logout)
	add("GET", "users/tokens", true, (*ctx).listAllTokens)
	add("POST", "users/tokens/revoke", true, (*ctx).revokeToken)
	add("POST", "users/tokens/disable", true, (*ctx).disableToken)
	add("POST", "users/tokens/enable", true, (*ctx).enableToken)
	add("POST", "users/tokens/rotate", true, (*ctx).rotateToken)
	add("GET", "users/tokens/{token_id}", true, (*ctx).getToken)
	add("GET", "config/client", true, (*ctx).clientConfig)
	add("GET", "users/{user_id}", true, (*ctx).getUser)
	add("GET", "users/{user_id}/teams", true, (*ctx).getTeamsForUser)
	add("POST", "users/{user_id}/mfa/generate", true, (*ctx).generateMFA)
	add("PUT", "users/{user_id}/mfa", true, (*ctx).updateMFA)
	add("POST", "users/{user_id}/tokens", true, (*ctx).createToken)
	add("GET", "users/{user_id}/tokens", true, (*ctx).listUserTokens)
	add("POST", "commands", true, (*ctx).createCommand)
	add("GET", "commands", true, (*ctx).listCommands)
	add("GET", "commands/{command_id}", true, (*ctx).getCommand)
	add("PUT", "commands/{command_id}/regen_token", true, (*ctx).regenCommandToken)
	add("POST", "hooks/outgoing", true, (*ctx).createHook)
	add("GET", "hooks/outgoing", true, (*ctx).listHooks)
	add("GET", "hooks/outgoing/{hook_id}", true, (*ctx).getHook)
	add("POST", "hooks/outgoing/{hook_id}/regen_token", true, (*ctx).regenHookToken)
}

func match(method, path string) (*route, map[string]string) {
	rest, ok := strings.CutPrefix(path, "/api/v4/")
	if !ok {
		return nil, nil
	}
	segs := strings.Split(rest, "/")
	for i := range routes {
		rt := &routes[i]
		if rt.method != method || len(rt.pattern) != len(segs) {
			continue
		}
		var params map[string]string
		matched := true
		for j, p := range rt.pattern {
			if strings.HasPrefix(p, "{") {
				if !alnum(segs[j]) {
					matched = false
					break
				}
				if params == nil {
					params = map[string]string{}
				}
				params[strings.Trim(p, "{}")] = segs[j]
				continue
			}
			if p != segs[j] {
				matched = false
				break
			}
		}
		if matched {
			return rt, params
		}
	}
	return nil, nil
}

// ServeHTTP is the API. The rate limiter (when on) comes first, as on the
// real server; then routing, whose 404s carry no request id; then the
// session check and the handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.limiter.allow(w, r) {
		return
	}
	s.mu.Lock()
	older := s.settings.OlderServer
	s.mu.Unlock()
	rt, params := match(r.Method, r.URL.Path)
	if rt == nil || older && newerRoutes[r.Method+" "+strings.Join(rt.pattern, "/")] {
		routeNotFound(w, r)
		return
	}
	c := &ctx{s: s, w: w, r: r, reqID: newID(), params: params}
	w.Header().Set("X-Request-Id", c.reqID)
	if older {
		w.Header().Set("X-Version-Id", olderVersionID)
	} else {
		w.Header().Set("X-Version-Id", versionID)
	}
	s.mu.Lock()
	s.cleanupJob()
	c.handle(rt)
	s.mu.Unlock()
	writeJSON(w, c.status, c.out)
}

func (c *ctx) handle(rt *route) {
	c.loadSession()
	switch {
	case rt.session && c.sess == nil:
		c.sessionExpired()
	case c.tokenInQuery():
		c.fail(401, "api.context.token_provided.app_error", "Session is not OAuth but token was provided in the query string.")
	case rt.session && !c.csrfOK():
		c.sessionExpired()
	default:
		rt.h(c)
	}
}

// token finds the credential as the real server does: the MMAUTHTOKEN
// cookie wins, then "Bearer"/"Token" in Authorization, then access_token.
func (c *ctx) token() (tok, where string) {
	if ck, err := c.r.Cookie("MMAUTHTOKEN"); err == nil && ck.Value != "" {
		return ck.Value, "cookie"
	}
	h := c.r.Header.Get("Authorization")
	if len(h) > 6 && strings.EqualFold(h[:6], "bearer") {
		return strings.TrimSpace(h[7:]), "header"
	}
	if len(h) > 5 && strings.EqualFold(h[:5], "token") {
		return strings.TrimSpace(h[6:]), "header"
	}
	if t := c.r.URL.Query().Get("access_token"); t != "" {
		return t, "query"
	}
	return "", ""
}

// loadSession resolves the request's session (nil when none is valid);
// s.mu is held.
func (c *ctx) loadSession() {
	tok, _ := c.token()
	if tok == "" {
		return
	}
	s := c.s
	sess := s.sessions[tok]
	if sess == nil {
		return
	}
	if !sess.ExpiresAt.IsZero() && !s.now().Before(sess.ExpiresAt) {
		delete(s.sessions, tok)
		return
	}
	if sess.PATID != "" {
		pat := s.pats[sess.PATID]
		if pat == nil || !pat.IsActive || !s.settings.EnableUserAccessTokens || s.expired(pat) {
			return
		}
	}
	u := s.users[sess.UserID]
	if u == nil {
		return
	}
	c.sess, c.user = sess, u
}

func (c *ctx) tokenInQuery() bool {
	_, where := c.token()
	return c.sess != nil && where == "query"
}

// csrfOK applies the CSRF check of cookie sessions on non-GET requests.
func (c *ctx) csrfOK() bool {
	_, where := c.token()
	if where != "cookie" || c.r.Method == http.MethodGet {
		return true
	}
	if h := c.r.Header.Get("X-CSRF-Token"); h != "" && h == c.sess.CSRF {
		return true
	}
	return c.r.Header.Get("X-Requested-With") == "XMLHttpRequest"
}

// userParam is RequireUserId: "me" is the session's user; anything else
// must be a valid id. It writes the error and returns "" when not.
func (c *ctx) userParam() string {
	id := c.params["user_id"]
	if id == "me" && c.user != nil {
		return c.user.ID
	}
	if !validID(id) {
		c.invalidURLParam("user_id")
		return ""
	}
	return id
}

func (c *ctx) idParam(name string) string {
	id := c.params[name]
	if !validID(id) {
		c.invalidURLParam(name)
		return ""
	}
	return id
}

// ---- permissions (the default roles) ------------------------------------

const (
	permCreateUserAccessToken = "create_user_access_token"
	permReadUserAccessToken   = "read_user_access_token"
	permRevokeUserAccessToken = "revoke_user_access_token"
	permEditOtherUsers        = "edit_other_users"
	permManageSystem          = "manage_system"

	permViewTeam                    = "view_team"
	permManageOwnSlashCommands      = "manage_own_slash_commands"
	permManageOthersSlashCommands   = "manage_others_slash_commands"
	permManageOwnOutgoingWebhooks   = "manage_own_outgoing_webhooks"
	permManageOthersOutgoingWebhook = "manage_others_outgoing_webhooks"
)

// can reports a system-wide permission of the session's user.
func (c *ctx) can(perm string) bool {
	u := c.user
	if u.hasRole("system_admin") {
		return true
	}
	switch perm {
	case permCreateUserAccessToken, permReadUserAccessToken, permRevokeUserAccessToken:
		return u.hasRole("system_user_access_token")
	}
	return false
}

// canTeam reports a permission in a team: team admins manage commands and
// webhooks, members only view.
func (c *ctx) canTeam(teamID, perm string) bool {
	if c.user.hasRole("system_admin") {
		return true
	}
	t := c.s.teams[teamID]
	if t == nil {
		return false
	}
	admin, member := t.admins[c.user.ID]
	if !member {
		return false
	}
	if perm == permViewTeam {
		return true
	}
	return admin
}

// canUser is SessionHasPermissionToUser: oneself, or edit_other_users.
func (c *ctx) canUser(userID string) bool {
	return userID == c.user.ID || c.can(permEditOtherUsers)
}

// ---- pagination ------------------------------------------------------------

func (c *ctx) paging() (page, perPage int) {
	q := c.r.URL.Query()
	page, perPage = 0, perPageDefault
	if v, ok := atoi(q.Get("page")); ok && v >= 0 {
		page = v
	}
	if v, ok := atoi(q.Get("per_page")); ok && v >= 0 {
		perPage = min(v, perPageMaximum)
	}
	return page, perPage
}

func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int(ch-'0')
	}
	return n, true
}

func pageOf[T any](all []T, page, perPage int) []T {
	start := page * perPage
	if start >= len(all) {
		return []T{}
	}
	return all[start:min(start+perPage, len(all))]
}
