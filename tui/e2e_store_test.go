package tui

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/sandbox"
	"keyturn/sandbox/mattermostsim"
)

// TestE2ETmuxFileStore runs the built binary's TUI in a tmux pane with the
// file store remembered in the config and no KEYTURN_FILE_PASSPHRASE: the
// passphrase is asked in a dialog (twice: the file is new), never on the
// terminal under Bubble Tea; a user access token is created against the
// sandbox; after quitting, the file opens with that passphrase and holds it.
// Skipped without tmux unless KEYTURN_TEST_TMUX=1.
func TestE2ETmuxFileStore(t *testing.T) {
	tmuxPath := tmuxOrSkip(t)
	dir := t.TempDir()
	bin := buildKeyturn(t, dir)
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })

	// The config remembers the file store, as after `keyturn --store file`.
	cfgPath := filepath.Join(dir, "config.json")
	secrets := filepath.Join(dir, "secrets.enc")
	cf := config.Open(cfgPath)
	ctx := context.Background()
	if _, err := account.New(cf, keystore.NewVault(keystore.NewMemory(), cf), account.Options{}).Add(ctx,
		config.Account{Name: "mm", Service: account.Mattermost, URL: sb.MattermostURL, User: mattermostsim.AdminUsername}); err != nil {
		t.Fatal(err)
	}
	if err := cf.Update(func(c *config.Config) error { c.Store, c.StoreFile = keystore.KindFile, secrets; return nil }); err != nil {
		t.Fatal(err)
	}

	tm := &tmux{t: t, path: tmuxPath, sock: filepath.Join(dir, "tmux.sock")}
	t.Cleanup(tm.kill)
	tm.run("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40",
		"-e", "KEYTURN_CONFIG="+cfgPath, "-e", "TERM=xterm-256color",
		"sh", "-c", "env -u "+keystore.EnvPassphrase+" -u "+keystore.EnvStore+" -u "+keystore.EnvStoreFile+" "+bin+"; echo KEYTURN-EXIT=$?; sleep 600")

	// The dialog, not a prompt on the terminal; twice for a new file.
	const pass = "e2e file passphrase"
	tm.waitFor("Open the secrets file", "a new encrypted file", "secrets.enc", "Passphrase:", "store: file (locked)")
	tm.text(pass)
	tm.keys("Enter")
	tm.waitFor("Again:")
	tm.text(pass)
	tm.keys("Enter")
	tm.waitGone("Open the secrets file")
	tm.lacks(pass, "(locked)")

	// Sign in and create a user access token.
	tm.signInAdmin(sb)
	tm.waitFor("● Signed in")
	tm.keys("n")
	tm.waitFor("Description:")
	tm.text("e2e file store")
	tm.keys("Enter")
	s := tm.waitFor("New user access token", "Saved to the encrypted secrets file")
	g := regexp.MustCompile(`as (mm/user-token/\w+)`).FindStringSubmatch(flatten(s))
	if g == nil {
		t.Fatalf("the result does not name the stored token:\n%s", s)
	}
	tm.keys("Enter")
	tm.waitGone("New user access token")
	tm.keys("Escape")
	tm.waitFor("● signed in")
	tm.keys("q")
	tm.waitFor("KEYTURN-EXIT=0")

	// The token the server issued is in the file, under that passphrase.
	var issued string
	for _, e := range sb.Env.Ledger.Entries() {
		if e.Kind == mattermostsim.KindUserToken {
			issued = e.Token
		}
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	got, err := keystore.NewFile(secrets, func() ([]byte, error) { return []byte(pass), nil }).Get(fctx, g[1])
	if err != nil || issued == "" || got != issued {
		t.Fatalf("the secrets file does not hold the issued token %s (err %v, issued %v, match %v)", g[1], err, issued != "", got == issued)
	}
}
