// Package capillarysim is a simulated Capillary auth engine (/auth/v1,
// mobile flavour), written from ../shared/api/capillary.md and not from
// keyturn's client: first-factor sessions with OTP or password (and
// first-time password registration), the MFA second factor (MFA OTP or MFA
// password, first-time MFA password), HS256 JWT tokens and keys,
// token/regenerate and mfa/token/regenerate, and mfa/token/expire.
//
// What it enforces: sessions (P-<uuid>) last 15 minutes on env.Clock; OTPs
// are 6 digits, valid for the session, single use, and the 5th wrong one
// locks the session (1518); the 5th wrong password locks the password for
// 30 minutes (1530); identity fields must match the ones the session, token
// or key was made for (1507/1508/1509/1541). Every token and key it issues
// goes into env.Ledger.
//
// Error answers are {"status":{"success":false,"code":NNNN,"message":"…"}}
// with HTTP 200: no real error body or status is published; this is the
// reference's best guess (§6), from clients that read status.success inside
// their HTTP-success path. An unknown identifierType is, as documented, a
// plain-text Jersey 400, not JSON.
package capillarysim

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"keyturn/sandbox/simnet"
)

// Service names the sandbox in the ledger.
const Service = "capillary"

// Ledger kinds.
const (
	KindToken = "capillary-token"
	KindKey   = "capillary-key"
)

// Roles carried in tokens (rol) and answers (user.role).
const (
	RoleView       = "VIEW"
	RoleUser       = "USER"
	RoleMFAPending = "MFA_PENDING"
	RoleAuth       = "AUTH" // keys
)

// Timing and limits (the engine's documented defaults).
const (
	SessionLifetime         = 15 * time.Minute
	MFATokenLifetime        = 900 * time.Second
	DefaultPrimaryLifetime  = 15 * time.Minute
	MaxOTPRetries           = 5
	MaxPasswordRetries      = 5
	PasswordLockPeriod      = 30 * time.Minute
	OTPLength               = 6
	MaxOTPsPerWindow        = 10               // otpMaxCount …
	OTPWindow               = 15 * time.Minute // … within otpTimeOut
	maxBodyBytes            = 64 << 10
	sessionPrefix           = "P-"
	identifierTypeJavaClass = "com.capillary.solutions.auth.domain.IdentifierType"
)

// The engine's status codes the sandbox answers with.
const (
	codeTokenGenerate    = 1504
	codeInvalidSession   = 1505
	codeInvalidOTP       = 1506
	codeIdentifier       = 1507
	codeDevice           = 1508
	codeBrand            = 1509
	codeUserNotFound     = 1515
	codeOTPLocked        = 1518
	codeInvalidDetails   = 1519
	codePasswordMismatch = 1521
	codePasswordValidate = 1526
	codeWrongPassword    = 1528
	codeTokenExpired     = 1529
	codePasswordLocked   = 1530
	codeExpireFailed     = 1531
	codeOTPLimit         = 1534
	codeNoChannel        = 1540
	codeOTPNotGenerated  = 1537
	codeSessionIdent     = 1541
	codePasswordPolicy   = 1542
	codeIdentifierType   = 1546
	codeKeyInvalid       = 1597
	codeExternalID       = 3005
)

var messages = map[int]string{
	codeTokenGenerate:    "Unsupported brand",
	codeInvalidSession:   "Invalid session.",
	codeInvalidOTP:       "Invalid OTP",
	codeIdentifier:       "Mobile number does not match with the mobile number used to generate token/session.",
	codeDevice:           "Device ID does not match with the device ID used to generate token/session.",
	codeBrand:            "Brand name does not match with the brand name used to generate token/session.",
	codeUserNotFound:     "User does not exist.",
	codeOTPLocked:        "Reached the maximum allowed OTP retry attempts, Authenticate form the start.",
	codeInvalidDetails:   "Invalid details passed.",
	codePasswordMismatch: "Password and confirm password does not match.",
	codePasswordValidate: "Unable to validate password.",
	codeWrongPassword:    "Invalid password, please try with the correct password.",
	codeTokenExpired:     "Token has expired.",
	codePasswordLocked:   "Reached the maximum allowed password retry attempts, please reset your password.",
	codeExpireFailed:     "Unable to expire token.",
	codeOTPLimit:         "Reached the maximum number of OTPs allowed per customer.",
	codeNoChannel:        "Either mobile or email is required to send OTP.",
	codeOTPNotGenerated:  "OTP is not generated for the provided details. Please generate OTP and try again.",
	codeSessionIdent:     "Identifier used to generate session does not match with the identifier used to generate or validate OTP.",
	codePasswordPolicy:   "Password does not meet the requirements.",
	codeIdentifierType:   "Invalid identifierType passed.",
	codeKeyInvalid:       "Key expired or not valid",
	codeExternalID:       "External ID login must be enabled",
}

// apiError is a business error: HTTP 200 with status.success false.
type apiError struct{ code int }

func fail(code int) *apiError { return &apiError{code: code} }

type brand struct {
	name       string
	orgID      string
	orgCode    string
	externalID bool // EXTERNALID login enabled
	users      map[string]*user
	// mfaRoleUnmarked: first-factor tokens say USER even for people
	// enrolled in MFA (MFA_ROLE / CONF_FORCED_MFA not set to mark them), as
	// in the docs' own sample authorizedToken.
	mfaRoleUnmarked bool
	// mfaPasswordRule is MFA_PASSWORD_REGEX; nil: none. The docs set no
	// rule for first-factor passwords.
	mfaPasswordRule *regexp.Regexp
}

type user struct {
	uid         string
	idType      string
	value       string
	mobile      string // a USERNAME user's mobile and email, one of which
	email       string // token/generate and token/regenerate need with it
	password    string
	pwFails     int
	pwLocked    time.Time
	mfaEnrolled bool
	mfaPassword string
	mfaPwFails  int
	mfaPwLocked time.Time
}

type session struct {
	id       string
	mfa      bool
	brand    *brand
	user     *user
	idType   string
	value    string
	device   string
	expires  time.Time
	otp      string
	otpFails int
	locked   bool
	// pendingPassword is set by token/generate (or mfa/token/generate)
	// with password+confirmPassword; it takes effect on OTP validation.
	pendingPassword string
}

type keyRecord struct {
	brand  *brand
	user   *user
	mfa    bool
	idv    string
	device string
}

// Sent is one OTP the engine "sent" (the outbox).
type Sent struct {
	Brand           string    `json:"brand"`
	IdentifierType  string    `json:"identifierType"`
	IdentifierValue string    `json:"identifierValue"`
	MFA             bool      `json:"mfa"`
	SessionID       string    `json:"sessionId"`
	OTP             string    `json:"otp"`
	Time            time.Time `json:"time"`
	Expires         time.Time `json:"expires"`
}

// Server is the simulated auth engine.
type Server struct {
	env    *simnet.Env
	secret []byte

	mu              sync.Mutex
	brands          map[string]*brand // by upper-cased name
	sessions        map[string]*session
	keys            map[string]*keyRecord
	expired         map[string]bool // jti of tokens expired by mfa/token/expire
	mfaTokens       map[string]bool // jti of tokens from the MFA step (the only ones mfa/token/expire takes)
	outbox          []Sent
	primaryLifetime time.Duration
}

// New is a sandbox engine seeded with brand DemoBrand and its users (see
// Seeds).
func New(env *simnet.Env) *Server {
	if env == nil {
		env = simnet.NewEnv()
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	s := &Server{
		env:             env,
		secret:          secret,
		brands:          map[string]*brand{},
		sessions:        map[string]*session{},
		keys:            map[string]*keyRecord{},
		expired:         map[string]bool{},
		mfaTokens:       map[string]bool{},
		primaryLifetime: DefaultPrimaryLifetime,
	}
	s.seed()
	return s
}

// SetPrimaryTokenLifetime sets how long first-factor tokens (otp/validate,
// password/validate, token/regenerate) live; real orgs range from 90 s to
// 24 h. MFA tokens always live 900 s.
func (s *Server) SetPrimaryTokenLifetime(d time.Duration) {
	s.mu.Lock()
	s.primaryLifetime = d
	s.mu.Unlock()
}

// SetMFARoleMarked says whether the seeded brand's first-factor tokens
// carry the role MFA_PENDING for people enrolled in MFA (the default). Off,
// they say USER, as the docs' sample authorizedToken does: the MFA step is
// still required, but the token does not tell.
func (s *Server) SetMFARoleMarked(on bool) {
	s.mu.Lock()
	s.brands[normBrand(SeedBrand)].mfaRoleUnmarked = !on
	s.mu.Unlock()
}

// SetMFAPasswordRule sets the seeded brand's MFA_PASSWORD_REGEX ("" none):
// a new MFA password that does not match is refused with 1542.
func (s *Server) SetMFAPasswordRule(pattern string) error {
	var re *regexp.Regexp
	if pattern != "" {
		var err error
		if re, err = regexp.Compile(pattern); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.brands[normBrand(SeedBrand)].mfaPasswordRule = re
	s.mu.Unlock()
	return nil
}

// request is every field any endpoint reads.
type request struct {
	IdentifierType  identifierType  `json:"identifierType"`
	IdentifierValue string          `json:"identifierValue"`
	Brand           string          `json:"brand"`
	DeviceID        string          `json:"deviceId"`
	SessionID       string          `json:"sessionId"`
	Password        string          `json:"password"`
	ConfirmPassword string          `json:"confirmPassword"`
	OTP             json.RawMessage `json:"otp"`
	AuthorizedToken string          `json:"authorizedToken"`
	Key             string          `json:"key"`
	Token           string          `json:"token"`
	Mobile          string          `json:"mobile"`
	Email           string          `json:"email"`
}

// identifierType fails to decode on a value outside the enum, like the
// engine's Jackson deserializer.
type identifierType string

type enumError struct{ value string }

func (e *enumError) Error() string {
	return fmt.Sprintf("Can not deserialize value of type %s from String %q: value not one of declared Enum instance names: [MOBILE, EMAIL, USERNAME, EXTERNALID]", identifierTypeJavaClass, e.value)
}

func (t *identifierType) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = ""
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return &enumError{value: string(b)}
	}
	switch v {
	case "": // read as null; the engine then answers 1546
		*t = ""
		return nil
	case "MOBILE", "EMAIL", "USERNAME", "EXTERNALID":
		*t = identifierType(v)
		return nil
	}
	return &enumError{value: v}
}

type endpoint struct {
	method string
	handle func(now time.Time, req *request) (any, *apiError)
}

func (s *Server) endpoints() map[string]endpoint {
	return map[string]endpoint{
		"/auth/v1/token/generate":        {http.MethodPost, s.tokenGenerate},
		"/auth/v1/otp/generate":          {http.MethodPost, s.otpGenerate(false)},
		"/auth/v1/otp/validate":          {http.MethodPost, s.otpValidate(false)},
		"/auth/v1/password/validate":     {http.MethodPost, s.passwordValidate(false)},
		"/auth/v1/token/regenerate":      {http.MethodPost, s.regenerate(false)},
		"/auth/v1/mfa/token/generate":    {http.MethodPost, s.mfaTokenGenerate},
		"/auth/v1/mfa/otp/generate":      {http.MethodPost, s.otpGenerate(true)},
		"/auth/v1/mfa/otp/validate":      {http.MethodPost, s.otpValidate(true)},
		"/auth/v1/mfa/password/validate": {http.MethodPost, s.passwordValidate(true)},
		"/auth/v1/mfa/token/regenerate":  {http.MethodPost, s.regenerate(true)},
		"/auth/v1/mfa/token/expire":      {http.MethodDelete, s.tokenExpire},
	}
}

// ServeHTTP is the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, ok := s.endpoints()[strings.TrimRight(r.URL.Path, "/")]
	if !ok {
		plain(w, http.StatusNotFound, "HTTP 404 Not Found")
		return
	}
	if r.Method != ep.method {
		w.Header().Set("Allow", ep.method)
		plain(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
		return
	}
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&req); err != nil {
		// Jersey/Jackson answer undecodable bodies with plain text.
		if ee, ok := err.(*enumError); ok {
			plain(w, http.StatusBadRequest, ee.Error()+"\n at [Source: org.glassfish.jersey.message.internal.ReaderInterceptorExecutor$UnCloseableInputStream; line: 1, column: 20] (through reference chain: com.capillary.solutions.auth.dto.AuthRequest[\"identifierType\"])")
			return
		}
		plain(w, http.StatusBadRequest, "Unable to process JSON")
		return
	}
	s.mu.Lock()
	out, aerr := ep.handle(s.env.Clock.Now(), &req)
	s.mu.Unlock()
	if aerr != nil {
		msg := messages[aerr.code]
		writeJSON(w, map[string]any{"status": map[string]any{"success": false, "code": aerr.code, "message": msg}})
		return
	}
	writeJSON(w, out)
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	fmt.Fprint(w, msg)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		plain(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// Answer shapes, with the documented field order.
type status struct {
	Success bool   `json:"success"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type auth struct {
	Token string  `json:"token"`
	Key   *string `json:"key"`
}

type userOut struct {
	AppRegistered             bool    `json:"appRegistered"`
	SessionID                 *string `json:"sessionId"`
	Role                      string  `json:"role"`
	UserRegisteredForPassword bool    `json:"userRegisteredForPassword"`
}

type identifiers struct {
	IdentifierList *[]string `json:"identifierList"`
}

type answer struct {
	Status      status       `json:"status"`
	Auth        *auth        `json:"auth,omitempty"`
	Identifiers *identifiers `json:"identifiers,omitempty"`
	User        *userOut     `json:"user,omitempty"`
}

var ok200 = status{Success: true, Code: 200, Message: "SUCCESS"}

// identify checks the identity fields every call carries and returns the
// brand.
func (s *Server) identify(req *request) (*brand, *apiError) {
	if req.IdentifierType == "" {
		return nil, fail(codeIdentifierType)
	}
	if strings.TrimSpace(req.IdentifierValue) == "" || strings.TrimSpace(req.Brand) == "" || strings.TrimSpace(req.DeviceID) == "" {
		return nil, fail(codeInvalidDetails)
	}
	b := s.brands[normBrand(req.Brand)]
	if b == nil {
		return nil, fail(codeTokenGenerate)
	}
	if req.IdentifierType == "EXTERNALID" && !b.externalID {
		return nil, fail(codeExternalID)
	}
	return b, nil
}

func normBrand(name string) string { return strings.ToUpper(strings.TrimSpace(name)) }

func normValue(idType, v string) string {
	v = strings.TrimSpace(v)
	if idType == "EMAIL" {
		v = strings.ToLower(v)
	}
	return v
}

func userKey(idType, value string) string { return idType + "|" + normValue(idType, value) }

// checkSession finds a live session of the right kind for req and checks
// that req's identity is the session's.
func (s *Server) checkSession(now time.Time, req *request, b *brand, mfa bool, identCode int) (*session, *apiError) {
	ss := s.sessions[strings.TrimSpace(req.SessionID)]
	if ss == nil || ss.mfa != mfa {
		return nil, fail(codeInvalidSession)
	}
	if !now.Before(ss.expires) {
		delete(s.sessions, ss.id)
		return nil, fail(codeInvalidSession)
	}
	switch {
	case ss.brand != b:
		return nil, fail(codeBrand)
	case ss.device != req.DeviceID:
		return nil, fail(codeDevice)
	case userKey(ss.idType, ss.value) != userKey(string(req.IdentifierType), req.IdentifierValue):
		return nil, fail(identCode)
	}
	return ss, nil
}

// checkIdentity compares req with the identity a token or key was made for.
func checkIdentity(req *request, b *brand, org, dev, idv string) *apiError {
	switch {
	case strings.ToUpper(b.name) != org:
		return fail(codeBrand)
	case dev != req.DeviceID:
		return fail(codeDevice)
	case idv != userKey(string(req.IdentifierType), req.IdentifierValue):
		return fail(codeIdentifier)
	}
	return nil
}

func newSessionID() string {
	u := make([]byte, 16)
	_, _ = rand.Read(u)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%s%x-%x-%x-%x-%x", sessionPrefix, u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func newJTI() string { return simnet.RandomString(16, simnet.RocketIDChars) }

func (s *Server) header(b *brand, idType, value, device string) jwtHeader {
	dev := device
	return jwtHeader{IDV: []string{userKey(idType, value)}, Dev: &dev, Org: strings.ToUpper(b.name)}
}

func ledgerID(b *brand, u *user) string {
	return strings.ToUpper(b.name) + "/" + userKey(u.idType, u.value)
}

// mintToken signs a token, records it and returns it.
func (s *Server) mintToken(now time.Time, b *brand, u *user, device, role string, life time.Duration, id string) string {
	c := jwtClaims{Iss: issuer, Isc: "false", Ogc: []string{b.orgID + "|" + b.orgCode},
		Exp: now.Add(life).Unix(), Iat: now.Unix(), Rol: role, Jti: newJTI()}
	if role != RoleView {
		c.UID = u.uid
	}
	tok := signJWT(s.secret, s.header(b, u.idType, u.value, device), c)
	s.env.Ledger.Record(Service, KindToken, id, tok)
	return tok
}

// mintMFAToken is mintToken for the MFA step's tokens, which
// mfa/token/expire takes.
func (s *Server) mintMFAToken(now time.Time, b *brand, u *user, device string) string {
	tok := s.mintToken(now, b, u, device, RoleUser, MFATokenLifetime, ledgerID(b, u))
	if _, c, err := verifyJWT(s.secret, tok); err == nil {
		s.mfaTokens[c.Jti] = true
	}
	return tok
}

// mintKey signs a key (rol AUTH, no exp), remembers and records it.
func (s *Server) mintKey(now time.Time, b *brand, u *user, device string, mfa bool) string {
	m := mfa
	c := jwtClaims{UID: u.uid, Iss: issuer, MFA: &m, Iat: now.Unix(), Rol: RoleAuth, Jti: newJTI()}
	key := signJWT(s.secret, s.header(b, u.idType, u.value, device), c)
	s.keys[key] = &keyRecord{brand: b, user: u, mfa: mfa, idv: userKey(u.idType, u.value), device: device}
	s.env.Ledger.Record(Service, KindKey, ledgerID(b, u), key)
	return key
}

// firstFactorRole is the role of a first-factor token: MFA_PENDING for a
// person enrolled in MFA where the brand marks it, USER otherwise.
func firstFactorRole(b *brand, u *user) string {
	if u.mfaEnrolled && !b.mfaRoleUnmarked {
		return RoleMFAPending
	}
	return RoleUser
}

// usernameChannel checks the mobile or email a USERNAME identifier needs
// on token/generate and token/regenerate (one of them; a given one must
// be the user's).
func usernameChannel(req *request, u *user) *apiError {
	if string(req.IdentifierType) != "USERNAME" {
		return nil
	}
	mobile, email := strings.TrimSpace(req.Mobile), strings.ToLower(strings.TrimSpace(req.Email))
	switch {
	case mobile == "" && email == "":
		return fail(codeNoChannel)
	case mobile != "" && mobile != u.mobile, email != "" && email != u.email:
		return fail(codeIdentifier)
	}
	return nil
}

func sessionAnswer(ss *session, viewToken string, registered bool) *answer {
	id := ss.id
	return &answer{Status: ok200, Auth: &auth{Token: viewToken},
		User: &userOut{SessionID: &id, Role: RoleView, UserRegisteredForPassword: registered}}
}

func tokenAnswer(token string, key *string, role string, registered, withIdentifiers bool) *answer {
	a := &answer{Status: ok200, Auth: &auth{Token: token, Key: key},
		User: &userOut{Role: role, UserRegisteredForPassword: registered}}
	if withIdentifiers {
		a.Identifiers = &identifiers{}
	}
	return a
}

// checkNewPassword checks password+confirmPassword for a registration
// against rule (nil: any password).
func checkNewPassword(pw, confirm string, rule *regexp.Regexp) *apiError {
	if pw != confirm {
		return fail(codePasswordMismatch)
	}
	if rule != nil && !rule.MatchString(pw) {
		return fail(codePasswordPolicy)
	}
	return nil
}

// token/generate: a first-factor session and its VIEW token. A first-time
// password user may register a password here; it takes effect on OTP
// validation. A password sent by a user who has one already is ignored
// (changing it is password/change's job).
func (s *Server) tokenGenerate(now time.Time, req *request) (any, *apiError) {
	b, aerr := s.identify(req)
	if aerr != nil {
		return nil, aerr
	}
	u := b.users[userKey(string(req.IdentifierType), req.IdentifierValue)]
	if u == nil {
		return nil, fail(codeUserNotFound)
	}
	if aerr := usernameChannel(req, u); aerr != nil {
		return nil, aerr
	}
	return s.openSession(now, req, b, u, false, u.password, nil, SessionLifetime)
}

// openSession starts a first-factor or MFA session. A person with no
// password of that kind may set one (password+confirmPassword); it takes
// effect when the session's OTP is validated.
func (s *Server) openSession(now time.Time, req *request, b *brand, u *user, mfa bool, current string, rule *regexp.Regexp, viewLife time.Duration) (any, *apiError) {
	ss := &session{id: newSessionID(), mfa: mfa, brand: b, user: u, idType: u.idType, value: u.value,
		device: req.DeviceID, expires: now.Add(SessionLifetime)}
	if (req.Password != "" || req.ConfirmPassword != "") && current == "" {
		if aerr := checkNewPassword(req.Password, req.ConfirmPassword, rule); aerr != nil {
			return nil, aerr
		}
		ss.pendingPassword = req.Password
	}
	s.sessions[ss.id] = ss
	view := s.mintToken(now, b, u, req.DeviceID, RoleView, viewLife, ledgerID(b, u))
	return sessionAnswer(ss, view, current != ""), nil
}

// mfa/token/generate: an MFA session, from a first-factor token. A person
// without an MFA password may set one (password+confirmPassword); it takes
// effect on MFA OTP validation.
func (s *Server) mfaTokenGenerate(now time.Time, req *request) (any, *apiError) {
	b, aerr := s.identify(req)
	if aerr != nil {
		return nil, aerr
	}
	if req.AuthorizedToken == "" {
		return nil, fail(codeInvalidDetails)
	}
	h, c, err := verifyJWT(s.secret, req.AuthorizedToken)
	if err != nil || (c.Rol != RoleMFAPending && c.Rol != RoleUser) || len(h.IDV) != 1 || h.Dev == nil {
		return nil, fail(codeInvalidSession)
	}
	if aerr := checkIdentity(req, b, h.Org, *h.Dev, h.IDV[0]); aerr != nil {
		return nil, aerr
	}
	if s.expired[c.Jti] || !now.Before(time.Unix(c.Exp, 0)) {
		return nil, fail(codeTokenExpired)
	}
	u := b.users[h.IDV[0]]
	if u == nil || u.uid != c.UID {
		return nil, fail(codeUserNotFound)
	}
	return s.openSession(now, req, b, u, true, u.mfaPassword, b.mfaPasswordRule, MFATokenLifetime)
}

// otp/generate and mfa/otp/generate: a new 6-digit OTP for the session,
// into the outbox. It replaces the session's previous OTP.
func (s *Server) otpGenerate(mfa bool) func(time.Time, *request) (any, *apiError) {
	return func(now time.Time, req *request) (any, *apiError) {
		b, aerr := s.identify(req)
		if aerr != nil {
			return nil, aerr
		}
		ss, aerr := s.checkSession(now, req, b, mfa, codeSessionIdent)
		if aerr != nil {
			return nil, aerr
		}
		if ss.locked {
			return nil, fail(codeOTPLocked)
		}
		sent := 0
		for _, o := range s.outbox {
			if o.MFA == mfa && o.Brand == b.name && o.IdentifierType == ss.idType && o.IdentifierValue == ss.value && now.Sub(o.Time) < OTPWindow {
				sent++
			}
		}
		if sent >= MaxOTPsPerWindow {
			return nil, fail(codeOTPLimit)
		}
		ss.otp = simnet.RandomString(OTPLength, simnet.Digits)
		ss.otpFails = 0
		s.outbox = append(s.outbox, Sent{Brand: b.name, IdentifierType: ss.idType, IdentifierValue: ss.value, MFA: mfa,
			SessionID: ss.id, OTP: ss.otp, Time: now, Expires: ss.expires})
		return &answer{Status: ok200}, nil
	}
}

// otpText reads the otp field, a JSON string or (as in the MFA sample) a
// bare number.
func otpText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", false
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return strings.TrimSpace(str), strings.TrimSpace(str) != ""
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// otpMatches compares codes; a number loses leading zeros, so compare
// without them when the code came as a number.
func otpMatches(want, got string, asNumber bool) bool {
	if asNumber {
		return strings.TrimLeft(want, "0") == strings.TrimLeft(got, "0") && got != ""
	}
	return want == got
}

// otp/validate and mfa/otp/validate.
func (s *Server) otpValidate(mfa bool) func(time.Time, *request) (any, *apiError) {
	return func(now time.Time, req *request) (any, *apiError) {
		b, aerr := s.identify(req)
		if aerr != nil {
			return nil, aerr
		}
		ss, aerr := s.checkSession(now, req, b, mfa, codeSessionIdent)
		if aerr != nil {
			return nil, aerr
		}
		code, ok := otpText(req.OTP)
		if !ok {
			return nil, fail(codeInvalidDetails)
		}
		if ss.locked {
			return nil, fail(codeOTPLocked)
		}
		if ss.otp == "" {
			return nil, fail(codeOTPNotGenerated)
		}
		asNumber := len(bytes.TrimSpace(req.OTP)) > 0 && bytes.TrimSpace(req.OTP)[0] != '"'
		if !otpMatches(ss.otp, code, asNumber) {
			ss.otpFails++
			if ss.otpFails >= MaxOTPRetries {
				ss.locked = true
				return nil, fail(codeOTPLocked)
			}
			return nil, fail(codeInvalidOTP)
		}
		delete(s.sessions, ss.id) // single use
		u := ss.user
		if mfa {
			if ss.pendingPassword != "" {
				u.mfaPassword = ss.pendingPassword
				u.mfaPwFails, u.mfaPwLocked = 0, time.Time{}
			}
			return s.finishMFA(now, b, u, ss.device, false), nil
		}
		if ss.pendingPassword != "" {
			u.password = ss.pendingPassword
			u.pwFails, u.pwLocked = 0, time.Time{}
		}
		return s.finishPrimary(now, b, u, ss.device, false), nil
	}
}

func (s *Server) finishPrimary(now time.Time, b *brand, u *user, device string, withIdentifiers bool) *answer {
	role := firstFactorRole(b, u)
	tok := s.mintToken(now, b, u, device, role, s.primaryLifetime, ledgerID(b, u))
	key := s.mintKey(now, b, u, device, false)
	return tokenAnswer(tok, &key, role, u.password != "", withIdentifiers)
}

func (s *Server) finishMFA(now time.Time, b *brand, u *user, device string, withIdentifiers bool) *answer {
	tok := s.mintMFAToken(now, b, u, device)
	key := s.mintKey(now, b, u, device, true)
	return tokenAnswer(tok, &key, RoleUser, u.mfaPassword != "", withIdentifiers)
}

// password/validate and mfa/password/validate.
func (s *Server) passwordValidate(mfa bool) func(time.Time, *request) (any, *apiError) {
	return func(now time.Time, req *request) (any, *apiError) {
		b, aerr := s.identify(req)
		if aerr != nil {
			return nil, aerr
		}
		ss, aerr := s.checkSession(now, req, b, mfa, codeIdentifier)
		if aerr != nil {
			return nil, aerr
		}
		if req.Password == "" {
			return nil, fail(codeInvalidDetails)
		}
		u := ss.user
		want, fails, locked := &u.password, &u.pwFails, &u.pwLocked
		if mfa {
			want, fails, locked = &u.mfaPassword, &u.mfaPwFails, &u.mfaPwLocked
		}
		if *want == "" {
			return nil, fail(codePasswordValidate)
		}
		if now.Before(*locked) {
			return nil, fail(codePasswordLocked)
		}
		if req.Password != *want {
			*fails++
			if *fails >= MaxPasswordRetries {
				*fails = 0
				*locked = now.Add(PasswordLockPeriod)
				return nil, fail(codePasswordLocked)
			}
			return nil, fail(codeWrongPassword)
		}
		*fails = 0
		delete(s.sessions, ss.id)
		if mfa {
			return s.finishMFA(now, b, u, ss.device, true), nil
		}
		return s.finishPrimary(now, b, u, ss.device, true), nil
	}
}

// token/regenerate and mfa/token/regenerate: a new token for the key;
// key:null in the answer (the key lives on).
func (s *Server) regenerate(mfa bool) func(time.Time, *request) (any, *apiError) {
	return func(now time.Time, req *request) (any, *apiError) {
		b, aerr := s.identify(req)
		if aerr != nil {
			return nil, aerr
		}
		k := s.keys[req.Key]
		if k == nil || k.mfa != mfa {
			return nil, fail(codeKeyInvalid)
		}
		if aerr := checkIdentity(req, b, strings.ToUpper(k.brand.name), k.device, k.idv); aerr != nil {
			return nil, aerr
		}
		u := k.user
		if mfa {
			tok := s.mintMFAToken(now, b, u, k.device)
			return tokenAnswer(tok, nil, RoleUser, u.mfaPassword != "", false), nil
		}
		if aerr := usernameChannel(req, u); aerr != nil {
			return nil, aerr
		}
		role := firstFactorRole(b, u)
		tok := s.mintToken(now, b, u, k.device, role, s.primaryLifetime, ledgerID(b, u))
		return tokenAnswer(tok, nil, role, u.password != "", false), nil
	}
}

// mfa/token/expire (DELETE with a JSON body): the token stops working. The
// docs limit it to tokens from mfa/otp/validate or mfa/password/validate
// (and mfa/token/regenerate): a first-factor token is refused (1531).
func (s *Server) tokenExpire(now time.Time, req *request) (any, *apiError) {
	b, aerr := s.identify(req)
	if aerr != nil {
		return nil, aerr
	}
	h, c, err := verifyJWT(s.secret, req.Token)
	if err != nil || c.Rol == RoleAuth || len(h.IDV) != 1 || h.Dev == nil {
		return nil, fail(codeExpireFailed)
	}
	if aerr := checkIdentity(req, b, h.Org, *h.Dev, h.IDV[0]); aerr != nil {
		return nil, aerr
	}
	if s.expired[c.Jti] || !now.Before(time.Unix(c.Exp, 0)) || !s.mfaTokens[c.Jti] {
		return nil, fail(codeExpireFailed)
	}
	s.expired[c.Jti] = true
	return &answer{Status: status{Success: true, Code: 200, Message: "Token expired successfully"}}, nil
}

// TokenExpired reports whether a token was expired with mfa/token/expire.
func (s *Server) TokenExpired(token string) bool {
	_, c, err := verifyJWT(s.secret, token)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expired[c.Jti]
}

// Outbox is every OTP sent so far, oldest first.
func (s *Server) Outbox() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.outbox...)
}

func (s *Server) lastSent(identifierValue string, mfa bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := strings.TrimSpace(identifierValue)
	for i := len(s.outbox) - 1; i >= 0; i-- {
		o := s.outbox[i]
		if o.MFA == mfa && strings.EqualFold(o.IdentifierValue, v) {
			return o.OTP
		}
	}
	return ""
}

// LastOTP is the last first-factor OTP sent to identifierValue, "" if none.
func (s *Server) LastOTP(identifierValue string) string { return s.lastSent(identifierValue, false) }

// LastMFAOTP is the last MFA OTP sent to identifierValue, "" if none.
func (s *Server) LastMFAOTP(identifierValue string) string { return s.lastSent(identifierValue, true) }

// Codes are the OTPs a demo person needs now: the last first-factor and the
// last MFA OTP per identifier, while their session lives.
func (s *Server) Codes(now time.Time) []simnet.Code {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []simnet.Code
	for i := len(s.outbox) - 1; i >= 0; i-- {
		o := s.outbox[i]
		what := "OTP"
		if o.MFA {
			what = "MFA OTP"
		}
		label := fmt.Sprintf("Capillary %s for %s %s (%s)", what, o.IdentifierType, o.IdentifierValue, o.Brand)
		if seen[label] {
			continue
		}
		seen[label] = true
		if now.Before(o.Expires) {
			out = append(out, simnet.Code{Label: label, Code: o.OTP})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}
