package cli

import (
	"fmt"

	"keyturn/account"
	"keyturn/keystore"
	"keyturn/textsafe"
)

// issuedJSON is what token commands print for an issued token.
type issuedJSON struct {
	Name        string   `json:"name"`
	Account     string   `json:"account"`
	Kind        string   `json:"kind"`
	Ref         string   `json:"ref"`
	Fingerprint string   `json:"fingerprint"`
	Stored      bool     `json:"stored"`
	Store       string   `json:"store,omitempty"`
	Expires     string   `json:"expires,omitempty"`
	Token       string   `json:"token,omitempty"`
	Notes       []string `json:"notes,omitempty"`
	// Deliveries are what became of the secret's consumers.
	Deliveries []account.Delivery `json:"deliveries,omitempty"`
}

func toIssuedJSON(iss *account.Issued, reveal bool) issuedJSON {
	out := issuedJSON{Name: iss.Name, Account: iss.Account, Kind: iss.Kind, Ref: iss.Ref, Fingerprint: iss.Fingerprint,
		Stored: iss.Stored, Store: iss.Store, Notes: iss.Notes, Deliveries: iss.Deliveries}
	if iss.Expires != nil {
		out.Expires = iss.Expires.UTC().Format("2006-01-02T15:04:05Z")
	}
	if reveal || !iss.Stored {
		out.Token = iss.Value
	}
	return out
}

// printIssued prints a stored token: JSON, or one line such as
// "saved prod/command/abc (…f3a9) to the keyring". With reveal, the token
// too. Notes go to stderr.
func printIssued(app *App, iss *account.Issued, asJSON, reveal bool) error {
	printNotes(app, iss)
	if asJSON {
		if err := writeJSON(app.io.Out, toIssuedJSON(iss, reveal)); err != nil {
			return err
		}
		return deliveryFailures(iss.Name, iss.Deliveries)
	}
	fp := ""
	if iss.Fingerprint != "" {
		fp = " (…" + textsafe.Line(iss.Fingerprint) + ")" // the server's characters
	}
	fmt.Fprintf(app.io.Out, "saved %s%s to %s", iss.Name, fp, storeName(iss.Store))
	if iss.Expires != nil {
		fmt.Fprintf(app.io.Out, "; expires %s", iss.Expires.Local().Format("2006-01-02 15:04"))
	}
	fmt.Fprintln(app.io.Out)
	if reveal {
		fmt.Fprintln(app.io.Out, shownValue(app, iss.Value))
	}
	printDeliveries(app, iss.Deliveries)
	return deliveryFailures(iss.Name, iss.Deliveries)
}

// reportNotStored handles a token the store refused (DESIGN.md rule 1): the
// token goes to stdout, since it is the only copy, the reason to stderr,
// and the exit code is 3.
func reportNotStored(app *App, nse *account.NotStoredError, asJSON bool) error {
	iss := nse.Issued
	printNotes(app, iss)
	if asJSON {
		if err := writeJSON(app.io.Out, toIssuedJSON(iss, true)); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(app.io.Out, shownValue(app, iss.Value))
	}
	how := fmt.Sprintf("store it later with 'keyturn secret set %s' (it reads the value from stdin)", iss.Name)
	if iss.Kind == account.KindCredential {
		how = "fix the store and sign in again"
	}
	return exitf(ExitNotStored, "%v\nThe token printed on stdout is the ONLY copy: copy it now, then %s.", nse, how)
}

// storeName is how a backend is named in sentences, as the TUI names it.
func storeName(backend string) string { return keystore.DisplayName(backend) }

// printNotes puts an issued token's notes and the ways out they call for
// on stderr.
func printNotes(app *App, iss *account.Issued) {
	for _, n := range iss.Notes {
		fmt.Fprintf(app.io.Err, "note: %s\n", textsafe.Line(n))
	}
	for _, r := range iss.Next {
		fmt.Fprintf(app.io.Err, "note: %s\n", textsafe.Line(remedyLine(r)))
	}
}
