package tui

import "testing"

func TestRevokeIsHintedOnlyWhereItWorks(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.says("x revoke") // the MFA row: the hint stays where it may apply
	h.cursorTo("/deploy")
	h.lacks("x revoke") // Mattermost cannot revoke a slash-command token
}
