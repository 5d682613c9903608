package mattermostsim

import "encoding/json"

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
	}
	if err := json.Unmarshal(c.body(), &in); err != nil {
		c.invalidBodyParam("user_access_token")
		return
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
	pat := &accessToken{ID: newID(), Token: newID(), UserID: id, Description: in.Description, IsActive: true}
	s.pats[pat.ID] = pat
	s.userPATs[id] = append(s.userPATs[id], pat)
	s.patOrder = append(s.patOrder, pat)
	s.sessions[pat.Token] = &session{ID: newID(), Token: pat.Token, UserID: id, PATID: pat.ID}
	s.env.Ledger.Record(Service, KindUserToken, pat.ID, pat.Token)
	c.ok(*pat)
}

// live is the tokens of list that still exist (revoked ones are dropped
// from the map only), without their secret.
func (s *Server) live(list []*accessToken) []accessToken {
	out := []accessToken{}
	for _, p := range list {
		if s.pats[p.ID] == p {
			cp := *p
			cp.Token = ""
			out = append(out, cp)
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
	out := *pat
	out.Token = ""
	c.ok(out)
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
