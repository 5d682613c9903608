package account

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Fate of one listed token in a plan, as the table below writes it.
const (
	fWork     = "work"      // to rotate
	fRead     = "read-back" // store what the server shows now
	fSkip     = "skipped"   // done by the stopped run
	fUnsaved  = "unsaved"   // issued and not saved by the stopped run: ask the store
	fUnknown  = "unknown"   // sent with no answer, already reported
	fUnknownM = "unknown+mark"
)

// planToken is a listed token; shown is the token the server shows ("" for
// the kinds it does not show).
func planToken(kind, id, shown string) Token {
	return Token{Ref: Ref{Kind: kind, ID: id}, Label: "label " + id, Team: "ops", current: shown}
}

// The plan decides each token from its last journal event and what the
// server shows now, with no I/O: every journal state, on a fresh run and
// on a resume.
func TestPlanRotationCoversEveryJournalState(t *testing.T) {
	cmd := func(id, shown string) Token { return planToken(KindCommand, id, shown) }
	user := func(id string) Token { return planToken(KindUserToken, id, "") }
	ev := func(ref, event string) journalEntry { return journalEntry{Ref: ref, Event: event} }
	was := func(e journalEntry, token string) journalEntry { e.Was = digest(token); return e }
	notStored := journalEntry{Ref: "user-token:u1", Event: evNotStored, Name: "mm/user-token/u9", Fingerprint: "…abcd"}

	cases := []struct {
		name   string
		resume bool
		tokens []Token
		prior  []journalEntry
		want   []string // fate per token
		plans  []string // refs planned before the first request
	}{
		{name: "fresh run, no journal", tokens: []Token{cmd("c1", "old1"), user("u1")},
			want: []string{fWork, fWork}, plans: []string{"command:c1"}},
		{name: "fresh run over a finished journal starts over", tokens: []Token{cmd("c1", "old1"), user("u1"), user("u2")},
			prior: []journalEntry{ev("command:c1", evDone), ev("user-token:u1", evUnknown), notStored},
			want:  []string{fWork, fWork, fWork}, plans: []string{"command:c1"}},
		{name: "resume: not started and failed go again", resume: true, tokens: []Token{cmd("c1", "old1"), user("u1"), user("u2")},
			prior: []journalEntry{ev("user-token:u1", evFailed)},
			want:  []string{fWork, fWork, fWork}, plans: []string{"command:c1"}},
		{name: "resume: sent, planned or reported with no answer and no token shown", resume: true,
			tokens: []Token{user("u1"), user("u2"), user("u3")},
			prior:  []journalEntry{ev("user-token:u1", evSent), ev("user-token:u2", evPlanned), ev("user-token:u3", evUnknown)},
			want:   []string{fUnknownM, fUnknownM, fUnknown}},
		{name: "resume: answered and stored", resume: true, tokens: []Token{user("u1"), cmd("c1", "new1")},
			prior: []journalEntry{{Ref: "user-token:u1", Event: evDone, Fingerprint: "…1111"}, was(journalEntry{Ref: "command:c1", Event: evDone, Fingerprint: "…2222"}, "old1")},
			want:  []string{fSkip, fSkip}},
		{name: "resume: answered and not stored, no token shown", resume: true, tokens: []Token{user("u1")},
			prior: []journalEntry{notStored}, want: []string{fUnsaved}},
		{name: "resume: answered and not stored, the server shows it", resume: true, tokens: []Token{cmd("c1", "new1")},
			prior: []journalEntry{{Ref: "command:c1", Event: evNotStored, Name: "mm/command/c1", Fingerprint: "…new1"}},
			want:  []string{fRead}},
		{name: "resume: planned and the server still shows the old token", resume: true,
			tokens: []Token{cmd("c1", "old1"), cmd("c2", "old2")},
			prior:  []journalEntry{was(ev("command:c1", evPlanned), "old1"), was(ev("command:c2", evSent), "old2")},
			want:   []string{fWork, fWork}, plans: []string{"command:c1", "command:c2"}},
		{name: "resume: planned and the server shows a new token, whatever the last event", resume: true,
			tokens: []Token{cmd("c1", "new1"), cmd("c2", "new2"), cmd("c3", "new3"), cmd("c4", "new4")},
			prior: []journalEntry{was(ev("command:c1", evPlanned), "old1"), was(ev("command:c2", evSent), "old2"),
				was(ev("command:c3", evFailed), "old3"), was(ev("command:c4", evUnknown), "old4")},
			want: []string{fRead, fRead, fRead, fRead}},
		{name: "resume: refs gone from the server play no part", resume: true, tokens: []Token{cmd("c1", "old1")},
			prior: []journalEntry{ev("command:gone", evSent), ev("user-token:gone", evNotStored), ev("command:c1", evFailed)},
			want:  []string{fWork}, plans: []string{"command:c1"}},
		{name: "a ref listed twice gets the same fate twice", resume: true,
			tokens: []Token{user("u1"), user("u1"), cmd("c1", "old1"), cmd("c1", "old1")},
			prior:  []journalEntry{ev("user-token:u1", evSent)},
			want:   []string{fUnknownM, fUnknownM, fWork, fWork}, plans: []string{"command:c1", "command:c1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prior := map[string]journalEntry{}
			for _, e := range c.prior {
				prior[e.Ref] = e
			}
			p, err := planRotation("mm", c.tokens, prior, c.resume, "/j.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != len(c.tokens) {
				t.Fatalf("%d items for %d tokens", len(p.Items), len(c.tokens))
			}
			settled := 0
			for i, fate := range c.want {
				checkFate(t, p, i, fate, c.tokens[i], prior[c.tokens[i].Ref.String()])
				if fate != fWork && fate != fRead {
					settled++
				}
			}
			if p.Settled != settled {
				t.Errorf("settled %d, want %d", p.Settled, settled)
			}
			var plans []string
			for _, e := range p.Plans {
				plans = append(plans, e.Ref)
				i := slices.IndexFunc(c.tokens, func(t Token) bool { return t.Ref.String() == e.Ref })
				if e.Event != evPlanned || e.Was != digest(c.tokens[i].current) {
					t.Errorf("plan %+v: want event planned with the digest of the token shown", e)
				}
			}
			if !slices.Equal(plans, c.plans) {
				t.Errorf("plans %v, want %v", plans, c.plans)
			}
		})
	}
}

// checkFate asserts token i's place in the plan and its item.
func checkFate(t *testing.T, p *rotationPlan, i int, fate string, tok Token, last journalEntry) {
	t.Helper()
	it := p.Items[i]
	if it.Ref != tok.Ref.String() || it.Label != tok.Label || it.Team != tok.Team {
		t.Errorf("item %d is %+v, not token %v", i, it, tok)
	}
	in := func(l []int) bool { return slices.Contains(l, i) }
	got := map[string]bool{"work": in(p.Work), "read-back": in(p.ReadBack), "check": in(p.CheckStored), "mark": in(p.MarkUnknown)}
	want := map[string]bool{"work": fate == fWork, "read-back": fate == fRead, "check": fate == fUnsaved, "mark": fate == fUnknownM}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s (%s): in %s list = %v, want %v", it.Ref, fate, k, got[k], want[k])
		}
	}
	switch fate {
	case fWork, fRead:
		if it.Status != "" || it.Error != "" {
			t.Errorf("%s: %s token settled already: %+v", it.Ref, fate, it)
		}
	case fSkip:
		if it.Status != BulkSkipped || !it.Stored || it.Fingerprint != last.Fingerprint || it.Name != SecretName("mm", tok.Ref) || it.Error != "" {
			t.Errorf("%s: done before, got %+v", it.Ref, it)
		}
	case fUnsaved:
		if it.Status != BulkFailed || !it.NotSaved || it.Stored || it.Name != last.Name || it.Fingerprint != last.Fingerprint || !strings.Contains(it.Error, "NOT saved") {
			t.Errorf("%s: not saved before, got %+v", it.Ref, it)
		}
		if s := savedSince(it); s.Status != BulkSkipped || !s.Stored || s.NotSaved || s.Error != "" || s.Name != last.Name {
			t.Errorf("%s: saved since, got %+v", it.Ref, s)
		}
	case fUnknown, fUnknownM:
		if it.Status != BulkUnknown || !strings.Contains(it.Error, "may have rotated") {
			t.Errorf("%s: sent with no answer, got %+v", it.Ref, it)
		}
	}
}

// A fresh run over a journal with a request sent or planned and no answer
// is refused, naming the first such ref (refs the server no longer lists
// too) and the journal; a resume over the same journal is not.
func TestPlanRotationRefusesAFreshRunOverAnInterruptedOne(t *testing.T) {
	tokens := []Token{planToken(KindCommand, "c1", "old1")}
	for _, last := range []string{evSent, evPlanned} {
		prior := map[string]journalEntry{
			"command:c1":    {Ref: "command:c1", Event: evDone},
			"command:zz":    {Ref: "command:zz", Event: last},
			"command:gone":  {Ref: "command:gone", Event: last},
			"user-token:u1": {Ref: "user-token:u1", Event: evUnknown},
		}
		for range 5 { // map order must not change the ref named
			_, err := planRotation("mm", tokens, prior, false, "/cfg/journal/mm.jsonl")
			var ir *InterruptedRunError
			if !errors.As(err, &ir) || !errors.Is(err, ErrInterruptedRun) || ir.Ref != "command:gone" || ir.Journal != "/cfg/journal/mm.jsonl" {
				t.Fatalf("last event %s: err %v, want an interrupted run naming command:gone", last, err)
			}
		}
		if _, err := planRotation("mm", tokens, prior, true, "/cfg/journal/mm.jsonl"); err != nil {
			t.Fatalf("resume over last event %s: %v", last, err)
		}
	}
}

// A journal holds many lines for one ref (planned, sent, a 429, sent
// again): the plan goes by the last, with the digest of the first plan, so
// a token rotated by a request sent again is read back, not rotated twice.
func TestPlanRotationFromARefJournalledManyTimes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	lines := `{"ref":"command:c1","event":"planned","was":"` + digest("old1") + `"}
{"ref":"command:c1","event":"sent"}
{"ref":"command:c1","event":"failed","error":"rate limited"}
{"ref":"command:c1","event":"sent"}
{"ref":"user-token:u1","event":"sent"}
{"ref":"user-token:u1","event":"failed","error":"rate limited"}
{"ref":"user-token:u1","event":"sent"}
{"ref":"command:c1","ev` // torn by a crash
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	prior, err := readJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	for shown, fate := range map[string]string{"old1": fWork, "new1": fRead} {
		tokens := []Token{planToken(KindCommand, "c1", shown), planToken(KindUserToken, "u1", "")}
		p, err := planRotation("mm", tokens, prior, true, path)
		if err != nil {
			t.Fatal(err)
		}
		checkFate(t, p, 0, fate, tokens[0], prior["command:c1"])
		checkFate(t, p, 1, fUnknownM, tokens[1], prior["user-token:u1"])
	}
}
