package rocketchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"keyturn/client"
)

// Error ids Rocket.Chat answers with, as they appear in APIError.Code.
const (
	CodeTOTPRequired       = "totp-required"
	CodeTOTPInvalid        = "totp-invalid"
	CodeTOTPMaxAttempts    = "totp-max-attempts"
	CodeUnauthorized       = "error-unauthorized" // 403: lacks a permission a route declares (permissionsRequired)
	CodeNotAuthorized      = "not-authorized"     // 400: lacks a permission the method checks itself (the token routes, on current servers too)
	CodeTokenExists        = "error-token-already-exists"
	CodeTokenMissing       = "error-token-does-not-exists"
	CodeTOTPAlreadyEnabled = "error-2fa-already-enabled"
	CodeInvalidTOTP        = "invalid-totp"
	CodeTooManyRequests    = "error-too-many-requests"
	CodeLoginBlockedUser   = "error-login-blocked-for-user"
	CodeLoginBlockedIP     = "error-login-blocked-for-ip"
	CodeParameterRequired  = "error-parameter-required"
)

// IsPermissionDenied reports whether err says the user lacks a permission:
// 403 error-unauthorized where the route declares the permission, 400
// not-authorized where the method behind it checks (generate, regenerate
// and remove of personal access tokens answer that on current servers as
// well as older ones).
func IsPermissionDenied(err error) bool {
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Code == CodeUnauthorized || ae.Code == CodeNotAuthorized
}

// IsTokenMissing reports whether err says the named personal access token
// does not exist.
func IsTokenMissing(err error) bool { return hasCode(err, CodeTokenMissing) }

// IsTokenExists reports whether err says a personal access token with that
// name already exists.
func IsTokenExists(err error) bool { return hasCode(err, CodeTokenExists) }

func hasCode(err error, code string) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Code == code
}

// errorBody covers every failure shape: API.v1.failure (error, errorType,
// details), the login's Meteor error (status, error id, message, details),
// and the three "You must be logged in" shapes.
type errorBody struct {
	Success   *bool           `json:"success"`
	Status    string          `json:"status"`
	Error     any             `json:"error"`
	ErrorType string          `json:"errorType"`
	Message   string          `json:"message"`
	Reason    string          `json:"reason"`
	Details   json.RawMessage `json:"details"`
}

type twoFactorDetails struct {
	Method           string          `json:"method"`
	CodeGenerated    bool            `json:"codeGenerated"`
	AvailableMethods []any           `json:"availableMethods"`
	EmailOrUsername  string          `json:"emailOrUsername"`
	CodeExpires      json.RawMessage `json:"codeExpires"`
}

// The patterns compile on first use, not at start-up: keyturn version
// should not pay for error parsing.
var (
	// "TOTP Required [totp-required]", "[invalid-totp]"
	bracketRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?s)(.*?)\s*\[([^\[\]\s]+)\]\s*$`) })
	// a bare error id such as "totp-required" or "Unauthorized"
	identRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`) })
	// "You must wait 37 seconds before trying this endpoint again."
	waitRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`wait (\d+) seconds?`) })
)

func (r *Client) errorFrom(resp *client.Response) error {
	var eb errorBody
	if err := client.Decode(r.service, resp, &eb); err != nil {
		return err
	}
	errStr, _ := eb.Error.(string)
	code := strings.TrimSpace(eb.ErrorType)
	msg := ""
	switch m := bracketRE().FindStringSubmatch(errStr); {
	case m != nil:
		if code == "" {
			code = m[2]
		}
		msg = strings.TrimSpace(m[1])
	case errStr != "" && identRE().MatchString(errStr):
		// The login's Meteor error: "error" is the id, "message" the reason.
		if code == "" {
			code = errStr
		}
		msg = eb.Message
		if msg == "" {
			msg = errStr
		}
	default:
		msg = errStr
	}
	if msg == "" {
		msg = eb.Message
	}
	if msg == "" {
		msg = eb.Reason
	}

	switch code {
	case CodeTOTPRequired, CodeTOTPInvalid, CodeTOTPMaxAttempts:
		return r.secondFactorError(code, msg, eb.Details)
	}
	ae := &client.APIError{Service: r.service, Status: resp.Status, Code: code, Message: msg}
	if method := detailsMethod(eb.Details); method != "" {
		ae.Detail = "in " + method
	}
	if ae.Code == "" && ae.Message == "" {
		ae.Message = resp.StatusText
	}
	if resp.Status == http.StatusNotFound && ae.Code == "" {
		ae.Detail = "no such API route: check the server URL and version"
	}
	return ae
}

func detailsMethod(raw json.RawMessage) string {
	var d struct {
		Method string `json:"method"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &d) != nil {
		return ""
	}
	return d.Method
}

func (r *Client) secondFactorError(code, msg string, raw json.RawMessage) error {
	sf := &client.SecondFactorRequired{
		Service: r.service,
		Invalid: code == CodeTOTPInvalid || code == CodeTOTPMaxAttempts,
		Locked:  code == CodeTOTPMaxAttempts,
		Message: msg,
	}
	var d twoFactorDetails
	if len(raw) > 0 && json.Unmarshal(raw, &d) == nil {
		sf.Method = d.Method
		for _, m := range d.AvailableMethods {
			if s, ok := m.(string); ok && s != "" {
				sf.Methods = append(sf.Methods, s)
			}
		}
		sf.CodeSent = d.CodeGenerated
		sf.SentTo = d.EmailOrUsername
		sf.Expires = parseExpires(d.CodeExpires)
	}
	return sf
}

// parseExpires reads codeExpires: an ISO date on current servers, an array
// of dates on old ones (the latest wins); EJSON {"$date":ms} and epoch
// milliseconds are accepted too.
func parseExpires(raw json.RawMessage) time.Time {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return time.Time{}
	}
	var list []json.RawMessage
	if raw[0] == '[' {
		if json.Unmarshal(raw, &list) != nil {
			return time.Time{}
		}
	} else {
		list = []json.RawMessage{raw}
	}
	var latest time.Time
	for _, item := range list {
		if t := parseDate(item); t.After(latest) {
			latest = t
		}
	}
	return latest
}

func parseDate(raw json.RawMessage) time.Time {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t
			}
		}
		return time.Time{}
	}
	var ms float64
	if json.Unmarshal(raw, &ms) == nil && ms > 0 {
		return time.UnixMilli(int64(ms)).UTC()
	}
	var ej struct {
		Date json.RawMessage `json:"$date"`
	}
	if json.Unmarshal(raw, &ej) == nil && len(ej.Date) > 0 && ej.Date[0] != '{' {
		return parseDate(ej.Date)
	}
	return time.Time{}
}

// rateLimitSeconds fills in the wait from the 429 message ("You must wait
// 37 seconds …") when X-RateLimit-Reset was missing.
func (r *Client) rateLimitSeconds(err error) error {
	var rl *client.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter > 0 {
		return err
	}
	if m := waitRE().FindStringSubmatch(rl.Message); m != nil {
		if n, e := strconv.Atoi(m[1]); e == nil && n >= 0 {
			// A day is longer than any real window; it also keeps a
			// huge number from overflowing the duration.
			rl.RetryAfter = time.Duration(min(n, 86400)) * time.Second
		}
	}
	return err
}
