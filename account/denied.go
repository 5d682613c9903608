package account

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"keyturn/client"
	"keyturn/client/rocketchat"
	"keyturn/textsafe"
)

// DeniedSection is a part of an account's tokens the server would not list
// for this user (a 403), shown in its own section while the rest load.
type DeniedSection struct {
	Kind string `json:"kind"`
	Team string `json:"team,omitempty"` // Mattermost team name, for per-team kinds
	// Grant says what would let the user see it.
	Grant string `json:"grant"`
	Err   error  `json:"-"`
}

// PartialListError comes with the tokens that did load when some sections
// were not permitted for the user.
type PartialListError struct {
	Account string
	Denied  []DeniedSection
}

func (e *PartialListError) Error() string {
	parts := make([]string, 0, len(e.Denied))
	for _, d := range e.Denied {
		what := kindNoun(d.Kind) + "s"
		if d.Team != "" {
			what += " of team " + d.Team
		}
		parts = append(parts, what)
	}
	return fmt.Sprintf("%s: not permitted for this user: %s", e.Account, strings.Join(parts, "; "))
}

// DeniedIn is the denied section of kind (and team, "" for any), if any.
func (e *PartialListError) DeniedIn(kind, team string) (DeniedSection, bool) {
	for _, d := range e.Denied {
		if d.Kind == kind && (team == "" || d.Team == team) {
			return d, true
		}
	}
	return DeniedSection{}, false
}

// grants say, per kind, what lets a user list and rotate it.
var grants = map[string]string{
	KindUserToken: "the role that makes personal access tokens, which a system admin gives (System Console › Users › the user › Manage roles)",
	KindCommand:   "a team admin role in the team, or the permission to manage slash commands",
	KindWebhook:   "a team admin role in the team, or the permission to manage outgoing webhooks",
	KindPAT:       "a role with the permission create-personal-access-tokens (Administration › Permissions)",
}

// denied reports a server's "not permitted" answer: Mattermost's 403, and
// Rocket.Chat's 403 error-unauthorized or 400 not-authorized.
func denied(err error) bool {
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Status == http.StatusForbidden || rocketchat.IsPermissionDenied(err)
}

// deny notes a section the server refused, and reports whether err was
// such a refusal (the caller goes on with the other sections).
func (s *session) deny(err error, kind, team string) bool {
	if !denied(err) {
		return false
	}
	s.denied = append(s.denied, DeniedSection{Kind: kind, Team: textsafe.Line(team), Grant: grants[kind], Err: err})
	return true
}
