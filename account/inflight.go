package account

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"keyturn/textsafe"
)

// InFlight is a request that issues a token: sent, and not yet answered and
// stored. Quitting waits for it; a forced quit names it and Recover.
type InFlight struct {
	Account string
	What    string // "the regeneration of command:abc"
	// Recover says how to find or undo what the server did if keyturn is
	// forced to quit before the answer is stored.
	Recover string
}

type inflightSet struct {
	mu   sync.Mutex
	next int
	reqs map[int]InFlight
}

// issuing is the one door every request that issues a token goes through.
// A caller that is already cancelled stops here, before anything is sent.
// Past it, the caller's cancellation (Esc, quit, a signal) no longer reaches
// the request nor the storing of its answer: cancelling then would only turn
// an issued token into a lost one. The client's timeout still bounds the
// request, and the store's its write. Call done once the answer is stored.
func (m *Manager) issuing(ctx context.Context, f InFlight) (detached context.Context, done func(), err error) {
	m.fly.mu.Lock()
	defer m.fly.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if m.fly.reqs == nil {
		m.fly.reqs = map[int]InFlight{}
	}
	m.fly.next++
	id := m.fly.next
	m.fly.reqs[id] = f
	var once sync.Once
	return context.WithoutCancel(ctx), func() {
		once.Do(func() {
			m.fly.mu.Lock()
			delete(m.fly.reqs, id)
			m.fly.mu.Unlock()
		})
	}, nil
}

// InFlight lists the issuing requests sent and not yet stored, oldest first.
func (m *Manager) InFlight() []InFlight {
	m.fly.mu.Lock()
	defer m.fly.mu.Unlock()
	ids := make([]int, 0, len(m.fly.reqs))
	for id := range m.fly.reqs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]InFlight, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.fly.reqs[id])
	}
	return out
}

// inFlightIssue describes a request for a new token or a rotation of ref.
// The description reaches a terminal as it is (the CLI prints it on a
// signal), and a PAT's name is the server's text: it is cleaned.
func inFlightIssue(acct string, ref Ref, inPlace bool) InFlight {
	f := inFlightIssueRaw(acct, ref, inPlace)
	f.What, f.Recover = textsafe.Line(f.What), textsafe.Line(f.Recover)
	return f
}

func inFlightIssueRaw(acct string, ref Ref, inPlace bool) InFlight {
	if inPlace {
		return InFlight{Account: acct, What: fmt.Sprintf("the regeneration of %s %s", acct, ref), Recover: shellCheck(acct, ref)}
	}
	f := InFlight{Account: acct, What: fmt.Sprintf("the new %s on %s", kindNoun(ref.Kind), acct),
		Recover: fmt.Sprintf("'keyturn token list %s' shows the tokens the server holds; revoke one keyturn does not hold with 'keyturn token revoke %s REF'.", acct, acct)}
	if ref.ID != "" && ref.Kind == KindPAT {
		f.Recover = fmt.Sprintf("If it was issued, revoke it with 'keyturn token revoke %s %s' and create it again.", acct, ShellArg(ref.String()))
	}
	return f
}

// shellCheck is checkHint for InFlight.Recover, which both faces print
// at the shell once keyturn has quit: there the way out is a command.
func shellCheck(acct string, ref Ref) string {
	switch ref.Kind {
	case KindPAT:
		return fmt.Sprintf("Check with 'keyturn token list %s --kind pat': if the PAT's last_token_part no longer ends with the stored fingerprint, it was rotated and the new token is lost; rotate it again. keyturn does not retry by itself.", acct)
	case KindSession:
		return fmt.Sprintf("The old token stays valid until it expires; run 'keyturn token rotate %s session' again when you are ready. keyturn does not retry by itself.", acct)
	case KindCommand, KindWebhook:
		return fmt.Sprintf("'keyturn token fetch %s %s' saves the token the server holds now (the new one if the rotation went through) without rotating it again. keyturn does not retry by itself.", acct, ref)
	}
	return fmt.Sprintf("Check the integration, or run 'keyturn token rotate %s %s' again on purpose to get a token you hold. keyturn does not retry by itself.", acct, ref)
}

// inFlightLogin describes a sign-in request that opens a session.
func inFlightLogin(acct string) InFlight {
	return InFlight{Account: acct, What: "the sign-in to " + acct,
		Recover: fmt.Sprintf("The server may have opened a session keyturn does not hold; it ends when the server expires it. Run 'keyturn login %s' again.", acct)}
}

func kindNoun(kind string) string {
	switch kind {
	case KindUserToken:
		return "user access token"
	case KindPAT:
		return "personal access token"
	case KindSession:
		return "session token"
	}
	return kind + " token"
}
