package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
)

func (w *world) signIn(name, service, url, user, password string) {
	w.t.Helper()
	w.add(config.Account{Name: name, Service: service, URL: url, User: user})
	if _, err := w.mgr.Login(context.Background(), account.LoginRequest{Account: name, Password: password}); err != nil {
		w.t.Fatal(err)
	}
}

// A team admin without the token role: user tokens are not permitted, the
// team's commands and webhooks load; each refusal in its own section.
func TestListingDeniedSectionsLoadTheRest(t *testing.T) {
	w := newWorld(t)
	w.signIn("carol", account.Mattermost, w.sb.MattermostURL, mattermostsim.CarolUsername, mattermostsim.CarolPassword)
	ctx := context.Background()
	toks, err := w.mgr.Tokens(ctx, "carol", account.ListFilter{})
	var pe *account.PartialListError
	if !errors.As(err, &pe) || len(pe.Denied) != 1 {
		t.Fatalf("want one denied section, got %v", err)
	}
	d, ok := pe.DeniedIn(account.KindUserToken, "")
	if !ok || !strings.Contains(d.Grant, "personal access tokens") {
		t.Fatalf("user tokens: %+v", d)
	}
	kinds := map[string]int{}
	for _, tk := range toks {
		kinds[tk.Kind]++
	}
	if kinds[account.KindCommand] != 3 || kinds[account.KindWebhook] != 2 || kinds[account.KindUserToken] != 0 {
		t.Fatalf("the permitted sections must load: %v", kinds)
	}
	// Only commands: nothing denied.
	if _, err := w.mgr.Tokens(ctx, "carol", account.ListFilter{Kind: account.KindCommand}); err != nil {
		t.Fatalf("--kind command: %v", err)
	}
	// bob may do none of it: every section says so, per team.
	w.signIn("bob", account.Mattermost, w.sb.MattermostURL, mattermostsim.BobUsername, mattermostsim.BobPassword)
	toks, err = w.mgr.Tokens(ctx, "bob", account.ListFilter{})
	if !errors.As(err, &pe) || len(pe.Denied) != 3 || len(toks) != 0 {
		t.Fatalf("bob: %d tokens, %v", len(toks), err)
	}
	if d, ok := pe.DeniedIn(account.KindCommand, mattermostsim.TeamName); !ok || !strings.Contains(d.Grant, "team admin") {
		t.Fatalf("bob's commands in team ops: %+v", d)
	}
}

// A Rocket.Chat user without the PAT permission: the PAT section says so.
func TestRocketChatPATsNotPermitted(t *testing.T) {
	w := newWorld(t)
	w.signIn("dave", account.RocketChat, w.sb.RocketChatURL, "dave", rocketchatsim.DavePassword)
	toks, err := w.mgr.Tokens(context.Background(), "dave", account.ListFilter{})
	var pe *account.PartialListError
	if !errors.As(err, &pe) || len(toks) != 0 {
		t.Fatalf("dave: %d tokens, %v", len(toks), err)
	}
	if d, ok := pe.DeniedIn(account.KindPAT, ""); !ok || !strings.Contains(d.Grant, "create-personal-access-tokens") {
		t.Fatalf("dave's PATs: %+v", d)
	}
}
