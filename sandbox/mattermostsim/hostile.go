package mattermostsim

import "keyturn/sandbox/simnet"

// HostileFields is the text in this API's answers, for the sandbox's
// hostile mode: names, descriptions, triggers, user names, error messages
// and error ids, but not the ids that ask for a second factor (the
// protocol needs them verbatim to go on).
var HostileFields = simnet.TaintFields{
	Text: []string{"username", "email", "nickname", "first_name", "last_name", "position", "name", "display_name",
		"description", "company_name", "trigger", "trigger_words", "auto_complete_desc", "auto_complete_hint",
		"team_name", "message", "detailed_error", "request_id"},
	Errors: []string{"id"},
	Keep: func(v string) bool {
		switch v {
		case "mfa.validate_token.authenticate.app_error", "api.user.check_user_mfa.bad_code.app_error", "mfa.activate.bad_token.app_error":
			return true
		}
		return false
	},
}
