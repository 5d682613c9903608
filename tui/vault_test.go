package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/colorprofile"

	"keyturn/account"
	"keyturn/config"
	"keyturn/keystore"
)

func TestVaultRevealCopyDelete(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.press("r", "y")
	iss := h.m.topDialog().(*resultDialog).iss
	h.press("enter", "esc", "v")
	h.says("Vault", "Secrets keyturn holds in the memory store", "Values stay hidden until you reveal one.",
		"mm/credential", "sign-in credential", iss.Name, "slash-command token", "…"+iss.Fingerprint)
	h.lacks(iss.Value)
	for i := 0; i < 5 && !strings.Contains(h.selectedVaultName(), iss.Name); i++ {
		h.press("down")
	}
	h.press("space")
	h.contains(iss.Value)
	h.press("c")
	if len(h.clip) != 1 || h.clip[0] != iss.Value {
		t.Fatal("c did not copy the secret")
	}
	h.press("space")
	h.lacks(iss.Value)
	h.press("d")
	h.says("Delete "+iss.Name+"?", "The token itself keeps working on the server")
	h.press("y")
	h.says("Deleted " + iss.Name)
	for _, e := range h.m.vault.rows.all() {
		if e.Name == iss.Name {
			t.Fatal("the vault still lists the deleted secret")
		}
	}
	if _, err := h.mgr.Vault().Get(context.Background(), iss.Name); err == nil {
		t.Fatal("still stored")
	}
	h.press("esc")
	h.contains("NAME", mmAcct)
}

func (h *harness) selectedVaultName() string {
	e, _ := h.m.vault.selected()
	return e.Name
}

func TestVaultMarksMissingSecrets(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	// An index entry whose secret is gone from the store.
	err := h.cf.Update(func(c *config.Config) error {
		c.PutSecret(config.SecretMeta{Name: "mm/command/gone", Account: mmAcct, Kind: account.KindCommand, ID: "gone", Created: time.Now(), Fingerprint: "abcd"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.press("v")
	h.says("mm/command/gone", "listed, but missing from the store")
}

// TestRunDrawsAndQuits runs the real program over pipes: it draws the
// accounts list in the alternate screen and leaves it on q.
func TestRunDrawsAndQuits(t *testing.T) {
	cf := config.Open(t.TempDir() + "/config.json")
	mgr := account.New(cf, keystore.NewVault(keystore.NewMemory(), cf), account.Options{})
	if _, err := mgr.Add(context.Background(), config.Account{Name: "solo", Service: account.Mattermost, URL: "https://chat.example.com", User: "ann"}); err != nil {
		t.Fatal(err)
	}
	in, inw := io.Pipe()
	var out bytes.Buffer
	prof := colorprofile.ASCII
	dark := true
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Options{Manager: mgr, Input: in, Output: &lockedWriter{w: &out}, Width: 90, Height: 30, Profile: &prof, Dark: &dark,
			DemoCodes: func() string { return "codes: demo 123456" }})
	}()
	time.Sleep(300 * time.Millisecond)
	if _, err := inw.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("q did not quit")
	}
	s := out.String()
	for _, want := range []string{"\x1b[?1049h", "solo", "chat.example.com", "codes: demo 123456", "\x1b[?1049l"} {
		if !strings.Contains(s, want) {
			t.Fatalf("output lacks %q", want)
		}
	}
}

// keyOf is the first key a binding answers to, so tests follow the key map.
func keyOf(b key.Binding) string { return b.Keys()[0] }

// The vault from an account screen: v opens it and esc comes back; rows
// name the token by its label on the server; a revealed value hides when
// the cursor moves on; / filters (issue 16, item 7).
func TestVaultLabelsFilterHideOnMoveAndOpenFromAccount(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	var deploy account.Token
	for _, tok := range h.m.acct.tokens {
		if strings.HasPrefix(tok.Label, "/deploy") {
			deploy = tok
		}
	}
	if deploy.Label == "" {
		t.Fatalf("no /deploy command on the account screen:\n%s", h.dump())
	}
	iss, err := h.mgr.Fetch(context.Background(), mmAcct, deploy.Ref)
	if err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r") // the account screen lists the tokens again
	h.press("v")
	h.says("Vault", mmAcct+" · "+deploy.Label)
	for i := 0; i < 5 && h.selectedVaultName() != iss.Name; i++ {
		h.press("down")
	}
	if h.selectedVaultName() != iss.Name {
		t.Fatalf("no row for %s:\n%s", iss.Name, h.dump())
	}
	h.says(iss.Name) // the selected row's store name, for the CLI
	h.press(keyOf(h.m.keys.Reveal))
	h.contains(iss.Value)
	h.press("down", "up")
	if h.selectedVaultName() != iss.Name {
		t.Fatal("down, up did not come back to the row")
	}
	h.lacks(iss.Value)

	h.press("/")
	h.typeText("deploy")
	h.contains(deploy.Label)
	h.lacks(mmAcct + "/credential")
	h.press("enter")
	if h.selectedVaultName() != iss.Name {
		t.Fatalf("the filter left the cursor on %q", h.selectedVaultName())
	}
	h.press("esc") // clears the filter first
	h.contains(mmAcct + "/credential")
	h.press("esc")
	if h.m.screen != screenAccount || h.m.acct.name != mmAcct {
		t.Fatalf("esc from a vault opened on %s went to screen %v:\n%s", mmAcct, h.m.screen, h.dump())
	}
}

// TOTP backup codes are short: the vault shows no part of them.
func TestVaultShowsNoPartOfBackupCodes(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	codes := []string{"a1b2c3d4", "e5f6g7h8", "k9m2n3p4"}
	meta := config.SecretMeta{Name: mmAcct + "/backup-codes/totp", Account: mmAcct, Kind: account.KindBackup, ID: "totp"}
	if err := h.mgr.Vault().Put(context.Background(), meta, strings.Join(codes, "\n")); err != nil {
		t.Fatal(err)
	}
	h.press("v")
	h.says(meta.Name)
	for _, c := range codes {
		h.lacks(c[len(c)-4:])
	}
}
