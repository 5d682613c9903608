package account

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"keyturn/client"
	"keyturn/client/capillary"
	"keyturn/client/mattermost"
	"keyturn/client/rocketchat"
	"keyturn/config"
	"keyturn/textsafe"
)

// session is an account with its signed-in clients.
type session struct {
	acct config.Account
	cred *credential
	hc   *client.Client
	// put stores issued tokens; a bulk run batches the index writes.
	put func(context.Context, config.SecretMeta, string) error

	// signInOnce finds signInPAT: the Rocket.Chat PAT the session signs
	// in with, if keyturn signs in with one (see signsInWith).
	signInOnce sync.Once
	signInPAT  string
}

func (m *Manager) session(ctx context.Context, account string) (*session, error) {
	a, err := m.account(account)
	if err != nil {
		return nil, err
	}
	cred, err := m.loadCredential(ctx, account)
	if err != nil {
		return nil, err
	}
	hc, err := m.httpClient(a)
	if err != nil {
		return nil, err
	}
	return &session{acct: a, cred: cred, hc: hc, put: m.put}, nil
}

func (s *session) mattermost() *mattermost.Client { return mattermost.New(s.hc, s.cred.Token) }

func (s *session) rocketchat() *rocketchat.Client {
	return rocketchat.New(s.hc, rocketchat.Credentials{UserID: s.cred.UserID, AuthToken: s.cred.Token, IsPAT: s.cred.Via == viaPAT})
}

func (s *session) capillary() *capillary.Client {
	return capillary.New(s.hc, capillary.Identity{IdentifierType: s.acct.IdentifierType, IdentifierValue: s.acct.Identifier, Brand: s.acct.Brand, DeviceID: s.acct.DeviceID})
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

// Team is a Mattermost team the account belongs to.
type Team struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// Teams lists the Mattermost teams the account sees.
func (m *Manager) Teams(ctx context.Context, account string) ([]Team, error) {
	s, err := m.session(ctx, account)
	if err != nil {
		return nil, err
	}
	if s.acct.Service != Mattermost {
		return nil, nil
	}
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

// KindsOf lists the token kinds a service has.
func KindsOf(service string) []string {
	switch service {
	case Mattermost:
		return []string{KindUserToken, KindCommand, KindWebhook}
	case RocketChat:
		return []string{KindPAT}
	case Capillary:
		return []string{KindSession}
	}
	return nil
}

// Tokens lists the account's tokens on the server, marking those keyturn
// holds. It never returns a value.
func (m *Manager) Tokens(ctx context.Context, account string, f ListFilter) ([]Token, error) {
	s, err := m.session(ctx, account)
	if err != nil {
		return nil, err
	}
	kinds := KindsOf(s.acct.Service)
	if f.Kind != "" {
		if !contains(kinds, f.Kind) {
			return nil, fmt.Errorf("%s accounts have no %q tokens (kinds: %s)", s.acct.Service, f.Kind, strings.Join(kinds, ", "))
		}
		kinds = []string{f.Kind}
	}
	var out []Token
	switch s.acct.Service {
	case Mattermost:
		out, err = m.mattermostTokens(ctx, s, kinds, f.Team)
	case RocketChat:
		out, err = m.rocketTokens(ctx, s)
	case Capillary:
		out, err = m.capillaryTokens(ctx, s)
	}
	if err != nil {
		return nil, err
	}
	c, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	at := c.SecretIndex() // one lookup per token, not a scan of the index
	for i := range out {
		t := &out[i]
		t.RefString = t.Ref.String()
		t.Kind = t.Ref.Kind
		t.ID = t.Ref.ID
		name := SecretName(account, t.Ref)
		if k, ok := at[name]; ok {
			meta := &c.Secrets[k]
			t.Stored = true
			t.Secret = name
			t.Fingerprint = meta.Fingerprint
		}
		t.cleanText()
	}
	return out, nil
}

func (m *Manager) mattermostTokens(ctx context.Context, s *session, kinds []string, team string) ([]Token, error) {
	mm := s.mattermost()
	var out []Token
	if contains(kinds, KindUserToken) {
		uts, err := mm.ListUserAccessTokens(ctx, s.cred.UserID)
		if err != nil {
			return nil, err
		}
		for _, ut := range uts {
			active := ut.IsActive
			out = append(out, Token{Ref: Ref{Kind: KindUserToken, ID: ut.ID}, Label: ut.Description, Active: &active})
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
			if err != nil {
				return nil, err
			}
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
			if err != nil {
				return nil, err
			}
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

func (m *Manager) rocketTokens(ctx context.Context, s *session) ([]Token, error) {
	pats, err := s.rocketchat().ListPATs(ctx)
	if err != nil {
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

func (m *Manager) capillaryTokens(ctx context.Context, s *session) ([]Token, error) {
	c, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	t := Token{Ref: Ref{Kind: KindSession}, Label: "session of " + s.acct.Identifier}
	if meta, ok := c.Secret(SecretName(s.acct.Name, t.Ref)); ok {
		t.Expires = meta.Expires
		created := meta.Created
		if meta.Rotated != nil {
			created = *meta.Rotated
		}
		t.Created = &created
	}
	return []Token{t}, nil
}

// Create issues a new token: a Mattermost user access token (description
// label) or a Rocket.Chat personal access token (name label). It is stored
// before it is returned.
func (m *Manager) Create(ctx context.Context, account, label string, bypass2FA bool, ans *Answer) (*Issued, error) {
	s, unlock, err := m.lockedSession(ctx, account, "creating a token")
	if err != nil {
		return nil, err
	}
	defer unlock()
	label = strings.TrimSpace(label)
	if label == "" {
		return nil, fmt.Errorf("a token needs a label (its description or name)")
	}
	switch s.acct.Service {
	case Mattermost:
		ictx, done, err := m.issuing(ctx, inFlightIssue(account, Ref{Kind: KindUserToken}, false))
		if err != nil {
			return nil, err
		}
		defer done()
		ut, err := s.mattermost().CreateUserAccessToken(ictx, s.cred.UserID, label)
		if err != nil {
			return nil, m.explainIssueError(s, Ref{Kind: KindUserToken}, err, false)
		}
		return m.issue(ictx, account, Ref{Kind: KindUserToken, ID: ut.ID}, ut.Token, nil)
	case RocketChat:
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
		if err != nil {
			return nil, m.explainIssueError(s, ref, err, false)
		}
		return m.issue(ictx, account, ref, tok, nil)
	}
	return nil, fmt.Errorf("%s accounts cannot create tokens; use 'keyturn token rotate %s session' to regenerate the session", s.acct.Service, account)
}

// explainIssueError turns a failed call into what the person must know: a
// challenge to answer, or, for a request that changes a token in place and
// got no usable answer, an *UnknownOutcomeError.
func (m *Manager) explainIssueError(s *session, ref Ref, err error, inPlace bool) error {
	step := "2fa"
	if ch := m.challengeFrom(s.acct, step, err); ch != nil {
		return ch
	}
	if inPlace && client.MayHaveApplied(err) {
		return &UnknownOutcomeError{Account: s.acct.Name, Ref: ref, Err: err, Check: checkHint(s.acct, ref)}
	}
	return err
}

func checkHint(a config.Account, ref Ref) string {
	switch ref.Kind {
	case KindPAT:
		return fmt.Sprintf("Check with 'keyturn token list %s --kind pat': if the PAT's last_token_part no longer ends with the stored fingerprint, it was rotated and the new token is lost; rotate it again. keyturn does not retry by itself.", a.Name)
	case KindSession:
		return fmt.Sprintf("The old token stays valid until it expires; run 'keyturn token rotate %s session' again when you are ready. keyturn does not retry by itself.", a.Name)
	case KindCommand, KindWebhook:
		return fmt.Sprintf("'keyturn token fetch %s %s' saves the token the server holds now (the new one if the rotation went through) without rotating it again. keyturn does not retry by itself.", a.Name, ref)
	}
	return fmt.Sprintf("Check the integration, or run 'keyturn token rotate %s %s' again on purpose to get a token you hold. keyturn does not retry by itself.", a.Name, ref)
}

// Fetch stores the token the server holds now for a slash command or an
// outgoing webhook, without rotating it: to keep an integration's current
// token in the store, or to keep the new one after a rotation whose answer
// was lost. Other kinds are shown by their servers only once.
func (m *Manager) Fetch(ctx context.Context, account string, ref Ref) (*Issued, error) {
	s, unlock, err := m.lockedSession(ctx, account, "fetching a token")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !contains(KindsOf(s.acct.Service), ref.Kind) {
		return nil, fmt.Errorf("%s accounts have no %s tokens", s.acct.Service, ref.Kind)
	}
	if err := CheckStorable(s.acct.Name, ref); err != nil {
		return nil, err
	}
	var tok string
	switch ref.Kind {
	case KindCommand:
		c, err := s.mattermost().GetCommand(ctx, ref.ID)
		if err != nil {
			return nil, err
		}
		tok = c.Token
	case KindWebhook:
		h, err := s.mattermost().GetOutgoingWebhook(ctx, ref.ID)
		if err != nil {
			return nil, err
		}
		tok = h.Token
	default:
		return nil, fmt.Errorf("%s: the server shows this token only when it issues it, so keyturn cannot fetch it; rotate it to get one you hold", ref)
	}
	if tok == "" {
		return nil, fmt.Errorf("%s, %s: the server did not show the token (the account may lack the permission to manage it)", s.acct.Name, ref)
	}
	return m.issueIn(ctx, s, ref, tok, nil)
}

// Rotate replaces a token. Where the old token can live on (Mattermost user
// access tokens): create new, store, verify, revoke old. Where the server
// replaces in place: one request, stored on arrival, never retried.
func (m *Manager) Rotate(ctx context.Context, account string, ref Ref, ans *Answer) (*Issued, error) {
	s, unlock, err := m.lockedSession(ctx, account, "rotating "+ref.String())
	if err != nil {
		return nil, err
	}
	defer unlock()
	return m.rotateWith(ctx, s, ref, ans)
}

// rotateWith is Rotate for a session already open, so a bulk run reads the
// credential once.
func (m *Manager) rotateWith(ctx context.Context, s *session, ref Ref, ans *Answer) (*Issued, error) {
	if !contains(KindsOf(s.acct.Service), ref.Kind) {
		return nil, fmt.Errorf("%s accounts have no %s tokens", s.acct.Service, ref.Kind)
	}
	// Checked before the request: a token whose answer could not be kept
	// must not be rotated.
	if err := CheckStorable(s.acct.Name, ref); err != nil {
		return nil, err
	}
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
	case KindPAT:
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
	case KindSession:
		return m.regenerateSession(ctx, s)
	}
	return nil, fmt.Errorf("cannot rotate %s", ref)
}

// regenInPlace sends a request that replaces ref's token on the server and
// stores the answer, past the caller's cancellation once sent.
func (m *Manager) regenInPlace(ctx context.Context, s *session, ref Ref, regen func(context.Context) (string, error)) (*Issued, error) {
	ictx, done, err := m.issuing(ctx, inFlightIssue(s.acct.Name, ref, true))
	if err != nil {
		return nil, err
	}
	defer done()
	tok, err := regen(ictx)
	if err != nil {
		return nil, m.explainIssueError(s, ref, err, true)
	}
	return m.issueIn(ictx, s, ref, tok, nil)
}

// rotateUserToken never leaves the person without a working token: the
// old one is revoked only once the new one is stored and verified.
func (m *Manager) rotateUserToken(ctx context.Context, s *session, ref Ref) (*Issued, error) {
	mm := s.mattermost()
	signIn := m.signsInWith(ctx, s, ref)
	old, err := mm.GetUserAccessToken(ctx, ref.ID)
	if err != nil {
		return nil, err
	}
	desc := old.Description
	iss, ut, err := m.createUserToken(ctx, s, ref, old.UserID, desc)
	if err != nil {
		if iss != nil {
			iss.Notes = append(iss.Notes, fmt.Sprintf("the old token %s was NOT revoked, since the new one is not saved", ref.ID))
		}
		return iss, err
	}
	// The new token is stored: checking it and revoking the old one follow
	// the caller again, and a cancelled caller leaves the old one active.
	if ctx.Err() != nil {
		iss.Notes = append(iss.Notes, fmt.Sprintf("stopped before the old token %s was revoked: it is still active; revoke it with 'keyturn token revoke %s %s'", ref.ID, s.acct.Name, ref))
		return iss, nil
	}
	if _, err := mattermost.New(s.hc, ut.Token).Me(ctx); err != nil {
		iss.Notes = append(iss.Notes, fmt.Sprintf("the new token did not work when checked (%v); the old token %s was left active", err, ref.ID))
		return iss, nil
	}
	if signIn {
		// keyturn signs in with the old token: it must sign in with the
		// new one before the old one is revoked.
		if !m.switchCredential(ctx, s, iss) {
			iss.Notes = append(iss.Notes, fmt.Sprintf("the old token %s was left active, since keyturn still signs in with it", ref.ID))
			return iss, nil
		}
		mm = s.mattermost()
	}
	if err := mm.RevokeUserAccessToken(ctx, ref.ID); err != nil {
		iss.Notes = append(iss.Notes, fmt.Sprintf("the old token %s could not be revoked (%v); revoke it with 'keyturn token revoke %s %s'", ref.ID, err, s.acct.Name, ref))
		return iss, nil
	}
	if !signIn {
		m.keepSignedIn(ctx, s, iss)
	}
	if err := m.vault.Delete(ctx, SecretName(s.acct.Name, ref)); err != nil && !isNotFound(err) {
		iss.Notes = append(iss.Notes, fmt.Sprintf("the old token was revoked but its stored copy could not be deleted: %v", err))
	}
	iss.Notes = append(iss.Notes, fmt.Sprintf("old token %s revoked", ref.ID))
	return iss, nil
}

// createUserToken issues the new user token of a rotation and stores it,
// past the caller's cancellation once sent.
func (m *Manager) createUserToken(ctx context.Context, s *session, ref Ref, userID, desc string) (*Issued, *mattermost.UserAccessToken, error) {
	ictx, done, err := m.issuing(ctx, inFlightIssue(s.acct.Name, Ref{Kind: KindUserToken}, false))
	if err != nil {
		return nil, nil, err
	}
	defer done()
	ut, err := s.mattermost().CreateUserAccessToken(ictx, userID, desc)
	if err != nil {
		return nil, nil, m.explainIssueError(s, ref, err, false)
	}
	iss, err := m.issueIn(ictx, s, Ref{Kind: KindUserToken, ID: ut.ID}, ut.Token, nil)
	return iss, ut, err
}

// regenerateSession makes a new Capillary token from the stored key.
func (m *Manager) regenerateSession(ctx context.Context, s *session) (*Issued, error) {
	if s.cred.Key == "" {
		return nil, fmt.Errorf("%s: no key is stored; sign in again", s.acct.Name)
	}
	cp := s.capillary()
	ctx, done, err := m.issuing(ctx, inFlightIssue(s.acct.Name, Ref{Kind: KindSession}, true))
	if err != nil {
		return nil, err
	}
	defer done()
	var tokens *capillary.Tokens
	if s.cred.MFA {
		tokens, err = cp.RegenerateMFAToken(ctx, s.cred.Key)
	} else {
		tokens, err = cp.RegenerateToken(ctx, s.cred.Key)
	}
	if err != nil {
		if capillary.IsSessionExpired(err) {
			return nil, fmt.Errorf("%w: the stored key is no longer accepted; sign in again with 'keyturn login %s'", err, s.acct.Name)
		}
		return nil, m.explainIssueError(s, Ref{Kind: KindSession}, err, true)
	}
	iss, err := m.issueIn(ctx, s, Ref{Kind: KindSession}, tokens.Token, expiryPtr(tokens.Expires))
	if err != nil {
		return iss, err
	}
	// Regenerate answers key:null; a new key, if one ever comes, replaces
	// the stored one only after the token is safe.
	if tokens.Key != "" && tokens.Key != s.cred.Key {
		c := *s.cred
		c.Key = tokens.Key
		if err := m.saveCredential(ctx, s.acct.Name, c); err != nil {
			iss.Notes = append(iss.Notes, "the server sent a new key that could not be stored: "+err.Error())
		}
	}
	return iss, nil
}

// Revoke ends a token on the server and deletes keyturn's copy.
func (m *Manager) Revoke(ctx context.Context, account string, ref Ref, ans *Answer) error {
	s, unlock, err := m.lockedSession(ctx, account, "revoking "+ref.String())
	if err != nil {
		return err
	}
	defer unlock()
	if m.signsInWith(ctx, s, ref) {
		return fmt.Errorf("keyturn signs in to %s with %s: revoking it would leave keyturn signed out with a dead token. Rotate it instead ('keyturn token rotate %s %s'), or sign in another way first ('keyturn login %s') and then revoke it", account, ref, account, ShellArg(ref.String()), account)
	}
	switch ref.Kind {
	case KindUserToken:
		if s.acct.Service != Mattermost {
			return fmt.Errorf("%s accounts have no user tokens", s.acct.Service)
		}
		err = s.mattermost().RevokeUserAccessToken(ctx, ref.ID)
	case KindPAT:
		if s.acct.Service != RocketChat {
			return fmt.Errorf("%s accounts have no PATs", s.acct.Service)
		}
		err = s.rocketchat().RemovePAT(ctx, ref.ID, s.secondFactor(ctx, ans))
	case KindSession:
		if s.acct.Service != Capillary {
			return fmt.Errorf("%s accounts have no Capillary session", s.acct.Service)
		}
		var tok string
		tok, err = m.vault.Get(ctx, SecretName(account, ref))
		if err == nil {
			err = s.capillary().ExpireMFAToken(ctx, tok)
		}
	case KindCommand, KindWebhook:
		return fmt.Errorf("%s tokens cannot be revoked on Mattermost, only regenerated: 'keyturn token rotate %s %s'", ref.Kind, account, ref)
	default:
		return fmt.Errorf("cannot revoke %s", ref)
	}
	if err != nil {
		if ch := m.challengeFrom(s.acct, "2fa", err); ch != nil {
			return ch
		}
		return err
	}
	if err := m.vault.Delete(ctx, SecretName(account, ref)); err != nil && !isNotFound(err) {
		return fmt.Errorf("revoked on the server, but the stored copy could not be deleted: %w", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
