package tui

import (
	"testing"

	"keyturn/account"
)

func TestRevokeIsHintedOnlyWhereItWorks(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.rowOf("MFA", isRow(rowMFA))
	h.lacks("x revoke", "r rotate") // neither acts on the MFA row
	h.cursorTo("/deploy")
	h.says("r rotate", "f fetch")
	h.lacks("x revoke") // Mattermost cannot revoke a slash-command token
	h.press("n")
	h.typeText("hinted")
	h.press("enter", "enter")
	h.rowOf("user token", tokenRow(account.KindUserToken))
	h.says("r rotate", "x revoke")
	h.lacks("f fetch")
}
