package capillary

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"keyturn/client"
)

// answer serves one canned reply to every request.
func answer(t *testing.T, status int, contentType, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	hc, err := client.New(client.Options{Service: "capillary", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return New(hc, docDemo)
}

const jerseyText = `Can not deserialize value of type com.capillary.solutions.auth.domain.IdentifierType from String "MOBIL": value not one of declared Enum instance names: [MOBILE, EMAIL, USERNAME, EXTERNALID]`

func TestErrorShapes(t *testing.T) {
	type want struct {
		api     *client.APIError // Service is always "capillary"
		bad     string           // a *client.BadResponseError whose reason contains this
		limited bool             // a *client.RateLimitedError
	}
	for _, tc := range []struct {
		name   string
		status int
		ct     string
		body   string
		want   want
	}{
		{"business error on 200", 200, "application/json", `{"status":{"success":false,"code":1506,"message":"Invalid OTP"}}`,
			want{api: &client.APIError{Status: 200, Code: "1506", Message: "Invalid OTP"}}},
		{"business error on 400", 400, "application/json", `{"status":{"success":false,"code":1528,"message":"Invalid password, please try with the correct password."},"auth":null,"user":null}`,
			want{api: &client.APIError{Status: 400, Code: "1528", Message: "Invalid password, please try with the correct password."}}},
		{"business error on 401", 401, "application/json;charset=UTF-8", `{"status":{"success":false,"code":1529,"message":"Token has expired."}}`,
			want{api: &client.APIError{Status: 401, Code: "1529", Message: "Token has expired."}}},
		{"code as a string", 200, "application/json", `{"status":{"success":false,"code":"1597","message":"Key expired or not valid"}}`,
			want{api: &client.APIError{Status: 200, Code: "1597", Message: "Key expired or not valid"}}},
		{"no message: the documented one", 200, "application/json", `{"status":{"success":false,"code":1505}}`,
			want{api: &client.APIError{Status: 200, Code: "1505", Message: "Invalid session."}}},
		{"null code", 200, "application/json", `{"status":{"success":false,"code":null,"message":"Something failed"}}`,
			want{api: &client.APIError{Status: 200, Message: "Something failed"}}},
		{"failure envelope with 200 code", 200, "application/json", `{"status":{"success":false,"code":200,"message":"odd"}}`,
			want{api: &client.APIError{Status: 200, Message: "odd"}}},
		{"success envelope on a 4xx", 403, "application/json", `{"status":{"success":true,"code":200,"message":"SUCCESS"}}`,
			want{api: &client.APIError{Status: 403}}},
		{"gateway JSON without envelope", 500, "application/json", `{"error":"internal server error","message":"injected fault"}`,
			want{api: &client.APIError{Status: 500, Message: "internal server error"}}},
		{"gateway JSON message only", 404, "application/json", `{"message":"no route"}`,
			want{api: &client.APIError{Status: 404, Message: "no route"}}},
		{"jersey plain-text 400", 400, "text/plain", jerseyText, want{bad: "plain text, not JSON"}},
		{"cloudflare HTML", 503, "text/html", `<html><head><title>Just a moment...</title></head><body></body></html>`, want{bad: "HTML page"}},
		{"truncated JSON", 200, "application/json", `{"status":{"success":true,"co`, want{bad: "truncated"}},
		{"wrong types", 200, "application/json", `{"status":{"success":"yes"}}`, want{bad: "field"}},
		{"bad code type", 200, "application/json", `{"status":{"success":false,"code":true}}`, want{bad: `"status.code" holds a bool where keyturn expects int`}},
		{"bad code string", 200, "application/json", `{"status":{"success":false,"code":"\x"}}`, want{bad: "malformed"}},
		{"no status object", 200, "application/json", `{"auth":{"token":"x"}}`, want{bad: "no status object"}},
		{"empty body", 200, "application/json", ``, want{bad: "empty"}},
		{"rate limited", 429, "text/plain", "Too Many Requests", want{limited: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := answer(t, tc.status, tc.ct, tc.body)
			err := c.GenerateOTP(ctx, "P-1")
			var ae *client.APIError
			var be *client.BadResponseError
			var rl *client.RateLimitedError
			switch {
			case tc.want.api != nil:
				if !errors.As(err, &ae) {
					t.Fatalf("want *client.APIError, got %T: %v", err, err)
				}
				w := *tc.want.api
				w.Service = "capillary"
				if *ae != w {
					t.Errorf("got %+v, want %+v", *ae, w)
				}
			case tc.want.bad != "":
				if !errors.As(err, &be) {
					t.Fatalf("want *client.BadResponseError, got %T: %v", err, err)
				}
				if be.Status != tc.status || !strings.Contains(be.Reason, tc.want.bad) {
					t.Errorf("status %d reason %q", be.Status, be.Reason)
				}
			case tc.want.limited:
				if !errors.As(err, &rl) {
					t.Fatalf("want *client.RateLimitedError, got %T: %v", err, err)
				}
			}
		})
	}
}

// Answers that succeed but lack what the call needs.
func TestIncompleteAnswers(t *testing.T) {
	ok := `"status":{"success":true,"code":200,"message":"SUCCESS"}`
	for _, tc := range []struct {
		name, body, want string
		call             func(*Client) error
	}{
		{"session without id", `{` + ok + `,"auth":{"token":"t","key":null},"user":{"sessionId":null,"role":"VIEW"}}`, "no session id",
			func(c *Client) error { _, err := c.GenerateToken(ctx, "", ""); return err }},
		{"session without user", `{` + ok + `}`, "no session id",
			func(c *Client) error { _, err := c.GenerateMFAToken(ctx, "t", "", ""); return err }},
		{"validate without auth", `{` + ok + `,"user":{"role":"USER"}}`, "no token",
			func(c *Client) error { _, err := c.ValidateOTP(ctx, "P-1", "1"); return err }},
		{"regenerate with empty token", `{` + ok + `,"auth":{"token":"","key":null}}`, "no token",
			func(c *Client) error { _, err := c.RegenerateToken(ctx, "k"); return err }},
	} {
		err := tc.call(answer(t, 200, "application/json", tc.body))
		var be *client.BadResponseError
		if !errors.As(err, &be) || !strings.Contains(be.Reason, tc.want) || be.ContentType != "application/json" {
			t.Errorf("%s: got %T %v", tc.name, err, err)
		}
	}
}

// A token whose claims cannot be read is still handed over: an issued
// secret is never dropped.
func TestUnreadableTokenIsKept(t *testing.T) {
	c := answer(t, 200, "application/json", `{"status":{"success":true,"code":200,"message":"SUCCESS"},"auth":{"token":"opaque-token","key":"opaque-key"},"user":null}`)
	tk, err := c.ValidatePassword(ctx, "P-1", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Token != "opaque-token" || tk.Key != "opaque-key" || !tk.Expires.IsZero() || tk.Role != "" {
		t.Errorf("role %q expires %v", tk.Role, tk.Expires)
	}
	// Without user.role, the role comes from the JWT.
	c = answer(t, 200, "application/json", `{"status":{"success":true,"code":200,"message":"SUCCESS"},"auth":{"token":"`+pendingJWT+`","key":null}}`)
	if tk, err = c.RegenerateToken(ctx, "k"); err != nil || tk.Role != "MFA_PENDING" {
		t.Errorf("role %q err %v", tk.Role, err)
	}
	// A key alone is not dropped either.
	c = answer(t, 200, "application/json", `{"status":{"success":true,"code":200,"message":"SUCCESS"},"auth":{"token":null,"key":"k2"}}`)
	if tk, err = c.ValidateOTP(ctx, "P-1", "1"); err != nil || tk.Key != "k2" {
		t.Errorf("key kept %v, err %v", tk != nil && tk.Key == "k2", err)
	}
}

func TestTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	hc, err := client.New(client.Options{Service: "capillary", BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(hc, docDemo).RegenerateToken(ctx, "k")
	var te *client.TransportError
	if !errors.As(err, &te) || te.MayHaveReached {
		t.Errorf("got %T %v", err, err)
	}
}

// Every documented code reaches the caller as an APIError with that code,
// and the helpers classify it.
func TestDocumentedCodes(t *testing.T) {
	codes := []string{"1502", "1503", "1504", "1505", "1506", "1507", "1508", "1509", "1515", "1518", "1519", "1520", "1521",
		"1523", "1524", "1525", "1526", "1527", "1528", "1529", "1530", "1531", "1532", "1534", "1535", "1537", "1540",
		"1541", "1542", "1543", "1546", "1597", "3005", "5004"}
	if len(codes) != len(descriptions) {
		t.Errorf("%d documented codes, %d descriptions", len(codes), len(descriptions))
	}
	expired := map[string]bool{"1505": true, "1525": true, "1529": true, "1597": true}
	invalid := map[string]bool{"1506": true, "1528": true}
	locked := map[string]bool{"1518": true, "1530": true}
	mismatch := map[string]bool{"1507": true, "1508": true, "1509": true, "1541": true}
	for _, code := range codes {
		c := answer(t, 200, "application/json", fmt.Sprintf(`{"status":{"success":false,"code":%s,"message":""}}`, code))
		_, err := c.ValidateOTP(ctx, "P-1", "123456")
		if Code(err) != code {
			t.Errorf("%s: Code(err) = %q (%v)", code, Code(err), err)
			continue
		}
		if err.Error() != "capillary: HTTP 200 "+code+": "+Describe(code) || Describe(code) == "" {
			t.Errorf("%s: message %q", code, err.Error())
		}
		if IsSessionExpired(err) != expired[code] || IsInvalidCode(err) != invalid[code] || IsLocked(err) != locked[code] || IsIdentityMismatch(err) != mismatch[code] {
			t.Errorf("%s: expired %v invalid %v locked %v mismatch %v", code, IsSessionExpired(err), IsInvalidCode(err), IsLocked(err), IsIdentityMismatch(err))
		}
		if client.MayHaveApplied(err) {
			t.Errorf("%s: a business error is not ambiguous", code)
		}
	}
	if Code(errors.New("plain")) != "" || IsSessionExpired(nil) || IsInvalidCode(errors.New("1506")) {
		t.Error("non-API errors carry no code")
	}
	// Wrapped errors are seen through.
	wrapped := fmt.Errorf("login: %w", &client.APIError{Service: "capillary", Code: CodeOTPRetriesExceeded})
	if !IsLocked(wrapped) {
		t.Error("IsLocked does not unwrap")
	}
}

func TestHints(t *testing.T) {
	for code, want := range map[string]string{
		"1505": "sign in again", "1597": "sign in again", "1506": "code was wrong", "1528": "password was wrong",
		"1518": "start the sign-in again", "1530": "reset the password", "1537": "ask for a code first",
		"1534": "wait", "1508": "device id", "1504": "brand name", "1515": "no such user", "1521": "differ",
		"1542": "brand's rules", "3005": "EXTERNALID",
	} {
		if h := Hint(&client.APIError{Code: code}); !strings.Contains(h, want) {
			t.Errorf("%s: hint %q lacks %q", code, h, want)
		}
	}
	if Hint(&client.APIError{Code: "1502"}) != "" || Hint(errors.New("x")) != "" {
		t.Error("hint for an error with nothing specific to say")
	}
}
