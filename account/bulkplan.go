package account

import (
	"maps"
	"slices"
)

// rotationPlan is what a bulk run does with each listed token, decided
// from the list and the journal alone (planRotation does no I/O).
type rotationPlan struct {
	// Items has one entry per listed token, in list order. Those settled
	// from the journal carry their status; the rest have none yet.
	Items []BulkItem
	// Work is the tokens to rotate, ReadBack those a stopped run rotated
	// without its answer arriving: the server shows the new token, which
	// is stored as it is.
	Work, ReadBack []int
	// Settled counts the tokens settled from the journal (the progress's
	// Skipped).
	Settled int
	// CheckStored is the not-saved tokens of the stopped run: each stays
	// failed unless the store holds it now (savedSince).
	CheckStored []int
	// MarkUnknown is the settled tokens whose request the journal shows
	// sent with no answer: they are recorded "unknown" now, so that a
	// later fresh run is no longer held back by them.
	MarkUnknown []int
	// Plans go on disk, in one sync, before the first request: the digest
	// of each token to rotate whose token the server shows.
	Plans []journalEntry
}

// Texts of the items settled from the journal.
const (
	errNeverSaved = "issued by the stopped run but NOT saved: its value was printed then and keyturn has no copy; if it was not kept, rotate this token again"
	errSentBefore = "sent in the stopped run with no answer; the server may have rotated it (check the integration; rotate it on its own to be sure)"
)

// planRotation decides the run from the listed tokens and each ref's last
// journal event (prior, read from journalFile). A fresh run (resume false)
// over a journal with a request sent and not answered is refused; otherwise
// it plans as if there were no journal. Journal entries of refs the server
// no longer lists play no part beyond that refusal.
func planRotation(account string, tokens []Token, prior map[string]journalEntry, resume bool, journalFile string) (*rotationPlan, error) {
	if !resume {
		// Sorted, so that the same journal always names the same ref.
		for _, ref := range slices.Sorted(maps.Keys(prior)) {
			if e := prior[ref].Event; e == evSent || e == evPlanned {
				return nil, &InterruptedRunError{Ref: ref, Journal: journalFile}
			}
		}
		prior = nil
	}
	p := &rotationPlan{Items: make([]BulkItem, len(tokens))}
	for i, t := range tokens {
		item := BulkItem{Ref: t.Ref.String(), Label: t.Label, Team: t.Team}
		last := prior[item.Ref]
		switch {
		case t.current != "" && last.Event == evNotStored:
			// The stopped run's token was not saved; the server shows it.
			p.ReadBack = append(p.ReadBack, i)
		case last.Was != "" && t.current != "" && last.Event != evDone:
			// The server shows the token: if it is still the one the
			// stopped run found, that run never rotated it; if not, it did
			// and its answer (or the journal's record of it) was lost, and
			// the server has the new one. Whatever the last event on disk:
			// after a 429 the same ref may have been sent again.
			if digest(t.current) == last.Was {
				p.Work = append(p.Work, i)
			} else {
				p.ReadBack = append(p.ReadBack, i)
			}
		case last.Event == evDone:
			item.Status, item.Fingerprint, item.Stored = BulkSkipped, last.Fingerprint, true
			item.Name = SecretName(account, t.Ref)
			p.Settled++
		case last.Event == evNotStored:
			// Issued and handed out, never stored: keyturn has no copy,
			// unless it was saved since (see CheckStored).
			item.Name, item.Fingerprint = last.Name, last.Fingerprint
			item.Status, item.NotSaved, item.Error = BulkFailed, true, errNeverSaved
			p.CheckStored = append(p.CheckStored, i)
			p.Settled++
		case last.Event == evSent || last.Event == evUnknown || last.Event == evPlanned:
			item.Status, item.Error = BulkUnknown, errSentBefore
			p.Settled++
			if last.Event != evUnknown {
				p.MarkUnknown = append(p.MarkUnknown, i)
			}
		default:
			p.Work = append(p.Work, i)
		}
		p.Items[i] = item
	}
	for _, i := range p.Work {
		if t := tokens[i]; t.current != "" {
			p.Plans = append(p.Plans, journalEntry{Ref: t.Ref.String(), Event: evPlanned, Was: digest(t.current)})
		}
	}
	return p, nil
}

// savedSince is a not-saved item of the stopped run whose token the store
// holds now (retried, or 'keyturn secret set').
func savedSince(item BulkItem) BulkItem {
	item.Status, item.Stored, item.NotSaved, item.Error = BulkSkipped, true, false, ""
	return item
}
