package account

import (
	"context"
	"fmt"
	"strings"

	"keyturn/client"
	"keyturn/client/mattermost"
)

// MFAActive asks the server whether the account has TOTP switched on.
func (m *Manager) MFAActive(ctx context.Context, account string) (bool, error) {
	s, err := m.session(ctx, account)
	if err != nil {
		return false, err
	}
	switch s.acct.Service {
	case Mattermost:
		me, err := s.mattermost().Me(ctx)
		if err != nil {
			return false, err
		}
		return me.MFAActive, nil
	case RocketChat:
		me, err := s.rocketchat().Me(ctx)
		if err != nil {
			return false, err
		}
		return me.TOTPEnabled(), nil
	}
	return false, fmt.Errorf("%s accounts have no TOTP setup in keyturn", s.acct.Service)
}

// BeginMFA makes a new TOTP secret. It refuses when MFA is already active,
// since the server would silently replace the secret and break the
// person's authenticator, unless replace is set on purpose.
func (m *Manager) BeginMFA(ctx context.Context, account string, replace bool, ans *Answer) (setup *MFASetup, err error) {
	defer func() { m.auditStep(ctx, Event{Action: ActMFASetup, Account: account}, err) }()
	// Under the lock: two setups at once would each show a secret, and
	// only the one the server made last would sign in.
	s, unlock, err := m.lockedSession(ctx, account, "setting up MFA")
	if err != nil {
		return nil, err
	}
	defer unlock()
	switch s.acct.Service {
	case Mattermost:
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
		}
		sec, err := mm.GenerateMFA(gctx, me.ID)
		if err != nil {
			return nil, err
		}
		return &MFASetup{Account: account, Secret: sec.Secret, URL: mattermost.OTPAuthURL(s.acct.URL, me.Email, sec.Secret)}, nil
	case RocketChat:
		rc := s.rocketchat()
		me, err := rc.Me(ctx)
		if err != nil {
			return nil, err
		}
		if me.TOTPEnabled() {
			if !replace {
				return nil, ErrMFAActive
			}
			return nil, fmt.Errorf("Rocket.Chat refuses a new TOTP secret while one is active: disable it first ('keyturn mfa disable %s --code C'), then set it up again", account)
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
	return nil, fmt.Errorf("%s accounts have no TOTP setup in keyturn", s.acct.Service)
}

// ActivateMFA switches TOTP on with a first code from the new secret. For
// Rocket.Chat the answer holds the one-time backup codes.
func (m *Manager) ActivateMFA(ctx context.Context, account, code string, ans *Answer) (backup []string, err error) {
	defer func() { m.auditStep(ctx, Event{Action: ActMFAActivate, Account: account}, err) }()
	s, unlock, err := m.lockedSession(ctx, account, "activating MFA")
	if err != nil {
		return nil, err
	}
	defer unlock()
	code = strings.TrimSpace(code)
	if code == "" {
		return nil, fmt.Errorf("activating MFA needs a code from the authenticator app")
	}
	switch s.acct.Service {
	case Mattermost:
		return nil, s.mattermost().ActivateMFA(ctx, s.cred.UserID, code)
	case RocketChat:
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
	return nil, fmt.Errorf("%s accounts have no TOTP setup in keyturn", s.acct.Service)
}

// DisableMFA switches TOTP off. Rocket.Chat wants a current code;
// Mattermost needs none.
func (m *Manager) DisableMFA(ctx context.Context, account, code string) (err error) {
	defer func() { m.auditStep(ctx, Event{Action: ActMFADisable, Account: account}, err) }()
	s, unlock, err := m.lockedSession(ctx, account, "disabling MFA")
	if err != nil {
		return err
	}
	defer unlock()
	switch s.acct.Service {
	case Mattermost:
		return s.mattermost().DeactivateMFA(ctx, s.cred.UserID)
	case RocketChat:
		if strings.TrimSpace(code) == "" {
			return fmt.Errorf("disabling TOTP on Rocket.Chat needs a current code (--code)")
		}
		err := s.rocketchat().DisableTOTP(ctx, strings.TrimSpace(code))
		if ch := m.challengeFrom(s.acct, "2fa", err); ch != nil {
			return ch
		}
		return err
	}
	return fmt.Errorf("%s accounts have no TOTP setup in keyturn", s.acct.Service)
}

// StoreBackupCodes keeps Rocket.Chat's one-time backup codes as a secret,
// one per line, when the person agrees.
func (m *Manager) StoreBackupCodes(ctx context.Context, account string, codes []string) (*Issued, error) {
	if len(codes) == 0 {
		return nil, fmt.Errorf("no backup codes to store")
	}
	return m.issue(ctx, account, Ref{Kind: KindBackup, ID: "totp"}, strings.Join(codes, "\n"), nil)
}

// SendEmailCode asks Rocket.Chat to mail a fresh second-factor code to the
// signed-in user, for answering a token operation's challenge by email
// instead of the authenticator.
func (m *Manager) SendEmailCode(ctx context.Context, account string) (*Challenge, error) {
	s, err := m.session(ctx, account)
	if err != nil {
		return nil, err
	}
	if s.acct.Service != RocketChat {
		return nil, fmt.Errorf("%s accounts have no email codes", s.acct.Service)
	}
	if err := s.rocketchat().SendEmailCode(ctx, s.acct.User); err != nil {
		return nil, err
	}
	return &Challenge{Account: account, Service: s.acct.Service, Step: "2fa", Method: client.MethodEmail,
		Methods: []string{client.MethodEmail}, CodeSent: true, SentTo: s.acct.User, CanResend: true}, nil
}
