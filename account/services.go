package account

import (
	"context"
	"fmt"

	"keyturn/client"

	"keyturn/config"
)

// registry holds every service, in display order. Adding a service adds
// one line here (see doc.go).
var registry = []Service{
	mattermostService{},
	rocketChatService{},
	capillaryService{},
}

// Services lists the service ids in display order.
var Services = func() []string {
	out := make([]string, 0, len(registry))
	for _, s := range registry {
		out = append(out, s.Info().ID)
	}
	return out
}()

// Lookup finds a service by its id ("mattermost").
func Lookup(id string) (Service, bool) {
	for _, s := range registry {
		if s.Info().ID == id {
			return s, true
		}
	}
	return nil, false
}

// All lists the services in display order.
func All() []Service { return append([]Service(nil), registry...) }

// Info describes a service by id; an unknown id gets a bare description
// (its id as name, no capability), so a face never needs to check.
func Info(id string) *ServiceInfo {
	if s, ok := Lookup(id); ok {
		return s.Info()
	}
	return &ServiceInfo{ID: id, Name: id, Short: "?"}
}

// Service is one kind of server keyturn speaks to: what the faces may ask
// of it (Info), and the calls that differ from one service to the next.
// The calls are unexported: every service lives in this package, one file
// each, and the Manager's exported methods call them under its locks.
type Service interface {
	Info() *ServiceInfo
	// normalize checks the service's own fields of an account and fills
	// what follows from them.
	normalize(a *config.Account) error
	login(ctx context.Context, m *Manager, a config.Account, req LoginRequest) error
	// logout ends cred's session on the server, where there is one to end.
	logout(ctx context.Context, m *Manager, a config.Account, hc *client.Client, cred *credential) error
	// tokens lists the server's tokens of the given kinds.
	tokens(ctx context.Context, m *Manager, s *session, kinds []string, team string) ([]Token, error)
	// rotate replaces one of its tokens (ref's kind is the service's, and
	// storable); revoke ends one of its revocable tokens on the server.
	rotate(ctx context.Context, m *Manager, s *session, ref Ref, ans *Answer) (*Issued, error)
	revoke(ctx context.Context, m *Manager, s *session, ref Ref, ans *Answer) error
}

// fetcher is a service whose server shows some tokens' values in its
// lists (TokenKind.Fetchable): keyturn stores them without rotating.
type fetcher interface {
	fetch(ctx context.Context, s *session, ref Ref) (string, error)
}

// tokenSignIn is a service that can sign in with a token made elsewhere.
type tokenSignIn interface {
	loginWithToken(ctx context.Context, m *Manager, a config.Account, hc *client.Client, token, userID string) error
}

// mfaService is a service whose TOTP keyturn sets up and switches off.
type mfaService interface {
	mfaActive(ctx context.Context, s *session) (bool, error)
	beginMFA(ctx context.Context, m *Manager, s *session, replace bool, ans *Answer) (*MFASetup, error)
	activateMFA(ctx context.Context, m *Manager, s *session, code string, ans *Answer) ([]string, error)
	disableMFA(ctx context.Context, m *Manager, s *session, code string) error
}

// creator is a service where keyturn creates new tokens (ServiceInfo.Creates).
type creator interface {
	create(ctx context.Context, m *Manager, s *session, label string, bypass2FA bool, ans *Answer) (*Issued, error)
}

// ServiceInfo is what a face may ask of a service instead of comparing
// its name: words, colours, and which operations apply.
type ServiceInfo struct {
	ID    string // in the config and on the command line: "mattermost"
	Name  string // for people: "Mattermost"
	Short string // the badge: "MM"
	Color string // the badge's background, #RRGGBB

	SignIn SignInForm
	// MFA is nil when keyturn does not set up TOTP on the service.
	MFA *MFAInfo
	// Kinds are the token kinds, in display order.
	Kinds []TokenKind
	// Page lists the sections of an account's page in display order:
	// token kinds, and SectionMFA where the MFA row goes.
	Page []string
	// Creates is the kind keyturn creates new tokens of; "" for none.
	Creates string
	// AutoRegenerate: the token expires soon and keyturn can renew it
	// before it does while the account is open (Capillary's session).
	AutoRegenerate bool
	Challenge      ChallengeRules
}

// SignInForm is the shape of the service's sign-in.
type SignInForm struct {
	// PasswordOptional: the server asks for each factor in turn, and an
	// empty password picks a one-time code as the first factor; a sign-in
	// waiting for a code is begun again rather than resumed.
	PasswordOptional bool
	// MFAPassword: an MFA password may follow the password (on the
	// second line of stdin).
	MFAPassword bool
	// ResendWithoutPassword: a fresh code can be asked for before the
	// password is typed.
	ResendWithoutPassword bool
	// Identity: the account signs in with brand, identifier type and value,
	// and device id rather than a user name.
	Identity bool
	// UserLabel names the login field when it is not "User".
	UserLabel string
	// WithToken: keyturn can sign in with a token made elsewhere;
	// TokenNeedsUserID: the token comes with its user id.
	WithToken        bool
	TokenNeedsUserID bool
}

// MFAInfo says how the service's TOTP is set up and switched off.
type MFAInfo struct {
	Title string // the account page's heading
	// Replaceable: an active secret can be replaced by a new setup;
	// otherwise it must be disabled first.
	Replaceable bool
	// DisableNeedsCode: switching TOTP off asks for a current code.
	DisableNeedsCode bool
	// ActivationChallenge: activating may be asked a second factor, and a
	// refused code comes back as a plain error.
	ActivationChallenge bool
	// BackupCodes: activation answers with one-time backup codes.
	BackupCodes bool
}

// TokenKind is one kind of token a service has.
type TokenKind struct {
	Kind  string // KindUserToken etc.
	Title string // plural heading: "User access tokens"
	// Noun names one token of the kind: "user access token".
	Noun string
	// Label names what the person gives a new token ("Description"),
	// and Example is one.
	Label, Example string
	// LabelIsID: the label becomes the token's id, and so part of its
	// secret's name.
	LabelIsID bool
	// Bypass2FA: a new token can be made to skip the second factor.
	Bypass2FA bool
	// PerTeam: the tokens belong to a team (Mattermost commands, webhooks).
	PerTeam bool
	// Revocable: the server can end the token; otherwise it can only be
	// regenerated.
	Revocable bool
	// Fetchable: the server shows the token's value in its list, so
	// keyturn can store it without rotating it.
	Fetchable bool
	// RotateAll: a bulk rotation covers the kind.
	RotateAll bool
	// Session: the account's one current token, not a listed one.
	Session bool
	// Expires: a token of the kind can be given an expiry, and the server
	// may have a maximum lifetime (TokenLifetimeLimit); its rotation keeps
	// the lifetime. (Mattermost from 11.10; older servers ignore it.)
	Expires bool
}

// ChallengeRules say how the service's second-factor challenges are
// answered.
type ChallengeRules struct {
	// LettersInTOTP: a TOTP answer may hold letters (backup codes).
	LettersInTOTP bool
	// PasswordFallback: the "password" method is the account password,
	// sent hashed, as the second factor.
	PasswordFallback bool
	// OneMethodAtSignIn: sign-in checks only the first method the user has
	// enabled, so the person cannot switch to another there.
	OneMethodAtSignIn bool
	// MethodInAnswer: outside sign-in the answer names its method, so the
	// person switches methods locally (an email code is sent first).
	MethodInAnswer bool
	// BulkAnswer: one answer covers a bulk run's remaining tokens.
	BulkAnswer bool
}

// Kind finds one of the service's token kinds.
func (i *ServiceInfo) Kind(kind string) (TokenKind, bool) {
	for _, k := range i.Kinds {
		if k.Kind == kind {
			return k, true
		}
	}
	return TokenKind{}, false
}

// KindIDs lists the service's token kinds.
func (i *ServiceInfo) KindIDs() []string {
	var out []string
	for _, k := range i.Kinds {
		out = append(out, k.Kind)
	}
	return out
}

// Teams reports whether some of the service's tokens belong to teams.
func (i *ServiceInfo) Teams() bool {
	for _, k := range i.Kinds {
		if k.PerTeam {
			return true
		}
	}
	return false
}

// RotateAll reports whether a bulk rotation applies to some kind.
func (i *ServiceInfo) RotateAll() bool {
	for _, k := range i.Kinds {
		if k.RotateAll {
			return true
		}
	}
	return false
}

// CreateKind is the kind keyturn creates, when it creates any.
func (i *ServiceInfo) CreateKind() (TokenKind, bool) {
	if i.Creates == "" {
		return TokenKind{}, false
	}
	return i.Kind(i.Creates)
}

// HasSession reports whether the account holds one current token (a
// Capillary session) rather than listed ones.
func (i *ServiceInfo) HasSession() bool {
	for _, k := range i.Kinds {
		if k.Session {
			return true
		}
	}
	return false
}

// SectionMFA stands for the MFA row in ServiceInfo.Page.
const SectionMFA = "mfa"

// ServiceName is a service's name for people ("Rocket.Chat").
func ServiceName(id string) string { return Info(id).Name }

// hasKind reports whether a service has a token kind.
func hasKind(service, kind string) bool {
	_, ok := Info(service).Kind(kind)
	return ok
}

// tokenKindOf describes one of a service's kinds (zero when it has none).
func tokenKindOf(service, kind string) TokenKind {
	k, _ := Info(service).Kind(kind)
	return k
}

// capability finds what a service can do beyond the Service interface
// (creator, mfaService…): false for an unknown service or one without it.
func capability[T any](id string) (T, bool) {
	var none T
	s, ok := Lookup(id)
	if !ok {
		return none, false
	}
	t, ok := s.(T)
	return t, ok
}

// serviceOf finds an account's service, or says it is unknown.
func serviceOf(id string) (Service, error) {
	if s, ok := Lookup(id); ok {
		return s, nil
	}
	return nil, fmt.Errorf("unknown service %q", id)
}
