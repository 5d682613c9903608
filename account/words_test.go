package account_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

// Errors are said in keyturn's words, with the server's own words (its
// error id and message) kept apart for a detail line (issue 16, item 6).
func TestExplainSaysErrorsInKeyturnsWords(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	check := func(what string, err error, wantWhat string, wantDetail ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		e := account.Explain(err)
		if e.What != wantWhat {
			t.Errorf("%s: What = %q, want %q", what, e.What, wantWhat)
		}
		for _, d := range wantDetail {
			if !strings.Contains(e.Detail, d) {
				t.Errorf("%s: Detail = %q, want it to hold %q", what, e.Detail, d)
			}
		}
	}

	w.add(config.Account{Name: "mm", Service: account.Mattermost, URL: w.sb.MattermostURL, User: mattermostsim.AdminUsername})
	_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "mm", Password: "wrong"})
	check("wrong password", err, "The server did not accept the user name or password.", "api.user.login.invalid_credentials_email_username")

	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"})
	req := account.LoginRequest{Account: "rc", Password: rocketchatsim.AlicePassword}
	_, err = w.mgr.Login(ctx, req)
	ch := asChallenge(t, err)
	req.Answer = &account.Answer{Method: ch.Method, Code: "000000"}
	_, err = w.mgr.Login(ctx, req)
	check("wrong code", err, "The server did not accept that code.", "TOTP Invalid")
	req.Answer = &account.Answer{Method: ch.Method, Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}
	if _, err := w.mgr.Login(ctx, req); err != nil {
		t.Fatal(err)
	}
	create := func() error {
		_, err := w.mgr.Create(ctx, "rc", "deploy", true, nil)
		if ch, ok := err.(*account.Challenge); ok {
			_, err = w.mgr.Create(ctx, "rc", "deploy", true, &account.Answer{Method: ch.Method, Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())})
		}
		return err
	}
	if err := create(); err != nil {
		t.Fatal(err)
	}
	check("duplicate name", create(), `The server already has a token called "deploy": choose another name.`, "error-token-already-exists")

	// A guest may not create tokens: said so, the server's id apart.
	w.add(config.Account{Name: "rc-dave", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "dave"})
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "rc-dave", Password: rocketchatsim.DavePassword}); err != nil {
		t.Fatal(err)
	}
	_, err = w.mgr.Create(ctx, "rc-dave", "deploy", false, nil)
	check("no permission", err, "The server refused: this account lacks the permission to create personal access tokens.", "rocketchat")

	// Nothing listens at the address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	w.add(config.Account{Name: "gone", Service: account.Mattermost, URL: "http://" + addr, User: "ann"})
	_, err = w.mgr.Login(ctx, account.LoginRequest{Account: "gone", Password: "x"})
	check("closed port", err, "Nothing answers at "+addr+": check the server URL, and that the server is running.", "connect")

	// keyturn's own errors are already in its words: no detail.
	_, err = w.mgr.Login(ctx, account.LoginRequest{Account: "nobody", Password: "x"})
	if e := account.Explain(err); e.What != err.Error() || e.Detail != "" {
		t.Errorf("no such account: %+v", e)
	}
}

// A created token is labelled in the index at once: the vault names it
// before any token list has run (issue 16, item 7).
func TestCreateLabelsTheIndexEntry(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	iss, err := w.mgr.Create(context.Background(), "mm", "CI deploys", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := w.mgr.Vault().List(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == iss.Name && e.Label == "CI deploys" {
			return
		}
	}
	t.Fatalf("no label for %s in %+v", iss.Name, entries)
}
