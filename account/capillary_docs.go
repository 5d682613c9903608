package account

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"keyturn/client/capillary"
	"keyturn/config"
)

// Capillary MFA modes (config.Account.MFA): whether a sign-in runs the MFA
// step after the first factor.
const (
	MFAAuto = "auto" // when the first factor's token says MFA_PENDING
	MFAOn   = "on"   // always: the brand requires MFA but does not mark the role
	MFAOff  = "off"  // never
)

// MFAModes lists them for the faces.
var MFAModes = []string{MFAAuto, MFAOn, MFAOff}

// IdentifierUsername is the identifier type that signs in with the user's
// mobile or email alongside.
const IdentifierUsername = capillary.IdentifierUsername

// CapillaryIdentifierTypes are the identifier types an account can sign in
// with (the Auth Engine's first-factor calls; not EXTERNALID).
var CapillaryIdentifierTypes = []string{capillary.IdentifierMobile, capillary.IdentifierEmail, capillary.IdentifierUsername}

// capillaryIdentity is what every Capillary call sends for the account.
func capillaryIdentity(a config.Account) capillary.Identity {
	return capillary.Identity{IdentifierType: a.IdentifierType, IdentifierValue: a.Identifier, Brand: a.Brand, DeviceID: a.DeviceID,
		Mobile: a.Mobile, Email: a.Email}
}

// checkCapillaryExtras checks the MFA mode and a USERNAME identifier's
// mobile or email, which token/generate needs with it.
func checkCapillaryExtras(a *config.Account) error {
	a.MFA = strings.ToLower(strings.TrimSpace(a.MFA))
	switch a.MFA {
	case "":
		a.MFA = MFAAuto
	case MFAAuto, MFAOn, MFAOff:
	default:
		return fmt.Errorf("--mfa %q: use auto (when the first factor's token says MFA_PENDING), on or off", a.MFA)
	}
	a.Mobile, a.Email = strings.TrimSpace(a.Mobile), strings.TrimSpace(a.Email)
	if a.IdentifierType == capillary.IdentifierUsername && a.Mobile == "" && a.Email == "" {
		return withRemedy(errors.New("a USERNAME identifier signs in with the user's mobile number or email address as well (the Auth Engine's token/generate needs one)"),
			Remedy{Action: UseFlag, Flag: "--mobile or --email"})
	}
	return nil
}

// mfaMode is the account's MFA step: an account from before the setting
// has none, and goes by the first factor's token (auto).
func mfaMode(a config.Account) string {
	if a.MFA == "" {
		return MFAAuto
	}
	return a.MFA
}

// needsMFA says whether a Capillary sign-in goes on to the MFA step after
// a first factor whose token has role.
func needsMFA(a config.Account, role string) bool {
	switch mfaMode(a) {
	case MFAOn:
		return true
	case MFAOff:
		return false
	}
	return role == "MFA_PENDING"
}

// LocalOnlyError says a Capillary session without MFA was forgotten here
// but not ended on the server: the Auth Engine's mfa/token/expire takes
// only the MFA step's tokens, and nothing else ends a session.
type LocalOnlyError struct {
	Account string
	Expires *time.Time
}

func (e *LocalOnlyError) Error() string {
	return fmt.Sprintf("%s: the session was forgotten here, but Capillary cannot end a session signed in without MFA: it stays valid on the server until it expires%s", e.Account, untilText(e.Expires))
}

func untilText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return " (" + t.Local().Format("2006-01-02 15:04") + ")"
}

// passwordStep says whether a Capillary step's answer is a password,
// which is sent exactly as typed, spaces and all.
func passwordStep(step, method string) bool {
	switch step {
	case "password":
		return true
	case "mfa-password":
		return method != "otp"
	}
	return false
}
