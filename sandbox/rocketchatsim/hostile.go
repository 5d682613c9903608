package rocketchatsim

import "keyturn/sandbox/simnet"

// HostilePATName is a personal access token alice holds in hostile mode:
// its name, which is also how the API names it, carries HostileText.
const HostilePATName = simnet.HostileText + "hostile-pat"

// HostileFields is the text in this API's answers, for the sandbox's
// hostile mode: user names, the address a code went to, token parts,
// error messages and error types, but not the error ids that ask for a
// second factor (the protocol needs them verbatim to go on). A token's
// name is its id: the hostile one is seeded instead (HostilePATName).
var HostileFields = simnet.TaintFields{
	Text: []string{"username", "emailOrUsername", "lastTokenPart", "message", "reason", "error", "errorType"},
	Keep: func(v string) bool {
		switch v {
		case "totp-required", "totp-invalid", "totp-max-attempts":
			return true
		}
		return false
	},
}
