package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

func TestTokenRotateAll(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	before := len(w.ledger("mattermost", "command"))

	// Usage errors.
	w.want(w.run("", "token", "rotate", "mm", "command:x", "--all"), ExitUsage, "REF with --all")
	w.want(w.run("", "token", "rotate", "mm", "command:x", "--parallel", "2"), ExitUsage, "--parallel without --all")
	w.want(w.run("", "token", "rotate", "mm", "--all", "--parallel", "0"), ExitUsage, "--parallel 0")

	// One answer is lost after the server applied it: exit 5, the rest ok.
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.DropAfterApply, Times: 1})
	r := w.run("", "token", "rotate", "mm", "--all", "--kind", "command", "--team", "ops", "--parallel", "3", "--json")
	w.want(r, ExitUnknownState, "rotate --all with a lost answer")
	rep := decodeJSON[bulkJSON](t, r.out)
	if rep.OK != len(rep.Tokens)-1 || rep.Unknown != 1 {
		t.Fatalf("report: %d ok, %d unknown of %d", rep.OK, rep.Unknown, len(rep.Tokens))
	}
	for _, it := range rep.Tokens {
		if it.Token != "" {
			t.Fatal("stored tokens must not be printed without --reveal")
		}
		if it.Status == "ok" {
			if v, ok := w.stored(it.Name); !ok || v == "" {
				t.Fatalf("%s reported ok but not stored", it.Ref)
			}
		}
	}
	if got := len(w.ledger("mattermost", "command")) - before; got != len(rep.Tokens) {
		t.Fatalf("the server rotated %d tokens for %d commands", got, len(rep.Tokens))
	}

	// A fresh run of the same selection refuses; --resume sends nothing again.
	sel := []string{"token", "rotate", "mm", "--all", "--kind", "command", "--team", "ops"}
	r = w.run("", sel...)
	w.want(r, ExitFailure, "fresh run over an interrupted journal")
	mustContain(t, "stderr", r.err, "--resume")
	r = w.run("", append(sel, "--resume")...)
	w.want(r, ExitOK, "resume reads the lost one back from the server")
	mustContain(t, "stdout", r.out, "already done", "ok (rotated by the stopped run, whose answer was lost; saved the token the server holds now)",
		fmt.Sprintf("1 ok · 0 failed · 0 unknown · %d already done", len(rep.Tokens)-1))
	if got := len(w.ledger("mattermost", "command")) - before; got != len(rep.Tokens) {
		t.Fatalf("resume rotated again: %d", got)
	}
	// Once the run is finished, a fresh run rotates everything again.
	r = w.run("", sel...)
	w.want(r, ExitOK, "fresh run after the report")
	if got := len(w.ledger("mattermost", "command")) - before; got != 2*len(rep.Tokens) {
		t.Fatalf("a fresh run rotated %d tokens, want all %d again", got-len(rep.Tokens), len(rep.Tokens))
	}
	// Another selection was never held back.
	w.want(w.run("", "token", "rotate", "mm", "--all", "--kind", "webhook"), ExitOK, "webhooks while commands were interrupted")
}

func TestTokenRotateAllNotStoredPrintsTokens(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	before := len(w.ledger("mattermost", "webhook"))
	w.store.Ops = []string{"set"}
	r := w.run("", "token", "rotate", "mm", "--all", "--kind", "webhook")
	w.want(r, ExitNotStored, "rotate --all with a failing store")
	for _, e := range w.ledger("mattermost", "webhook")[before:] {
		if !strings.Contains(r.out, e.Token) {
			t.Fatal("a token that could not be stored must be printed on stdout")
		}
	}
}

func TestSandboxPrintsNewCodes(t *testing.T) {
	var calls int
	codes := func() []simnet.Code {
		calls++
		if calls < 3 {
			return []simnet.Code{{Label: "a", Code: "111111"}}
		}
		return []simnet.Code{{Label: "a", Code: "111111"}, {Label: "b", Code: "222222"}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var b strings.Builder
	printCodes(ctx, &b, codes, time.Millisecond)
	if got := b.String(); strings.Count(got, "code: a 111111") != 1 || strings.Count(got, "code: b 222222") != 1 {
		t.Fatalf("each code once, as it appears; got %q", got)
	}
}

func TestInteractiveAppNeedsATerminal(t *testing.T) {
	w := newWorld(t)
	r := w.run("")
	w.want(r, ExitUsage, "keyturn with no terminal")
	mustContain(t, "stderr", r.err, "needs a terminal", "keyturn --help")
	w.want(w.run("", "demo"), ExitUsage, "keyturn demo with no terminal")
}

// A bulk run whose tokens the server refuses for want of a second factor
// exits 4 and says how to answer it; the resumed run with the answer
// rotates them.
func TestTokenRotateAllNeedsASecondFactorExits4(t *testing.T) {
	w := newWorld(t)
	w.addRocketChat("rc", "carol")
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), ExitOK, "login carol")
	for _, n := range []string{"a", "b"} {
		w.want(w.run(rocketchatsim.CarolPassword+"\n", "token", "create", "rc", n, "--method", "password", "--code", "-"), ExitOK, "create "+n)
	}
	// A fresh session forgets the passed second factor.
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), ExitOK, "login carol again")
	before := len(w.ledger("rocketchat", "pat"))
	r := w.run("", "token", "rotate", "rc", "--all")
	w.want(r, ExitNeedCode, "rotate --all without the second factor")
	mustContain(t, "rotate --all without the second factor", r.err, "keyturn token rotate rc --all --resume --method password --code -")
	r = w.run(rocketchatsim.CarolPassword+"\n", "token", "rotate", "rc", "--all", "--resume", "--method", "password", "--code", "-")
	w.want(r, ExitOK, "resumed with the second factor")
	if got := len(w.ledger("rocketchat", "pat")) - before; got != 2 {
		t.Fatalf("the server regenerated %d PATs, want 2", got)
	}
}
