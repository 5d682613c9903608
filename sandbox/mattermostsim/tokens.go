package mattermostsim

import (
	"encoding/json"
	"fmt"
	"time"
)

// createToken is POST /users/{id}/tokens: 200 with the token, the only
// time it is shown. A session on the token starts at once.
func (c *ctx) createToken() {
	s := c.s
	id := c.userParam()
	if id == "" {
		return
	}
	var in struct {
		Description string `json:"description"`
		ExpiresAt   int64  `json:"expires_at"`
	}
	if err := json.Unmarshal(c.body(), &in); err != nil {
		c.invalidBodyParam("user_access_token")
		return
	}
	if s.settings.OlderServer {
		in.ExpiresAt = 0 // 11.2's token has no such field
	}
	if in.Description == "" {
		c.invalidBodyParam("description")
		return
	}
	if !c.can(permCreateUserAccessToken) || !c.canUser(id) {
		c.permissionDenied()
		return
	}
	target := s.users[id]
	if target == nil {
		c.userNotFound()
		return
	}
	if target.hasRole("system_admin") && !c.can(permManageSystem) {
		c.permissionDenied()
		return
	}
	if !s.settings.EnableUserAccessTokens {
		c.fail(501, "app.user_access_token.disabled",
			"Personal access tokens are disabled on this server. Please contact your system administrator for details.")
		return
	}
	if !c.lifetimeOK(in.ExpiresAt) {
		return
	}
	pat := &accessToken{ID: newID(), Token: newID(), UserID: id, Description: in.Description, IsActive: true, ExpiresAt: in.ExpiresAt}
	s.pats[pat.ID] = pat
	s.userPATs[id] = append(s.userPATs[id], pat)
	s.patOrder = append(s.patOrder, pat)
	s.sessions[pat.Token] = &session{ID: newID(), Token: pat.Token, UserID: id, PATID: pat.ID}
	s.env.Ledger.Record(Service, KindUserToken, pat.ID, pat.Token)
	c.ok(s.view(pat, true))
}

// lifetimeOK applies the expiry rules of create and rotate alike (11.10):
// with a maximum lifetime an expiry is required and must be within it; any
// expiry given must be in the future. It writes the error when not.
func (c *ctx) lifetimeOK(expiresAt int64) bool {
	s := c.s
	maxDays := s.settings.MaximumPersonalAccessTokenLifetimeDays
	switch {
	case s.settings.OlderServer:
		return true
	case expiresAt == 0 && maxDays > 0:
		c.fail(400, "app.user_access_token.expires_at_required.app_error",
			"Personal access tokens must include an expiry date because the server enforces a maximum token lifetime.")
	case expiresAt != 0 && expiresAt <= millis(s.now()):
		c.fail(400, "app.user_access_token.expires_at_in_past.app_error", "The provided expires_at is in the past.")
	case maxDays > 0 && expiresAt > millis(s.now().Add(time.Duration(maxDays)*24*time.Hour)):
		c.fail(400, "app.user_access_token.expires_at_too_far.app_error",
			fmt.Sprintf("The provided expires_at exceeds the configured maximum personal access token lifetime (%d days).", maxDays))
	default:
		return true
	}
	return false
}

// expired reports a token past its expiry (it stays listed until the
// cleanup job deletes it).
func (s *Server) expired(p *accessToken) bool {
	return p.ExpiresAt > 0 && millis(s.now()) >= p.ExpiresAt
}

// cleanupJob is the server's job that deletes expired tokens, run when
// TokenCleanupInterval has passed on the server's clock; s.mu is held.
func (s *Server) cleanupJob() {
	every := s.settings.TokenCleanupInterval
	if every <= 0 || s.now().Sub(s.lastCleanup) < every {
		return
	}
	s.lastCleanup = s.now()
	s.deleteExpired()
}

// RunTokenCleanup runs the expired-token job now and returns how many
// tokens it deleted.
func (s *Server) RunTokenCleanup() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastCleanup = s.now()
	return s.deleteExpired()
}

func (s *Server) deleteExpired() int {
	n := 0
	for id, p := range s.pats {
		if s.expired(p) {
			delete(s.pats, id)
			delete(s.sessions, p.Token)
			n++
		}
	}
	return n
}

// tokenView is a token as 11.2 shows it: no expires_at.
type tokenView struct {
	ID          string `json:"id"`
	Token       string `json:"token,omitempty"`
	UserID      string `json:"user_id"`
	Description string `json:"description"`
	IsActive    bool   `json:"is_active"`
}

// view is a token as the API shows it, with its secret only when
// withSecret (the answers to create and rotate).
func (s *Server) view(p *accessToken, withSecret bool) any {
	cp := *p
	if !withSecret {
		cp.Token = ""
	}
	if s.settings.OlderServer {
		return tokenView{ID: cp.ID, Token: cp.Token, UserID: cp.UserID, Description: cp.Description, IsActive: cp.IsActive}
	}
	return cp
}

// rotateToken is POST /users/tokens/rotate (11.10): a new secret for the
// same token; the old secret and its sessions end at once. An absent
// expires_at is 0: the token no longer expires (without a policy).
func (c *ctx) rotateToken() {
	s := c.s
	var in struct {
		TokenID   string `json:"token_id"`
		ExpiresAt int64  `json:"expires_at"`
	}
	if err := json.Unmarshal(c.body(), &in); err != nil {
		c.invalidBodyParam("rotate_user_access_token")
		return
	}
	if in.TokenID == "" {
		c.invalidBodyParam("token_id")
		return
	}
	if !c.can(permCreateUserAccessToken) {
		c.permissionDenied()
		return
	}
	pat := s.pats[in.TokenID]
	if pat == nil {
		c.tokenNotFound()
		return
	}
	if !c.canUser(pat.UserID) {
		c.permissionDenied()
		return
	}
	if !pat.IsActive {
		c.fail(400, "api.user.rotate_user_access_token.disabled_token.app_error", "Cannot regenerate a disabled access token.")
		return
	}
	if !c.lifetimeOK(in.ExpiresAt) {
		return
	}
	delete(s.sessions, pat.Token)
	pat.Token, pat.ExpiresAt = newID(), in.ExpiresAt
	s.sessions[pat.Token] = &session{ID: newID(), Token: pat.Token, UserID: pat.UserID, PATID: pat.ID}
	s.env.Ledger.Record(Service, KindUserToken, pat.ID, pat.Token)
	c.ok(s.view(pat, true))
}

// clientConfig is GET /config/client?format=old: the PAT keys, every value
// a string as on the real server; 11.2 has no lifetime key.
func (c *ctx) clientConfig() {
	if c.r.URL.Query().Get("format") != "old" {
		c.fail(501, "api.config.client.old_format.app_error", "New format for the client configuration is not supported yet. Please specify format=old in the query string.")
		return
	}
	st := c.s.settings
	version := "11.10.0"
	if st.OlderServer {
		version = "11.2.0"
	}
	out := map[string]string{"Version": version, "BuildNumber": "", "EnableUserAccessTokens": fmt.Sprint(st.EnableUserAccessTokens)}
	if !st.OlderServer {
		out["MaximumPersonalAccessTokenLifetimeDays"] = fmt.Sprint(st.MaximumPersonalAccessTokenLifetimeDays)
	}
	c.ok(out)
}

// live is the tokens of list that still exist (revoked ones are dropped
// from the map only), without their secret.
func (s *Server) live(list []*accessToken) []any {
	out := []any{}
	for _, p := range list {
		if s.pats[p.ID] == p {
			out = append(out, s.view(p, false))
		}
	}
	return out
}

// listUserTokens is GET /users/{id}/tokens?page=&per_page=.
func (c *ctx) listUserTokens() {
	id := c.userParam()
	if id == "" {
		return
	}
	if !c.can(permReadUserAccessToken) || !c.canUser(id) {
		c.permissionDenied()
		return
	}
	page, perPage := c.paging()
	c.ok(pageOf(c.s.live(c.s.userPATs[id]), page, perPage))
}

// listAllTokens is GET /users/tokens (manage_system).
func (c *ctx) listAllTokens() {
	if !c.can(permManageSystem) {
		c.permissionDenied()
		return
	}
	page, perPage := c.paging()
	c.ok(pageOf(c.s.live(c.s.patOrder), page, perPage))
}

// getToken is GET /users/tokens/{token_id}, without the token.
func (c *ctx) getToken() {
	id := c.idParam("token_id")
	if id == "" {
		return
	}
	if !c.can(permReadUserAccessToken) {
		c.permissionDenied()
		return
	}
	pat := c.s.pats[id]
	if pat == nil {
		c.tokenNotFound()
		return
	}
	if !c.canUser(pat.UserID) {
		c.permissionDenied()
		return
	}
	c.ok(c.s.view(pat, false))
}

// tokenAction is revoke, disable and enable: body {"token_id"}; a missing
// or unknown id is 404 (the real handler does not stop at the missing id).
func (c *ctx) tokenAction(perm string, apply func(*accessToken)) {
	props := stringMap(c.body())
	if !c.can(perm) {
		c.permissionDenied()
		return
	}
	pat := c.s.pats[props["token_id"]]
	if pat == nil {
		c.tokenNotFound()
		return
	}
	if !c.canUser(pat.UserID) {
		c.permissionDenied()
		return
	}
	apply(pat)
	c.statusOK()
}

func (c *ctx) revokeToken() {
	c.tokenAction(permRevokeUserAccessToken, func(p *accessToken) {
		delete(c.s.pats, p.ID)
		delete(c.s.sessions, p.Token)
	})
}

func (c *ctx) disableToken() {
	c.tokenAction(permRevokeUserAccessToken, func(p *accessToken) { p.IsActive = false })
}

func (c *ctx) enableToken() {
	c.tokenAction(permCreateUserAccessToken, func(p *accessToken) { p.IsActive = true })
}
