package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"keyturn/account"
)

// The TUI's words for account.RemedyFor: a key that does it from the
// banner, or the screen's key that does. The CLI renders the same remedies
// as command lines (cli/fail.go).

// remedyText is a remedy in the TUI's words, starting with its key.
func (m *Model) remedyText(r account.Remedy) string {
	name := r.Account
	if name == "" {
		name = "the account"
	}
	switch r.Action {
	case account.SignIn, account.Fetch:
		k := m.remedyKey(r)
		if !k.Enabled() {
			return m.remedyWords(r)
		}
		return k.Help().Key + " " + k.Help().Desc
	case account.Rotate:
		return m.keys.Rotate.Help().Key + " on the token rotates it"
	case account.CheckRef:
		if r.Ref.Kind != "" {
			return m.keys.Refresh.Help().Key + " refreshes the token list to check it"
		}
		return m.keys.Refresh.Help().Key + " refreshes the token list: the server does not have that token (any more)"
	case account.CheckServer:
		edit := "its URL is right (" + m.keys.Edit.Help().Key + " on the account edits it)"
		if k := m.remedyKey(r); k.Enabled() {
			edit = "its URL is right (" + k.Help().Key + " " + k.Help().Desc + ")"
		}
		return "Check that the server is up, with no proxy in the way, and that " + edit + "; " + m.keys.Refresh.Help().Key + " tries again"
	case account.CheckState:
		return m.keys.Refresh.Help().Key + " shows the server's state now: look before trying again"
	case account.Wait:
		if r.After > 0 {
			return "The server limits requests: wait " + r.After.Round(time.Second).String() + " (until " + r.Until.Local().Format("15:04:05") + "), then try again"
		}
		return "The server limits requests: wait a little, then try again"
	case account.TryLater:
		return "The server failed: try again later (" + m.keys.Refresh.Help().Key + " refreshes)"
	case account.UnlockStore:
		if r.Flag != "" {
			return "Or restart keyturn with " + r.Flag // the store's error says how to unlock it
		}
		return "Unlock the store, then try again"
	case account.UseFlag:
		if strings.HasPrefix(r.Flag, "--store") {
			return "Restart keyturn with " + r.Flag
		}
		return "Fill in the " + strings.TrimPrefix(r.Flag, "--") + " field"
	case account.AddAccount:
		return m.keys.Add.Help().Key + " on the account list adds one"
	case account.RemoveAccount:
		return "Pick another name, or remove " + name + " first (" + m.keys.Remove.Help().Key + " on the account list)"
	case account.Resume:
		return m.keys.RotateAll.Help().Key + " on the section again offers to resume it"
	case account.Revoke:
		return m.keys.Revoke.Help().Key + " on the old token revokes it"
	case account.DisableMFA:
		return m.keys.MFAOff.Help().Key + " on " + name + "'s screen disables MFA first"
	case account.Expire:
		if r.After > 0 {
			return "Choose an expiry within " + account.FormatAge(r.After) + " (the server's maximum)"
		}
		return "Choose an expiry: the server requires one"
	case account.Deliver:
		return "Fix the consumer, then run 'keyturn deliver " + account.SecretName(name, r.Ref) + "' (after a single rotation, " + m.keys.Deliver.Help().Key + " in its result delivers again)"
	}
	return ""
}

// errText is an error for a dialog's error line, with its way out. A
// dialog's keys are its own, so a remedy the banner would carry out names
// the screen's key instead.
func (m *Model) errText(err error) string {
	s := err.Error()
	r, ok := m.remedyFor(err)
	if !ok {
		return s
	}
	return joinHints(strings.TrimSuffix(s, ".")+".", m.remedyWords(r)) // a key name keeps its case
}

// errWords is err for a dialog, as account.Explain says it: keyturn's
// words with the way out (but the one the dialog itself is, skip), and the
// server's own words for a line apart.
func (m *Model) errWords(err error, skip account.RemedyAction) (words, detail string) {
	said := account.Explain(err)
	words = said.What
	if r, ok := m.remedyFor(err); ok && r.Action != skip {
		words = joinHints(strings.TrimSuffix(words, ".")+".", m.remedyWords(r))
	}
	return words, said.Detail
}

// remedyWords is remedyText for a dialog: the banner's own keys are named
// as the screen's keys.
func (m *Model) remedyWords(r account.Remedy) string {
	switch r.Action {
	case account.SignIn:
		if r.Account == "" {
			return m.keys.SignIn.Help().Key + " on the account signs in"
		}
		return m.keys.SignIn.Help().Key + " on " + r.Account + " signs in"
	case account.Fetch:
		return m.keys.Fetch.Help().Key + " on the token fetches the one the server holds now"
	case account.CheckServer:
		r.Account = "" // the dialog's keys are its own: name the account's key
		return m.remedyText(r)
	}
	return m.remedyText(r)
}

// remedyKey is the key the banner answers to for a remedy it can carry
// out itself; the other remedies name a screen's own key.
func (m *Model) remedyKey(r account.Remedy) key.Binding {
	switch r.Action {
	case account.SignIn, account.Fetch, account.CheckServer:
		if r.Account == "" {
			// No account to act on: the text names the screen's key.
			return key.NewBinding(key.WithDisabled())
		}
	}
	switch r.Action {
	case account.SignIn:
		return key.NewBinding(key.WithKeys(m.keys.SignIn.Keys()...), key.WithHelp(m.keys.SignIn.Help().Key, "sign in to "+r.Account))
	case account.Fetch:
		return key.NewBinding(key.WithKeys(m.keys.Fetch.Keys()...), key.WithHelp(m.keys.Fetch.Help().Key, "fetch the token the server holds now"))
	case account.CheckServer:
		return key.NewBinding(key.WithKeys(m.keys.Edit.Keys()...), key.WithHelp(m.keys.Edit.Help().Key, "edit "+r.Account+"'s server"))
	}
	return key.NewBinding(key.WithDisabled())
}

// remedyFor is the remedy of err, for the account on screen when err names
// none.
func (m *Model) remedyFor(err error) (account.Remedy, bool) {
	r, ok := account.RemedyFor(err)
	if ok && r.Account == "" && m.screen == screenAccount {
		r.Account = m.acct.name
	}
	return r, ok
}

// bannerKey carries out the banner's remedy when its key is pressed.
func (m *Model) bannerKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	b := m.banner
	if b == nil || !key.Matches(msg, b.key) {
		return nil, false
	}
	st, ok := m.statusOf(b.remedy.Account)
	if !ok {
		return m.apply(acts(status("No account named " + b.remedy.Account + " any more"))), true
	}
	m.banner = nil
	switch b.remedy.Action {
	case account.SignIn:
		return m.apply(acts(openDlg(newSignInDialog(m, st)))), true
	case account.Fetch:
		return m.apply(m.fetchToken(st, m.tokenOf(b.remedy.Ref))), true
	case account.CheckServer:
		return m.apply(acts(openDlg(newEditAccountDialog(m, st)))), true
	}
	return nil, true
}

// statusOf finds an account by name in what the screens loaded.
func (m *Model) statusOf(name string) (account.Status, bool) {
	if m.acct.st != nil && m.acct.name == name {
		return *m.acct.st, true
	}
	for _, a := range m.accounts.rows.all() {
		if a.Name == name {
			return a, true
		}
	}
	return account.Status{}, false
}

// tokenOf is the listed token with ref, or one that names only its ref.
func (m *Model) tokenOf(ref account.Ref) account.Token {
	for _, t := range m.acct.tokens {
		if t.Ref == ref {
			return t
		}
	}
	return account.Token{Ref: ref}
}
