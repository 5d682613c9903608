package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"keyturn/client"
	"keyturn/client/mattermost"
	"keyturn/config"
	"keyturn/textsafe"
)

// Mattermost is the service id of Mattermost accounts.
const Mattermost = "mattermost"

// mattermostService speaks Mattermost API v4: a session or personal
// access token; user access tokens, slash-command and outgoing-webhook
// tokens; TOTP that can be replaced while active.
type mattermostService struct{}

var mattermostInfo = &ServiceInfo{
	ID: Mattermost, Name: "Mattermost", Short: "MM", Color: "#1E59C7",
	SignIn: SignInForm{WithToken: true},
	Page:   []string{SectionMFA, KindUserToken, KindCommand, KindWebhook},
	MFA:    &MFAInfo{Title: "Multi-factor authentication", Replaceable: true},
	Kinds: []TokenKind{
		{Kind: KindUserToken, Title: "User access tokens", Noun: "user access token", Label: "Description", Example: "CI deploys", Revocable: true, RotateAll: true, Expires: true},
		{Kind: KindCommand, Title: "Slash commands", Noun: "slash-command token", PerTeam: true, Fetchable: true, RotateAll: true},
		{Kind: KindWebhook, Title: "Outgoing webhooks", Noun: "outgoing-webhook token", PerTeam: true, Fetchable: true, RotateAll: true},
	},
	Creates: KindUserToken,
}

func (mattermostService) Info() *ServiceInfo { return mattermostInfo }

func (mattermostService) normalize(a *config.Account) error { return needUser(a) }

// needUser refuses an account with no login.
func needUser(a *config.Account) error {
	if strings.TrimSpace(a.User) == "" {
		return withRemedy(fmt.Errorf("%s account needs a login", a.Service), Remedy{Action: UseFlag, Flag: "--user"})
	}
	return nil
}

func (mattermostService) login(ctx context.Context, m *Manager, a config.Account, req LoginRequest) error {
	return m.loginMattermost(ctx, a, req)
}

func (mattermostService) loginWithToken(ctx context.Context, m *Manager, a config.Account, hc *client.Client, token, _ string) error {
	me, err := mattermost.New(hc, token).Me(ctx)
	if err != nil {
		return fmt.Errorf("checking the token: %w", err)
	}
	return m.saveCredential(ctx, a.Name, credential{Via: viaPAT, Token: token, UserID: me.ID})
}

func (mattermostService) logout(ctx context.Context, _ *Manager, _ config.Account, hc *client.Client, cred *credential) error {
	if cred.Via == viaPAT {
		return nil
	}
	return mattermost.New(hc, cred.Token).Logout(ctx)
}

func (mattermostService) tokens(ctx context.Context, m *Manager, s *session, kinds []string, team string) ([]Token, error) {
	return m.mattermostTokens(ctx, s, kinds, team)
}

func (mattermostService) mfaActive(ctx context.Context, s *session) (bool, error) {
	me, err := s.mattermost().Me(ctx)
	if err != nil {
		return false, err
	}
	return me.MFAActive, nil
}

func (mattermostService) beginMFA(ctx context.Context, m *Manager, s *session, replace bool, _ *Answer) (*MFASetup, error) {
	account := s.acct.Name
	mm := s.mattermost()
	me, err := mm.Me(ctx)
	if err != nil {
		return nil, err
	}
	if me.MFAActive && !replace {
		return nil, ErrMFAActive
	}
	gctx := ctx
	if me.MFAActive {
		// The server replaces the active secret as soon as it gets the
		// request: its answer is then the only copy of the new one.
		ictx, done, err := m.issuing(ctx, InFlight{Account: account, What: "the new MFA secret of " + account,
			Recover: fmt.Sprintf("The MFA secret of %s may have been replaced, and your authenticator app's entry with it: run 'keyturn mfa setup %s --replace' again while keyturn is still signed in.", account, account)})
		if err != nil {
			return nil, err
		}
		defer done()
		gctx = ictx
		// Marked before the request: a lost answer still leaves the
		// server with a secret nobody holds.
		if err := m.markMFAUnconfirmed(ctx, account, true); err != nil {
			return nil, err
		}
	}
	sec, err := mm.GenerateMFA(gctx, me.ID)
	if err != nil {
		return nil, err
	}
	return &MFASetup{Account: account, Secret: sec.Secret, URL: mattermost.OTPAuthURL(s.acct.URL, me.Email, sec.Secret)}, nil
}

func (mattermostService) activateMFA(ctx context.Context, _ *Manager, s *session, code string, _ *Answer) ([]string, error) {
	return nil, s.mattermost().ActivateMFA(ctx, s.cred.UserID, code)
}

func (mattermostService) disableMFA(ctx context.Context, _ *Manager, s *session, _ string) error {
	return s.mattermost().DeactivateMFA(ctx, s.cred.UserID)
}

func (mattermostService) create(ctx context.Context, m *Manager, s *session, label string, _ bool, _ *Answer) (*Issued, error) {
	return m.createUserTokenExpiring(ctx, s, label, s.expires)
}

func (m *Manager) loginMattermost(ctx context.Context, a config.Account, req LoginRequest) error {
	if req.Password == "" {
		return fmt.Errorf("%s: a password is needed to sign in", a.Name)
	}
	hc, err := m.httpClient(a)
	if err != nil {
		return err
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
	token, me, err := mattermost.New(hc, "").Login(ctx, a.User, req.Password, code)
	if err != nil && token != "" {
		// Signed in, but the answer did not say who: ask, with the token.
		me, err = mattermost.New(hc, token).Me(ctx)
		if err != nil {
			// Without the user the session cannot be used, and dropped it
			// would stay valid on the server, unknown to anyone: end it.
			msg := "keyturn ended that session"
			if lerr := mattermost.New(hc, token).Logout(context.WithoutCancel(ctx)); lerr != nil {
				msg = fmt.Sprintf("ending that session failed too (%v); it lapses when the server expires it", lerr)
			}
			return withRemedy(fmt.Errorf("%s: the server signed in but did not say which user, and asking failed (%w); %s", a.Name, err, msg), Remedy{Action: SignIn, Account: a.Name})
		}
	}
	var sf *client.SecondFactorRequired
	if errors.As(err, &sf) {
		return &Challenge{Account: a.Name, Service: a.Service, Step: "mfa", Method: client.MethodTOTP,
			Methods: []string{client.MethodTOTP}, Invalid: sf.Invalid, Locked: sf.Locked, Message: textsafe.Line(sf.Message)}
	}
	if err != nil {
		return err
	}
	return m.saveCredential(ctx, a.Name, credential{Via: viaSession, Token: token, UserID: me.ID})
}

func (s *session) mattermost() *mattermost.Client { return mattermost.New(s.hc, s.cred.Token) }

func (m *Manager) mattermostTokens(ctx context.Context, s *session, kinds []string, team string) ([]Token, error) {
	mm := s.mattermost()
	var out []Token
	if contains(kinds, KindUserToken) {
		uts, err := mm.ListUserAccessTokens(ctx, s.cred.UserID)
		if err != nil && !s.deny(err, KindUserToken, "") {
			return nil, err
		}
		for _, ut := range uts {
			active := ut.IsActive
			out = append(out, Token{Ref: Ref{Kind: KindUserToken, ID: ut.ID}, Label: ut.Description, Active: &active, Expires: expiryPtrMillis(ut.ExpiresAt)})
		}
	}
	if !contains(kinds, KindCommand) && !contains(kinds, KindWebhook) {
		return out, nil
	}
	teams, err := mm.MyTeams(ctx)
	if err != nil {
		return nil, err
	}
	matched := false
	for _, t := range teams {
		// A team is named as the list shows it, cleaned of escapes.
		if team != "" && team != t.Name && team != t.ID && team != textsafe.Line(t.Name) {
			continue
		}
		matched = true
		if contains(kinds, KindCommand) {
			cmds, err := mm.ListCommands(ctx, t.ID)
			if err != nil && !s.deny(err, KindCommand, t.Name) {
				return nil, err
			}
			out = slices.Grow(out, len(cmds))
			for _, c := range cmds {
				created := time.UnixMilli(c.CreateAt)
				label := "/" + c.Trigger
				if c.DisplayName != "" {
					label += " (" + c.DisplayName + ")"
				}
				out = append(out, Token{Ref: Ref{Kind: KindCommand, ID: c.ID}, Label: label, Team: t.Name, Created: &created, current: c.Token})
			}
		}
		if contains(kinds, KindWebhook) {
			hooks, err := mm.ListOutgoingWebhooks(ctx, t.ID)
			if err != nil && !s.deny(err, KindWebhook, t.Name) {
				return nil, err
			}
			out = slices.Grow(out, len(hooks))
			for _, h := range hooks {
				created := time.UnixMilli(h.CreateAt)
				label := h.DisplayName
				if label == "" {
					label = strings.Join(h.TriggerWords, ", ")
				}
				out = append(out, Token{Ref: Ref{Kind: KindWebhook, ID: h.ID}, Label: label, Team: t.Name, Created: &created, current: h.Token})
			}
		}
	}
	if team != "" && !matched {
		return nil, fmt.Errorf("%s: no team %q among the account's teams", s.acct.Name, team)
	}
	return out, nil
}

func (mattermostService) teams(ctx context.Context, s *session) ([]Team, error) {
	teams, err := s.mattermost().MyTeams(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Team, 0, len(teams))
	for _, t := range teams {
		out = append(out, Team{ID: t.ID, Name: textsafe.Line(t.Name), DisplayName: textsafe.Line(t.DisplayName)})
	}
	return out, nil
}

func (mattermostService) rotate(ctx context.Context, m *Manager, s *session, ref Ref, _ *Answer) (*Issued, error) {
	switch ref.Kind {
	case KindCommand:
		return m.regenInPlace(ctx, s, ref, func(ctx context.Context) (string, error) {
			return s.mattermost().RegenCommandToken(ctx, ref.ID)
		})
	case KindWebhook:
		return m.regenInPlace(ctx, s, ref, func(ctx context.Context) (string, error) {
			hook, err := s.mattermost().RegenOutgoingWebhookToken(ctx, ref.ID)
			if err != nil {
				return "", err
			}
			return hook.Token, nil
		})
	case KindUserToken:
		return m.rotateUserToken(ctx, s, ref)
	}
	return nil, fmt.Errorf("cannot rotate %s", ref)
}

func (mattermostService) revoke(ctx context.Context, _ *Manager, s *session, ref Ref, _ *Answer) error {
	return s.mattermost().RevokeUserAccessToken(ctx, ref.ID)
}

func (mattermostService) fetch(ctx context.Context, s *session, ref Ref) (string, error) {
	switch ref.Kind {
	case KindCommand:
		c, err := s.mattermost().GetCommand(ctx, ref.ID)
		if err != nil {
			return "", err
		}
		return c.Token, nil
	case KindWebhook:
		h, err := s.mattermost().GetOutgoingWebhook(ctx, ref.ID)
		if err != nil {
			return "", err
		}
		return h.Token, nil
	}
	return "", fmt.Errorf("cannot fetch %s", ref)
}

// probePath answers without a credential (doctor); every answer names the
// server's version in X-Version-Id.
func (mattermostService) probePath() string { return "/api/v4/system/ping" }

// version reads the release from X-Version-Id, which goes on with build
// numbers and hashes ("11.10.0..b8f8….false"): its leading numbers, at
// most three.
func (mattermostService) version(res *client.Response) string {
	v := res.Header.Get("X-Version-Id")
	var nums []string
	for _, p := range strings.Split(v, ".") {
		if p == "" || strings.Trim(p, "0123456789") != "" || len(nums) == 3 {
			break
		}
		nums = append(nums, p)
	}
	if len(nums) == 0 {
		return v[:min(len(v), 40)]
	}
	return strings.Join(nums, ".")
}
