package account

import (
	"errors"
	"time"

	"keyturn/client"
	"keyturn/keystore"
)

// RemedyAction is what the person can do about an error. It is data, not
// words: the CLI renders it as a command line, the TUI as a key, so both
// faces offer the same way out and neither copies the other's syntax.
//
// To add a way out: an action here (before lastRemedy), the error that
// carries it (withRemedy, or a case in RemedyFor), and its words in
// cli/fail.go remedyLine and tui/remedy.go remedyText. Both faces' tests
// walk RemedyActions, so an action with no words in one face fails.
type RemedyAction int

const (
	NoRemedy      RemedyAction = iota
	SignIn                     // sign in to Account again
	Fetch                      // store the token the server holds now for Ref
	Rotate                     // regenerate Ref on purpose
	CheckRef                   // the ref is not on the server: list Account's tokens
	CheckServer                // the server is unreachable or answers oddly: check its URL
	CheckState                 // a request may have reached the server: look before retrying
	Wait                       // the server limits requests: wait until Until
	TryLater                   // the server failed
	UnlockStore                // the store is locked or absent: unlock it, or use Flag
	UseFlag                    // a value is missing: give Flag
	AddAccount                 // no such account
	RemoveAccount              // the name is taken: remove Account first
	DisableMFA                 // MFA is on: disable it on Account first
	Resume                     // a rotation run was interrupted: finish it
	Revoke                     // an old token is still active: revoke Ref
	Expire                     // the server requires tokens to expire: give one an expiry within After
	Deliver                    // a consumer did not get Ref's new token: deliver the stored one again
	lastRemedy
)

// Remedy is a way out of an error, with what it applies to.
type Remedy struct {
	Action  RemedyAction
	Account string        // the account to act on, when known
	Ref     Ref           // Fetch, Rotate: the token
	Flag    string        // UseFlag, UnlockStore: "--brand", "--store file"
	After   time.Duration // Wait: how long the server asked to wait (0: it did not say); Expire: the server's maximum lifetime (0: unknown)
	Until   time.Time     // Wait: when that is over
}

// RemedyError is an error that carries its remedy. Its message is the
// cause's: the remedy is rendered by each face in its own words.
type RemedyError struct {
	Err    error
	Remedy Remedy
}

func (e *RemedyError) Error() string { return e.Err.Error() }
func (e *RemedyError) Unwrap() error { return e.Err }

func withRemedy(err error, r Remedy) error { return &RemedyError{Err: err, Remedy: r} }

// now is the clock RemedyFor turns a Retry-After into a time with.
var now = time.Now

// RemedyFor is the way out of err, if there is one: the remedy err carries,
// or the one its client or store error implies. It is the one table both
// faces render. Account is empty where err does not name it; the face
// fills it from what it was doing.
func RemedyFor(err error) (Remedy, bool) {
	var re *RemedyError
	var uo *UnknownOutcomeError
	var na *NoAccountError
	var ir *InterruptedRunError
	var rl *client.RateLimitedError
	var te *client.TransportError
	var ae *client.APIError
	var be *client.BadResponseError
	var se *keystore.StoreError
	var r Remedy
	switch {
	case err == nil:
	case errors.As(err, &re):
		r = re.Remedy
	case errors.As(err, &uo):
		r = uo.Remedy
	case errors.As(err, &ir):
		r = Remedy{Action: Resume}
	case errors.As(err, &na):
		if len(na.Known) == 0 {
			r = Remedy{Action: AddAccount}
		}
	case errors.As(err, &rl):
		r = Remedy{Action: Wait}
		if rl.RetryAfter > 0 {
			r.After, r.Until = rl.RetryAfter, now().Add(rl.RetryAfter)
		}
	case errors.As(err, &te):
		switch {
		case te.Canceled:
		case te.MayHaveReached:
			r = Remedy{Action: CheckState}
		default:
			r = Remedy{Action: CheckServer}
		}
	case errors.As(err, &ae):
		switch {
		case ae.Unauthorized():
			r = Remedy{Action: SignIn}
		case ae.Status >= 500:
			r = Remedy{Action: TryLater}
		}
	case errors.As(err, &be):
		r = Remedy{Action: CheckServer}
	case errors.As(err, &se):
		r = storeRemedy(se)
	}
	return r, r.Action != NoRemedy
}

// storeRemedy is the way out of a store failure that another store, or
// an unlocked one, would not have.
func storeRemedy(se *keystore.StoreError) Remedy {
	flag := ""
	if se.Other != "" {
		flag = "--store " + se.Other
	}
	switch {
	case errors.Is(se, keystore.ErrTooLarge) && flag != "":
		return Remedy{Action: UseFlag, Flag: flag}
	case errors.Is(se, keystore.ErrUnavailable):
		return Remedy{Action: UnlockStore, Flag: flag}
	}
	return Remedy{}
}

// refGone gives a 400 or 404 from an operation on one token its way out:
// the server does not have that ref (any more), so list what it has.
func refGone(err error, account string) error {
	var ae *client.APIError
	var uo *UnknownOutcomeError
	var ch *Challenge
	if err == nil || !errors.As(err, &ae) || (ae.Status != 400 && ae.Status != 404) ||
		errors.As(err, &uo) || errors.As(err, &ch) {
		return err
	}
	if _, ok := RemedyFor(err); ok {
		return err
	}
	return withRemedy(err, Remedy{Action: CheckRef, Account: account})
}

// RemedyActions is every action, for the faces' tests: each face renders
// them all.
func RemedyActions() []RemedyAction {
	var all []RemedyAction
	for a := SignIn; a < lastRemedy; a++ {
		all = append(all, a)
	}
	return all
}
