package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
)

const day = 24 * time.Hour

func TestStatusListsEveryAccountWithAFailureOnItsOwnRow(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	w.rocketAlice("rc")
	w.want(w.run(totp(rocketchatsim.AliceTOTP, w.sb.Env.Clock.Now())+"\n", "token", "create", "rc", "robot", "--bypass-2fa", "--code", "-", "--method", "totp"), 0, "create a PAT")
	w.addMattermost("bob", "bob") // never signed in
	r := w.run("", "status")
	w.want(r, 1, "status with one account signed out")
	mustContain(t, "status", r.out, "ACCOUNT", "mm", "command:", "webhook:", "rc", "pat:robot", "BYPASSES 2FA", "pat:"+rocketchatsim.AlicePATName)
	mustContain(t, "status", r.err, "could not list the tokens of bob")
	var bobRow string
	for _, line := range strings.Split(r.out, "\n") {
		if strings.HasPrefix(line, "bob ") {
			bobRow = line
		}
	}
	if !strings.Contains(bobRow, "ERROR") || !strings.Contains(bobRow, "not signed in") {
		t.Errorf("bob's row = %q", bobRow)
	}
	if !strings.Contains(r.out, "yes (…") {
		t.Errorf("the PAT keyturn made is not shown as held:\n%s", scrub(r.out))
	}
	j := w.run("", "status", "--json")
	w.want(j, 1, "status --json")
	inv := decodeJSON[account.Inventory](t, j.out)
	if len(inv.Accounts) != 3 || inv.Accounts[0].Account != "bob" || inv.Accounts[0].Error == "" || len(inv.Accounts[1].Tokens) == 0 {
		t.Fatalf("inventory = %+v", inv.Accounts)
	}
	w.want(w.run("", "status", "--account", "mm"), 0, "status of one good account")
	w.want(w.run("", "status", "--account", "nope"), 1, "status of an unknown account")
}

func TestCheckExitsSixForAnOverdueTokenAndZeroAfterRotating(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	w.want(w.run("", "policy", "set", "command", "90d"), 0, "policy set")
	r := w.run("", "check")
	w.want(r, 0, "check with fresh tokens")
	mustContain(t, "check", r.err, "nothing overdue, expired or expiring within 7d")
	list := decodeJSON[[]account.Token](t, w.run("", "token", "list", "mm", "--kind", "command", "--json").out)
	if !w.sb.Mattermost.Backdate(list[0].ID, 100*day) {
		t.Fatal("backdate")
	}
	r = w.run("", "check")
	w.want(r, ExitAttention, "check with an overdue command")
	mustContain(t, "check", r.out, list[0].RefString, "overdue", "keyturn token rotate mm "+list[0].RefString)
	mustContain(t, "check", r.err, "1 token(s) need rotating or renewing")
	j := w.run("", "check", "--json")
	w.want(j, ExitAttention, "check --json")
	rep := decodeJSON[checkJSON](t, j.out)
	if len(rep.Tokens) != 1 || rep.Tokens[0].State != account.StateOverdue || rep.Tokens[0].MaxAge != "90d" || rep.WarnWithin != "7d" {
		t.Fatalf("check --json = %+v", rep)
	}
	w.want(w.run("", "token", "rotate", "mm", list[0].RefString), 0, "rotate")
	w.want(w.run("", "check"), 0, "check after rotating")
}

func TestPolicyCommandsAndTheirUsageErrors(t *testing.T) {
	w := newWorld(t)
	w.rocketAlice("rc")
	r := w.run("", "policy", "set", "hook", "90d")
	w.want(r, ExitUsage, "unknown kind")
	mustContain(t, "unknown kind", r.err, `unknown token kind "hook"`, "user-token, command, webhook, pat, session", "Usage:")
	r = w.run("", "policy", "set", "pat", "90")
	w.want(r, ExitUsage, "duration without a unit")
	mustContain(t, "malformed duration", r.err, `duration "90"`, "e.g. 90d, 12h, 1h30m, 2w")
	r = w.run("", "policy", "set", "webhook", "90d", "--account", "rc")
	w.want(r, ExitUsage, "a kind the account's service lacks")
	mustContain(t, "kind of another service", r.err, "rc is a rocketchat account, which has no webhook tokens")
	r = w.run("", "check", "--warn-within", "1y")
	w.want(r, ExitUsage, "check with a bad window")
	mustContain(t, "bad window", r.err, "--warn-within", `unknown unit "y"`)

	w.want(w.run("", "policy", "set", "pat", "2w"), 0, "policy set pat 2w")
	w.want(w.run("", "policy", "set", "pat", "400d", "--account", "rc"), 0, "policy set for rc")
	l := w.run("", "policy", "list")
	w.want(l, 0, "policy list")
	mustContain(t, "policy list", l.out, "KIND", "pat", "every account", "14d", "rc", "400d")
	ps := decodeJSON[[]account.Policy](t, w.run("", "policy", "list", "--json").out)
	if len(ps) != 2 || ps[0].Text != "14d" || ps[1].Account != "rc" {
		t.Fatalf("policy list --json = %+v", ps)
	}
	// The seeded PAT is a year old: within rc's own 400 days, past 2 weeks.
	w.want(w.run("", "check"), 0, "check under rc's own policy")
	w.want(w.run("", "policy", "unset", "pat", "--account", "rc"), 0, "policy unset")
	r = w.run("", "check")
	w.want(r, ExitAttention, "check under the general policy")
	mustContain(t, "check", r.out, "pat:"+rocketchatsim.AlicePATName, "overdue")
	r = w.run("", "policy", "unset", "pat", "--account", "rc")
	w.want(r, ExitFailure, "unset twice")
	mustContain(t, "unset twice", r.err, "no policy is set for pat tokens of rc")
}

func TestRotateAllOverdueThenCheckIsClean(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	w.want(w.run("", "policy", "set", "webhook", "90d"), 0, "policy set")
	hooks := decodeJSON[[]account.Token](t, w.run("", "token", "list", "mm", "--kind", "webhook", "--json").out)
	w.sb.Mattermost.Backdate(hooks[0].ID, 120*day)
	w.want(w.run("", "check"), ExitAttention, "check")
	r := w.run("", "token", "rotate", "mm", "--all", "--overdue", "--json")
	w.want(r, 0, "rotate --all --overdue")
	rep := decodeJSON[bulkJSON](t, r.out)
	if rep.OK != 1 || len(rep.Tokens) != 1 || rep.Tokens[0].Ref != hooks[0].RefString {
		t.Fatalf("rotated %+v, want only %s", rep, hooks[0].RefString)
	}
	w.want(w.run("", "check"), 0, "check after rotating the overdue")
}

// The demo has something for the overview and check to find: /oncall is
// 100 days old under a 90-day policy for slash commands.
func TestDemoHasAnOverdueCommand(t *testing.T) {
	ctx := context.Background()
	d, err := startDemo(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	req := account.LoginRequest{Account: DemoMattermost, Password: mattermostsim.AdminPassword}
	if _, err := d.Manager.Login(ctx, req); err == nil {
		t.Fatal("no second factor asked")
	}
	req.Answer = &account.Answer{Code: totp(mattermostsim.AdminTOTPSecret, d.Sandbox.Env.Clock.Now())}
	if _, err := d.Manager.Login(ctx, req); err != nil {
		t.Fatal(err)
	}
	_, found, err := d.Manager.Check(ctx, account.InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || !strings.HasPrefix(found[0].Label, "/oncall") || found[0].State != account.StateOverdue {
		t.Fatalf("findings = %+v", found)
	}
}
