package capillary

import (
	"errors"

	"keyturn/client"
)

// The auth engine's documented status codes (status-codes page), as they
// appear in client.APIError.Code.
const (
	CodeOTPValidateFailed       = "1502" // Unable to validate OTP.
	CodeOTPGenerateFailed       = "1503" // Unable to generate OTP.
	CodeTokenGenerateFailed     = "1504" // Unable to generate token / Unsupported brand.
	CodeInvalidSession          = "1505" // Invalid session (also: expired session).
	CodeInvalidOTP              = "1506" // Invalid OTP.
	CodeIdentifierMismatch      = "1507" // Mobile number does not match the one used for the token/session.
	CodeDeviceMismatch          = "1508" // Device ID does not match.
	CodeBrandMismatch           = "1509" // Brand name does not match.
	CodeUserNotFound            = "1515" // User does not exist.
	CodeOTPRetriesExceeded      = "1518" // Maximum OTP retry attempts reached; start again.
	CodeInvalidDetails          = "1519" // Invalid details passed.
	CodePasswordRequired        = "1520" // Password is enabled for the brand; it cannot be empty.
	CodePasswordMismatch        = "1521" // Password and confirm password do not match.
	CodePasswordChangeFailed    = "1523" // Unable to change password.
	CodePasswordNotEnabled      = "1524" // Password is not enabled for the brand.
	CodeRegenerateRefused       = "1525" // Cannot regenerate token, please authenticate again.
	CodePasswordValidateFailed  = "1526" // Unable to validate password.
	CodePasswordSameAsOld       = "1527" // Old and new password cannot be the same.
	CodeInvalidPassword         = "1528" // Invalid password.
	CodeTokenExpired            = "1529" // Token has expired.
	CodePasswordRetriesExceeded = "1530" // Maximum password retry attempts reached; reset the password.
	CodeExpireFailed            = "1531" // Unable to expire token.
	CodePasswordResetFailed     = "1532" // Unable to reset password.
	CodeOTPLimitReached         = "1534" // Maximum number of OTPs per customer reached.
	CodeOTPMaxCountZero         = "1535" // Maximum OTP count per customer cannot be 0.
	CodeOTPNotGenerated         = "1537" // OTP was not generated for these details; generate one first.
	CodeOTPNoChannel            = "1540" // Either mobile or email is required to send OTP.
	CodeSessionIdentifier       = "1541" // Identifier differs from the one that generated the session.
	CodePasswordPolicy          = "1542" // Password does not meet the requirements.
	CodeUsernameExists          = "1543" // Username already exists.
	CodeInvalidIdentifierType   = "1546" // Invalid identifierType passed.
	CodeKeyInvalid              = "1597" // Key expired or not valid.
	CodeExternalIDDisabled      = "3005" // External ID login must be enabled.
	CodeResponseTampered        = "5004" // Response tampered (payload-encryption hash window expired).
)

var descriptions = map[string]string{
	CodeOTPValidateFailed:       "Unable to validate OTP.",
	CodeOTPGenerateFailed:       "Unable to generate OTP.",
	CodeTokenGenerateFailed:     "Unable to generate token.",
	CodeInvalidSession:          "Invalid session.",
	CodeInvalidOTP:              "Invalid OTP.",
	CodeIdentifierMismatch:      "Mobile number does not match with the mobile number used to generate token/session.",
	CodeDeviceMismatch:          "Device ID does not match with the device ID used to generate token/session.",
	CodeBrandMismatch:           "Brand name does not match with the brand name used to generate token/session.",
	CodeUserNotFound:            "User does not exist.",
	CodeOTPRetriesExceeded:      "Reached the maximum allowed OTP retry attempts, Authenticate form the start.",
	CodeInvalidDetails:          "Invalid details passed.",
	CodePasswordRequired:        "Password is enabled for the brand. Password cannot be empty.",
	CodePasswordMismatch:        "Password and confirm password does not match.",
	CodePasswordChangeFailed:    "Unable to change password.",
	CodePasswordNotEnabled:      "Password is not enabled for the brand.",
	CodeRegenerateRefused:       "Cannot regenerate token, please authenticate again.",
	CodePasswordValidateFailed:  "Unable to validate password.",
	CodePasswordSameAsOld:       "Old password and new password cannot be same.",
	CodeInvalidPassword:         "Invalid password, please try with the correct password.",
	CodeTokenExpired:            "Token has expired.",
	CodePasswordRetriesExceeded: "Reached the maximum allowed password retry attempts, please reset your password.",
	CodeExpireFailed:            "Unable to expire token.",
	CodePasswordResetFailed:     "Unable to reset password.",
	CodeOTPLimitReached:         "Reached the maximum number of OTPs allowed per customer.",
	CodeOTPMaxCountZero:         "Maximum OTP count per customer cannot be 0 (it has to be >= 1).",
	CodeOTPNotGenerated:         "OTP is not generated for the provided details. Please generate OTP and try again.",
	CodeOTPNoChannel:            "Either mobile or email is required to send OTP.",
	CodeSessionIdentifier:       "Identifier used to generate session does not match with the identifier used to generate or validate OTP.",
	CodePasswordPolicy:          "Password does not meet the requirements.",
	CodeUsernameExists:          "Username already exists.",
	CodeInvalidIdentifierType:   "Invalid identifierType passed.",
	CodeKeyInvalid:              "Key expired or not valid.",
	CodeExternalIDDisabled:      "External ID login must be enabled.",
	CodeResponseTampered:        "Response tampered.",
}

// Describe is the documented description of a code, "" for an unknown one.
func Describe(code string) string { return descriptions[code] }

// Code is the engine's status code carried by err ("1506"), or "".
func Code(err error) string {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

func codeIn(err error, codes ...string) bool {
	c := Code(err)
	if c == "" {
		return false
	}
	for _, k := range codes {
		if c == k {
			return true
		}
	}
	return false
}

// IsSessionExpired reports an error after which the person must sign in
// again from token/generate: invalid or expired session, expired token,
// refused regeneration or a bad key.
func IsSessionExpired(err error) bool {
	return codeIn(err, CodeInvalidSession, CodeRegenerateRefused, CodeTokenExpired, CodeKeyInvalid)
}

// IsInvalidCode reports a wrong OTP or password: ask again.
func IsInvalidCode(err error) bool { return codeIn(err, CodeInvalidOTP, CodeInvalidPassword) }

// IsLocked reports too many wrong OTPs (start again) or passwords (reset
// the password, or wait for the brand's lock period).
func IsLocked(err error) bool {
	return codeIn(err, CodeOTPRetriesExceeded, CodePasswordRetriesExceeded)
}

// IsIdentityMismatch reports that the identity (identifier, device or
// brand) differs from the one the session, token or key was made for.
func IsIdentityMismatch(err error) bool {
	return codeIn(err, CodeIdentifierMismatch, CodeDeviceMismatch, CodeBrandMismatch, CodeSessionIdentifier)
}

// Hint says what a person should do about err, "" when there is nothing
// specific to say.
func Hint(err error) string {
	switch c := Code(err); {
	case IsSessionExpired(err):
		return "the session or key is no longer valid: sign in again"
	case c == CodeInvalidOTP:
		return "the code was wrong: check it and try again, or ask for a new code"
	case c == CodeInvalidPassword:
		return "the password was wrong: try again"
	case c == CodeOTPRetriesExceeded:
		return "too many wrong codes: start the sign-in again"
	case c == CodePasswordRetriesExceeded:
		return "too many wrong passwords: reset the password, or wait for the lock to lift"
	case c == CodeOTPNotGenerated:
		return "no code was sent for this session: ask for a code first"
	case c == CodeOTPLimitReached:
		return "too many codes were sent: wait before asking for another"
	case IsIdentityMismatch(err):
		return "the account's identifier, device id or brand differs from the one that signed in: sign in again with this account"
	case c == CodeTokenGenerateFailed:
		return "check the brand name and the server region"
	case c == CodeUserNotFound:
		return "no such user for this brand: check the identifier and its type"
	case c == CodePasswordMismatch:
		return "the two passwords differ: type them again"
	case c == CodePasswordPolicy:
		return "the password does not meet the brand's rules: choose another"
	case c == CodeResponseTampered:
		return "this org encrypts its OTP calls (payload encryption, which needs a hash keyturn cannot compute): payload encryption is not supported; sign in with a password if the brand allows it"
	case c == CodeExternalIDDisabled:
		return "this brand does not allow EXTERNALID sign-in: use another identifier type"
	}
	return ""
}
