package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key the app answers to. Screens and dialogs pick the
// bindings that apply to them for the footer (short help) and for the help
// dialog (full help), so what is shown is what works.
type keyMap struct {
	// Everywhere.
	Quit      key.Binding
	ForceQuit key.Binding
	Help      key.Binding
	Back      key.Binding
	Up        key.Binding
	Down      key.Binding
	Top       key.Binding
	Bottom    key.Binding
	Open      key.Binding
	Refresh   key.Binding

	// Accounts.
	Add     key.Binding
	Remove  key.Binding
	Filter  key.Binding
	Vault   key.Binding
	Edit    key.Binding
	SignIn  key.Binding
	SignOut key.Binding

	// Account.
	MFA       key.Binding
	MFAShort  key.Binding // the same key, named shortly for the footer
	MFAOff    key.Binding
	NewToken  key.Binding
	Rotate    key.Binding
	RotateAll key.Binding // every token of the section under the cursor
	Fetch     key.Binding // store the token the server shows (commands, webhooks)
	Revoke    key.Binding
	AutoRegen key.Binding
	History   key.Binding // the account's recent audit log

	// Overview (all tokens), opened from the accounts screen.
	Overview      key.Binding
	RotateOverdue key.Binding

	// Secrets (result dialog, vault, MFA setup).
	Reveal  key.Binding
	Hide    key.Binding // the reveal key while a value is shown
	Copy    key.Binding
	Retry   key.Binding
	Save    key.Binding // the first save of something not saved yet
	Deliver key.Binding
	Delete  key.Binding
	URI     key.Binding

	// Forms and dialogs.
	Submit    key.Binding
	NextField key.Binding
	PrevField key.Binding
	Left      key.Binding
	Right     key.Binding
	Toggle    key.Binding
	Yes       key.Binding
	No        key.Binding
	Method    key.Binding
	Resend    key.Binding
	Cancel    key.Binding
	Stop      key.Binding // a bulk rotation: nothing more is sent
	Dismiss   key.Binding
	Close     key.Binding
	Clear     key.Binding
}

func defaultKeys() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Quit:      b([]string{"q"}, "q", "quit"),
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Help:      b([]string{"?"}, "?", "help"),
		Back:      b([]string{"esc", "backspace"}, "esc", "back"),
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		Top:       b([]string{"home", "g"}, "g", "top"),
		Bottom:    b([]string{"end", "G"}, "G", "bottom"),
		Open:      b([]string{"enter"}, "enter", "open"),
		Refresh:   b([]string{"ctrl+r", "f5"}, "ctrl+r", "refresh"),

		Add:     b([]string{"a"}, "a", "add"),
		Remove:  b([]string{"d"}, "d", "remove"),
		Filter:  b([]string{"/"}, "/", "filter"),
		Vault:   b([]string{"v"}, "v", "vault"),
		Edit:    b([]string{"e"}, "e", "edit"),
		SignIn:  b([]string{"s"}, "s", "sign in"),
		SignOut: b([]string{"o"}, "o", "sign out"),

		MFA:       b([]string{"m"}, "m", "set up MFA"),
		MFAOff:    b([]string{"M"}, "M", "disable MFA"),
		NewToken:  b([]string{"n"}, "n", "new token"),
		MFAShort:  b([]string{"m"}, "m", "MFA"),
		Rotate:    b([]string{"r"}, "r", "rotate"),
		RotateAll: b([]string{"R"}, "R", "rotate all"),
		Fetch:     b([]string{"f"}, "f", "fetch"),
		Revoke:    b([]string{"x"}, "x", "revoke"),
		AutoRegen: b([]string{"t"}, "t", "auto-rotate"),
		History:   b([]string{"l"}, "l", "history"),

		Overview:      b([]string{"i"}, "i", "all tokens"),
		RotateOverdue: b([]string{"R"}, "R", "rotate overdue"),

		// Not r: r rotates, and a key that reveals on one screen must not
		// break a token on the next.
		Reveal: b([]string{"space"}, "space", "reveal"),
		Hide:   b([]string{"space"}, "space", "hide"),
		Copy:   b([]string{"c"}, "c", "copy"),
		Retry:  b([]string{"s"}, "s", "save again"),
		Save:   b([]string{"s"}, "s", "save"),
		// Deliver hands a rotated token to its consumers again. Not d:
		// d deletes and removes elsewhere.
		Deliver: b([]string{"p"}, "p", "deliver again"),
		Delete:  b([]string{"d"}, "d", "delete"),
		URI:     b([]string{"u"}, "u", "show URI"),

		Submit:    b([]string{"enter"}, "enter", "submit"),
		NextField: b([]string{"tab", "down"}, "tab", "next field"),
		PrevField: b([]string{"shift+tab", "up"}, "shift+tab", "previous"),
		Left:      b([]string{"left"}, "←", "previous option"),
		Right:     b([]string{"right"}, "→", "next option"),
		Toggle:    b([]string{"space"}, "space", "toggle"),
		Yes:       b([]string{"y"}, "y", "yes"),
		No:        b([]string{"n"}, "n", "no"),
		Method:    b([]string{"tab"}, "tab", "other method"),
		Resend:    b([]string{"ctrl+r"}, "ctrl+r", "send a new code"),
		Cancel:    b([]string{"esc"}, "esc", "cancel"),
		Stop:      b([]string{"esc"}, "esc", "stop"),
		Dismiss:   b([]string{"esc"}, "esc", "dismiss error"),
		Close:     b([]string{"enter", "esc"}, "enter/esc", "close"),
		Clear:     b([]string{"esc"}, "esc", "clear filter"),
	}
}
