package capillary

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"

	"keyturn/client"
)

// wireStatus is the envelope every answer carries.
type wireStatus struct {
	Success bool     `json:"success"`
	Code    codeText `json:"code"`
	Message string   `json:"message"`
}

// codeText reads status.code whether it comes as a number or a string.
type codeText string

func (c *codeText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*c = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = codeText(strings.TrimSpace(s))
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[int]()}
		}
		*c = codeText(n.String())
	}
	return nil
}

func jsonKind(b []byte) string {
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	}
	return "value"
}

type wireAuth struct {
	Token string  `json:"token"`
	Key   *string `json:"key"`
}

type wireUser struct {
	AppRegistered             bool    `json:"appRegistered"`
	SessionID                 *string `json:"sessionId"`
	Role                      string  `json:"role"`
	UserRegisteredForPassword bool    `json:"userRegisteredForPassword"`
}

type wireResponse struct {
	Status      *wireStatus     `json:"status"`
	Auth        *wireAuth       `json:"auth"`
	User        *wireUser       `json:"user"`
	Identifiers json.RawMessage `json:"identifiers"`
	// A gateway's or a generic server's JSON error, without the envelope.
	Error   any    `json:"error"`
	Message string `json:"message"`

	resp *client.Response // the answer it came in, for error reports
}

// call sends one request and checks the status envelope: anything but
// status.success:true on a 2xx is an error.
func (c *Client) call(ctx context.Context, method, path string, body map[string]any, secrets []string, w *wireResponse) error {
	if err := c.id.Check(); err != nil {
		return err
	}
	svc := c.c.Service()
	resp, err := c.c.Do(ctx, &client.Request{Method: method, Path: path, Body: body, Secrets: nonEmpty(secrets)})
	if err != nil {
		return err
	}
	if err := client.Decode(svc, resp, w); err != nil {
		return err
	}
	w.resp = resp
	if w.Status == nil {
		if resp.Status >= 400 {
			msg := w.Message
			if s, ok := w.Error.(string); ok && s != "" {
				msg = s
			}
			return &client.APIError{Service: svc, Status: resp.Status, Message: msg}
		}
		return badResponse(svc, resp, "the JSON answer has no status object")
	}
	if !w.Status.Success || resp.Status >= 300 {
		code, msg := string(w.Status.Code), w.Status.Message
		if code == "200" {
			code = ""
		}
		if w.Status.Success {
			// A failure status with a success envelope ("SUCCESS"): the
			// HTTP status is all there is to go by.
			code, msg = "", ""
		}
		if msg == "" {
			msg = Describe(code)
		}
		return &client.APIError{Service: svc, Status: resp.Status, Code: code, Message: msg}
	}
	return nil
}

func (c *Client) session(w *wireResponse) (*Session, error) {
	if w.User == nil || w.User.SessionID == nil || *w.User.SessionID == "" {
		return nil, badResponse(c.c.Service(), w.resp, "the answer carries no session id")
	}
	s := &Session{SessionID: *w.User.SessionID, Role: w.User.Role, UserRegisteredForPassword: w.User.UserRegisteredForPassword}
	if w.Auth != nil {
		s.Token = w.Auth.Token
		if exp, err := TokenExpiry(s.Token); err == nil {
			s.Expires = exp
		}
	}
	return s, nil
}

// tokens reads the issued token and key. A token whose claims cannot be
// read is still returned (never lose an issued secret), with a zero Expires.
func (c *Client) tokens(w *wireResponse) (*Tokens, error) {
	t := &Tokens{}
	if w.Auth != nil {
		t.Token = w.Auth.Token
		if w.Auth.Key != nil {
			t.Key = *w.Auth.Key
		}
	}
	if t.Token == "" && t.Key == "" {
		return nil, badResponse(c.c.Service(), w.resp, "the answer carries no token")
	}
	if exp, err := TokenExpiry(t.Token); err == nil {
		t.Expires = exp
	}
	if w.User != nil && w.User.Role != "" {
		t.Role = w.User.Role
	} else if rol, err := TokenRole(t.Token); err == nil {
		t.Role = rol
	}
	return t, nil
}

func badResponse(svc string, r *client.Response, reason string) error {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return &client.BadResponseError{Service: svc, Status: r.Status, StatusText: r.StatusText, ContentType: strings.TrimSpace(ct), Reason: reason}
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
