package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"keyturn/client"
	"keyturn/client/rocketchat"
	"keyturn/config"
	"keyturn/textsafe"
)

// RocketChat is the service id of Rocket.Chat accounts.
const RocketChat = "rocketchat"

// rocketChatService speaks Rocket.Chat REST v1: a session or personal
// access token with its user id; PATs; TOTP that must be disabled before
// it is set up again; second factors answered in headers.
type rocketChatService struct{}

var rocketChatInfo = &ServiceInfo{
	ID: RocketChat, Name: "Rocket.Chat", Short: "RC", Color: "#D1243E",
	SignIn: SignInForm{ResendWithoutPassword: true, UserLabel: "Login", WithToken: true, TokenNeedsUserID: true},
	MFA:    &MFAInfo{Title: "Two-factor authentication (TOTP)", DisableNeedsCode: true, ActivationChallenge: true, BackupCodes: true},
	Kinds: []TokenKind{
		{Kind: KindPAT, Title: "Personal access tokens", Noun: "personal access token", Label: "Name", Example: "ci-deploy",
			LabelIsID: true, Bypass2FA: true, Revocable: true, RotateAll: true},
	},
	Page:      []string{KindPAT, SectionMFA},
	Creates:   KindPAT,
	Challenge: ChallengeRules{LettersInTOTP: true, PasswordFallback: true, OneMethodAtSignIn: true, MethodInAnswer: true, BulkAnswer: true},
}

func (rocketChatService) Info() *ServiceInfo { return rocketChatInfo }

func (rocketChatService) normalize(a *config.Account) error { return needUser(a) }

func (rocketChatService) login(ctx context.Context, m *Manager, a config.Account, req LoginRequest) error {
	return m.loginRocketChat(ctx, a, req)
}

func (rocketChatService) loginWithToken(ctx context.Context, m *Manager, a config.Account, hc *client.Client, token, userID string) error {
	account := a.Name
	if userID == "" {
		return withRemedy(fmt.Errorf("%s: a Rocket.Chat token needs its user id", account), Remedy{Action: UseFlag, Flag: "--user-id"})
	}
	if _, err := rocketchat.New(hc, rocketchat.Credentials{UserID: userID, AuthToken: token, IsPAT: true}).Me(ctx); err != nil {
		return fmt.Errorf("checking the token: %w", err)
	}
	return m.saveCredential(ctx, a.Name, credential{Via: viaPAT, Token: token, UserID: userID})
}

func (rocketChatService) logout(ctx context.Context, _ *Manager, _ config.Account, hc *client.Client, cred *credential) error {
	if cred.Via == viaPAT {
		return nil
	}
	return rocketchat.New(hc, rocketchat.Credentials{UserID: cred.UserID, AuthToken: cred.Token}).Logout(ctx)
}

func (rocketChatService) tokens(ctx context.Context, m *Manager, s *session, _ []string, _ string) ([]Token, error) {
	return m.rocketTokens(ctx, s)
}

func (rocketChatService) mfaActive(ctx context.Context, s *session) (bool, error) {
	me, err := s.rocketchat().Me(ctx)
	if err != nil {
		return false, err
	}
	return me.TOTPEnabled(), nil
}

func (rocketChatService) beginMFA(ctx context.Context, m *Manager, s *session, replace bool, ans *Answer) (*MFASetup, error) {
	account := s.acct.Name
	rc := s.rocketchat()
	me, err := rc.Me(ctx)
	if err != nil {
		return nil, err
	}
	if me.TOTPEnabled() {
		if !replace {
			return nil, ErrMFAActive
		}
		return nil, withRemedy(fmt.Errorf("Rocket.Chat refuses a new TOTP secret while one is active: disable it first, then set it up again"), Remedy{Action: DisableMFA, Account: account})
	}
	setup, err := rc.EnableTOTP(ctx, s.secondFactor(ctx, ans))
	if err != nil {
		if ch := m.challengeFrom(s.acct, "2fa", err); ch != nil {
			return nil, ch
		}
		return nil, err
	}
	return &MFASetup{Account: account, Secret: setup.Secret, URL: setup.URL}, nil
}

func (rocketChatService) activateMFA(ctx context.Context, m *Manager, s *session, code string, ans *Answer) ([]string, error) {
	account := s.acct.Name
	// The answer holds backup codes shown only once: like a token, it
	// is not dropped once the request is sent.
	sf := s.secondFactor(ctx, ans)
	ictx, done, err := m.issuing(ctx, InFlight{Account: account, What: "the MFA activation of " + account,
		Recover: fmt.Sprintf("If TOTP was switched on, its backup codes were not seen: regenerate them in Rocket.Chat's account security settings, or disable TOTP ('keyturn mfa disable %s --code C') and set it up again.", account)})
	if err != nil {
		return nil, err
	}
	defer done()
	codes, err := s.rocketchat().ValidateTOTP(ictx, code, sf)
	if ch := m.challengeFrom(s.acct, "2fa", err); ch != nil {
		return nil, ch
	}
	return codes, err
}

func (rocketChatService) disableMFA(ctx context.Context, m *Manager, s *session, code string) error {
	if strings.TrimSpace(code) == "" {
		return withRemedy(errors.New("disabling TOTP on Rocket.Chat needs a current code"), Remedy{Action: UseFlag, Flag: "--code"})
	}
	err := s.rocketchat().DisableTOTP(ctx, strings.TrimSpace(code))
	if ch := m.challengeFrom(s.acct, "2fa", err); ch != nil {
		return ch
	}
	return err
}

// sendEmailCode mails a fresh second-factor code to the signed-in user.
func (rocketChatService) sendEmailCode(ctx context.Context, s *session) (*Challenge, error) {
	if err := s.rocketchat().SendEmailCode(ctx, s.acct.User); err != nil {
		return nil, err
	}
	return &Challenge{Account: s.acct.Name, Service: s.acct.Service, Step: "2fa", Method: client.MethodEmail,
		Methods: []string{client.MethodEmail}, CodeSent: true, SentTo: s.acct.User, CanResend: true}, nil
}

func (rocketChatService) create(ctx context.Context, m *Manager, s *session, label string, bypass2FA bool, ans *Answer) (*Issued, error) {
	account := s.acct.Name
	if err := CheckStorable(account, Ref{Kind: KindPAT, ID: label}); err != nil {
		return nil, err
	}
	sf := s.secondFactor(ctx, ans)
	ref := Ref{Kind: KindPAT, ID: label}
	ictx, done, err := m.issuing(ctx, inFlightIssue(account, ref, false))
	if err != nil {
		return nil, err
	}
	defer done()
	tok, err := s.rocketchat().GeneratePAT(ictx, label, bypass2FA, sf)
	switch {
	case rocketchat.IsTokenExists(err):
		return nil, say(err, fmt.Sprintf("The server already has a token called %q: choose another name.", textsafe.Line(label)))
	case rocketchat.IsPermissionDenied(err):
		return nil, say(err, "The server refused: this account lacks the permission to create personal access tokens.")
	}
	if err != nil {
		return nil, m.explainIssueError(s, ref, err, false)
	}
	return m.issue(ictx, account, ref, tok, nil)
}

func (m *Manager) loginRocketChat(ctx context.Context, a config.Account, req LoginRequest) error {
	hc, err := m.httpClient(a)
	if err != nil {
		return err
	}
	rc := rocketchat.New(hc, rocketchat.Credentials{})
	if req.Resend {
		if err := rc.SendEmailCode(ctx, a.User); err != nil {
			return err
		}
		p, _ := m.loadPending(ctx, a.Name)
		ch := &Challenge{Account: a.Name, Service: a.Service, Step: "2fa", Method: client.MethodEmail,
			Methods: []string{client.MethodEmail}, CodeSent: true, SentTo: a.User, CanResend: true}
		if p != nil && p.SentTo != "" {
			ch.SentTo = p.SentTo
		}
		m.rememberChallenge(ctx, a, ch)
		return ch
	}
	if req.Password == "" {
		return fmt.Errorf("%s: a password is needed to sign in", a.Name)
	}
	code := ""
	if req.Answer != nil {
		code = strings.TrimSpace(req.Answer.Code)
	}
	ctx, done, err := m.issuing(ctx, inFlightLogin(a.Name))
	if err != nil {
		return err
	}
	defer done()
	res, err := rc.Login(ctx, a.User, req.Password, code)
	if ch := m.challengeFrom(a, "2fa", err); ch != nil {
		m.rememberChallenge(ctx, a, ch)
		return ch
	}
	if err != nil {
		return err
	}
	_ = m.clearPending(ctx, a.Name)
	return m.saveCredential(ctx, a.Name, credential{Via: viaSession, Token: res.Credentials.AuthToken, UserID: res.Credentials.UserID})
}

func (s *session) rocketchat() *rocketchat.Client {
	return rocketchat.New(s.hc, rocketchat.Credentials{UserID: s.cred.UserID, AuthToken: s.cred.Token, IsPAT: s.cred.Via == viaPAT})
}

// secondFactor turns an Answer into Rocket.Chat's header pair. An answer
// with no method gets the one the server will ask for, read the way the
// server picks it (authenticator, then email, then the password fallback),
// since the header must echo it.
func (s *session) secondFactor(ctx context.Context, ans *Answer) *rocketchat.SecondFactor {
	if ans == nil || ans.Code == "" {
		return nil
	}
	method := ans.Method
	if method == "" {
		method = client.MethodPassword
		if me, err := s.rocketchat().Me(ctx); err == nil {
			if ms := me.SecondFactorMethods(); len(ms) > 0 {
				method = ms[0]
			}
		}
	}
	return &rocketchat.SecondFactor{Method: method, Code: strings.TrimSpace(ans.Code)}
}

func (m *Manager) rocketTokens(ctx context.Context, s *session) ([]Token, error) {
	pats, err := s.rocketchat().ListPATs(ctx)
	if err != nil {
		if s.deny(err, KindPAT, "") {
			return nil, nil
		}
		return nil, err
	}
	out := make([]Token, 0, len(pats))
	for _, p := range pats {
		t := Token{Ref: Ref{Kind: KindPAT, ID: p.Name}, Label: p.Name, LastPart: p.LastTokenPart, Bypass2FA: p.BypassTwoFactor}
		if !p.CreatedAt.IsZero() {
			created := p.CreatedAt
			t.Created = &created
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out, nil
}

func (rocketChatService) rotate(ctx context.Context, m *Manager, s *session, ref Ref, ans *Answer) (*Issued, error) {
	signIn := m.signsInWith(ctx, s, ref)
	sf := s.secondFactor(ctx, ans)
	iss, err := m.regenInPlace(ctx, s, ref, func(ctx context.Context) (string, error) {
		return s.rocketchat().RegeneratePAT(ctx, ref.ID, sf)
	})
	if signIn {
		// The old token died with the regeneration: sign in with the
		// new one, even if the caller has gone, or keyturn is locked out.
		m.switchCredential(context.WithoutCancel(ctx), s, iss)
	}
	return iss, err
}

func (rocketChatService) revoke(ctx context.Context, _ *Manager, s *session, ref Ref, ans *Answer) error {
	return s.rocketchat().RemovePAT(ctx, ref.ID, s.secondFactor(ctx, ans))
}

// probePath answers without a credential (doctor), with the version.
func (rocketChatService) probePath() string { return "/api/info" }

func (rocketChatService) version(res *client.Response) string {
	var info struct {
		Version string `json:"version"`
		Info    struct {
			Version string `json:"version"`
		} `json:"info"`
	}
	if json.Unmarshal(res.Body, &info) != nil {
		return ""
	}
	if info.Version == "" {
		return info.Info.Version
	}
	return info.Version
}
