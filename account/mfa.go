package account

import (
	"context"
	"fmt"
	"strings"

	"keyturn/config"
)

// mfaOf is the account's service when keyturn sets up its TOTP.
func mfaOf(s *session) (mfaService, error) {
	if svc, ok := capability[mfaService](s.acct.Service); ok {
		return svc, nil
	}
	return nil, fmt.Errorf("%s accounts have no TOTP setup in keyturn", s.acct.Service)
}

// MFAActive asks the server whether the account has TOTP switched on.
func (m *Manager) MFAActive(ctx context.Context, account string) (bool, error) {
	s, err := m.session(ctx, account)
	if err != nil {
		return false, err
	}
	svc, err := mfaOf(s)
	if err != nil {
		return false, err
	}
	on, err := svc.mfaActive(ctx, s)
	if err == nil && !on {
		// Switched off elsewhere: no replaced secret is waiting any more.
		m.clearMFAUnconfirmed(ctx, account)
	}
	return on, err
}

// clearMFAUnconfirmed drops the mark once the server's secret is
// confirmed or gone. It does not fail the operation that confirmed it
// (whose answer, backup codes included, must reach the person), nor stop
// for a cancelled context: a mark left behind only warns once too often.
func (m *Manager) clearMFAUnconfirmed(ctx context.Context, name string) {
	_ = m.markMFAUnconfirmed(context.WithoutCancel(ctx), name, false)
}

// markMFAUnconfirmed records (or clears) that the account's active TOTP
// secret was replaced by one no code has confirmed yet.
func (m *Manager) markMFAUnconfirmed(ctx context.Context, name string, on bool) error {
	return m.cfg.UpdateContext(ctx, func(c *config.Config) error {
		a, ok := c.Account(name)
		if !ok || (a.MFAUnconfirmed != nil) == on {
			return nil
		}
		a.MFAUnconfirmed = nil
		if on {
			now := m.opts.Now()
			a.MFAUnconfirmed = &now
		}
		return nil
	})
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
	svc, err := mfaOf(s)
	if err != nil {
		return nil, err
	}
	return svc.beginMFA(ctx, m, s, replace, ans)
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
	svc, err := mfaOf(s)
	if err != nil {
		return nil, err
	}
	codes, err := svc.activateMFA(ctx, m, s, code, ans)
	if err != nil {
		return nil, err
	}
	m.clearMFAUnconfirmed(ctx, account)
	return codes, nil
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
	svc, err := mfaOf(s)
	if err != nil {
		return err
	}
	if err := svc.disableMFA(ctx, m, s, code); err != nil {
		return err
	}
	m.clearMFAUnconfirmed(ctx, account)
	return nil
}

// StoreBackupCodes keeps Rocket.Chat's one-time backup codes as a secret,
// one per line, when the person agrees.
func (m *Manager) StoreBackupCodes(ctx context.Context, account string, codes []string) (*Issued, error) {
	if len(codes) == 0 {
		return nil, fmt.Errorf("no backup codes to store")
	}
	return m.issue(ctx, account, Ref{Kind: KindBackup, ID: "totp"}, strings.Join(codes, "\n"), nil)
}

// emailCoder is a service that mails second-factor codes on request.
type emailCoder interface {
	sendEmailCode(ctx context.Context, s *session) (*Challenge, error)
}

// SendEmailCode asks Rocket.Chat to mail a fresh second-factor code to the
// signed-in user, for answering a token operation's challenge by email
// instead of the authenticator.
func (m *Manager) SendEmailCode(ctx context.Context, account string) (*Challenge, error) {
	s, err := m.session(ctx, account)
	if err != nil {
		return nil, err
	}
	svc, ok := capability[emailCoder](s.acct.Service)
	if !ok {
		return nil, fmt.Errorf("%s accounts have no email codes", s.acct.Service)
	}
	return svc.sendEmailCode(ctx, s)
}
