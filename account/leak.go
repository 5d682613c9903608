package account

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"keyturn/config"
	"keyturn/textsafe"
)

// LeakMatch is one thing a leaked token turned out to be. It names the
// token, never shows it.
type LeakMatch struct {
	Account string `json:"account,omitempty"`
	Secret  string `json:"secret,omitempty"` // the stored secret holding it
	Ref     string `json:"ref,omitempty"`    // the server-side object
	Kind    string `json:"kind"`
	Label   string `json:"label,omitempty"`
	Team    string `json:"team,omitempty"`
	// How says what matched: the stored copy, the token the server shows,
	// or only the last part of it the server shows.
	How []string `json:"how"`
	// Exact is true when a whole token matched (by digest); false when
	// only the server's last token part did.
	Exact bool `json:"exact"`
	// Credential is set when it is what keyturn itself signs in with.
	Credential bool `json:"credential,omitempty"`
	// Rotate says whether 'leak --rotate' rotates it; Advice says what to
	// do otherwise.
	Rotate bool   `json:"rotate"`
	Advice string `json:"advice,omitempty"`

	ref Ref
}

// LeakReport is what a leaked token is, and where keyturn looked.
type LeakReport struct {
	Matches  []LeakMatch `json:"matches"`
	Looked   []string    `json:"looked"`
	Problems []string    `json:"problems,omitempty"` // places it could not look
}

// Leak says what a leaked token is: which stored secret holds it (by
// comparing SHA-256 digests in constant time) and which server-side object
// it belongs to where a server shows it (Mattermost slash-command and
// outgoing-webhook tokens in their lists, Rocket.Chat PATs by their last
// token part). The token is never printed, logged or sent anywhere.
func (m *Manager) Leak(ctx context.Context, token string) (*LeakReport, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, inputErrorf("no token given: pipe it in on stdin (printf %%s \"$TOKEN\" | keyturn leak)")
	}
	want := sha256.Sum256([]byte(token))
	same := func(v string) bool {
		got := sha256.Sum256([]byte(v))
		return v != "" && subtle.ConstantTimeCompare(got[:], want[:]) == 1
	}
	cfg, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	rep := &LeakReport{}
	found := map[string]*LeakMatch{}
	var order []string
	add := func(key string, lm LeakMatch) {
		if prev, ok := found[key]; ok {
			prev.How = append(prev.How, lm.How...)
			prev.Exact = prev.Exact || lm.Exact
			prev.Credential = prev.Credential || lm.Credential
			if prev.Label == "" {
				prev.Label, prev.Team = lm.Label, lm.Team
			}
			return
		}
		found[key] = &lm
		order = append(order, key)
	}
	m.leakInStore(ctx, cfg, same, rep, add)
	m.leakOnServers(ctx, cfg, token, same, rep, add)
	for _, k := range order {
		rep.Matches = append(rep.Matches, *found[k])
	}
	decideLeakRotation(rep)
	return rep, nil
}

// leakInStore compares the token with every stored secret but pending
// challenges and backup codes, credentials by the token inside them.
func (m *Manager) leakInStore(ctx context.Context, cfg *config.Config, same func(string) bool, rep *LeakReport, add func(string, LeakMatch)) {
	n := 0
	for _, meta := range cfg.Secrets {
		if meta.Kind == KindPending || meta.Kind == KindBackup {
			continue
		}
		v, err := m.vault.Get(ctx, meta.Name)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("the store: could not read %s: %v", meta.Name, err))
			continue
		}
		n++
		if meta.Kind == KindCredential {
			var c credential
			if json.Unmarshal([]byte(v), &c) == nil && (same(c.Token) || same(c.Key)) {
				add(meta.Account+"\x00credential", LeakMatch{Account: meta.Account, Secret: meta.Name, Kind: KindCredential, Exact: true,
					Credential: true, How: []string{"keyturn's own credential for " + meta.Account + " (" + meta.ID + ")"}})
			}
			continue
		}
		if !same(v) {
			continue
		}
		acct, ref, ok := ParseSecretName(meta.Name)
		lm := LeakMatch{Account: meta.Account, Secret: meta.Name, Kind: meta.Kind, Exact: true, How: []string{"the stored copy of " + meta.Name}}
		key := meta.Name
		if ok {
			lm.Account, lm.Ref, lm.ref = acct, ref.String(), ref
			key = acct + "\x00" + ref.String()
		}
		add(key, lm)
	}
	rep.Looked = append(rep.Looked, fmt.Sprintf("the %s store: %d secrets", m.vault.Backend(), n))
}

// leakOnServers asks each signed-in account's server for its tokens, all
// at once, and compares what the server shows of each.
func (m *Manager) leakOnServers(ctx context.Context, cfg *config.Config, token string, same func(string) bool, rep *LeakReport, add func(string, LeakMatch)) {
	type result struct {
		looked, problem string
		matches         []LeakMatch
	}
	results := make([]result, len(cfg.Accounts))
	var wg sync.WaitGroup
	for i, a := range cfg.Accounts {
		if _, ok := cfg.Secret(credentialName(a.Name)); !ok {
			results[i].looked = fmt.Sprintf("%s (%s): not signed in, its server was not asked", a.Name, a.Service)
			continue
		}
		wg.Add(1)
		go func(i int, a config.Account) {
			defer wg.Done()
			toks, err := m.Tokens(ctx, a.Name, ListFilter{})
			if err != nil {
				results[i].problem = fmt.Sprintf("%s (%s): could not list its tokens: %v", a.Name, a.Service, err)
				return
			}
			results[i].looked = fmt.Sprintf("%s (%s): %s", a.Name, a.Service, describeListed(a.Service, toks))
			for _, t := range toks {
				lm := LeakMatch{Account: a.Name, Ref: t.RefString, Kind: t.Kind, Label: t.Label, Team: t.Team, Secret: t.Secret, ref: t.Ref}
				switch {
				case same(t.current):
					lm.Exact, lm.How = true, []string{"the token the server shows for " + a.Name + " " + t.RefString}
				case len(t.LastPart) >= 4 && strings.HasSuffix(token, t.LastPart):
					lm.How = []string{"the last token part Rocket.Chat shows for " + a.Name + " " + t.RefString + " (" + t.LastPart + ")"}
				default:
					continue
				}
				results[i].matches = append(results[i].matches, lm)
			}
		}(i, a)
	}
	wg.Wait()
	for _, r := range results {
		if r.looked != "" {
			rep.Looked = append(rep.Looked, r.looked)
		}
		if r.problem != "" {
			rep.Problems = append(rep.Problems, r.problem)
		}
		for _, lm := range r.matches {
			add(lm.Account+"\x00"+lm.ref.String(), lm)
		}
	}
}

// describeListed says how many tokens of each of the service's kinds its
// server listed, and what of them could be compared.
func describeListed(service string, toks []Token) string {
	count := map[string]int{}
	shows := map[string]string{}
	for _, t := range toks {
		count[t.Kind]++
		switch {
		case t.current != "":
			shows[t.Kind] = "tokens compared"
		case t.LastPart != "":
			shows[t.Kind] = "last token parts compared"
		}
	}
	var parts []string
	for _, k := range KindsOf(service) {
		how := shows[k]
		if how == "" {
			how = "the server shows no value: compared with the store only"
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", count[k], k, how))
	}
	return textsafe.Line(strings.Join(parts, ", "))
}

// decideLeakRotation marks what 'leak --rotate' rotates: every token a
// whole match names; a match by last token part only when it is the one
// thing that matched. keyturn's own sign-in credential is not rotated here:
// the advice says how to end it.
func decideLeakRotation(rep *LeakReport) {
	exact := false
	for _, lm := range rep.Matches {
		exact = exact || lm.Exact
	}
	for i := range rep.Matches {
		lm := &rep.Matches[i]
		switch {
		case lm.Credential && lm.ref.Kind == "":
			lm.Advice = fmt.Sprintf("sign out with 'keyturn logout %s' (it ends the session on the server), then sign in again with 'keyturn login %s'", lm.Account, lm.Account)
		case lm.ref.Kind == "":
			lm.Advice = "keyturn cannot tell which server token this is; replace it where it came from"
		case !lm.Exact && (exact || len(rep.Matches) > 1):
			lm.Advice = fmt.Sprintf("only the last token part matched; if it is this token, rotate it: 'keyturn token rotate %s %s'", lm.Account, ShellArg(lm.Ref))
		default:
			lm.Rotate = true
		}
	}
}

// RotateLeaked rotates one match of a leak report (then its consumers get
// the new token, as after every rotation).
func (m *Manager) RotateLeaked(ctx context.Context, lm LeakMatch, ans *Answer) (*Issued, error) {
	if !lm.Rotate {
		return nil, fmt.Errorf("%s: not rotated by 'leak --rotate': %s", lm.Ref, lm.Advice)
	}
	return m.Rotate(ctx, lm.Account, lm.ref, ans)
}
