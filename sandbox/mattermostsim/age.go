package mattermostsim

import "time"

// Backdate makes the slash command or outgoing webhook with this id look
// made age ago (its create_at and update_at move back), so tests and the
// demo can show old tokens. It reports whether there was one.
func (s *Server) Backdate(id string, age time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := age.Milliseconds()
	if c := s.commands[id]; c != nil {
		c.CreateAt -= ms
		c.UpdateAt -= ms
		return true
	}
	if h := s.hooks[id]; h != nil {
		h.CreateAt -= ms
		h.UpdateAt -= ms
		return true
	}
	return false
}

// ExpireUserToken gives the user access token with this id the expiry at,
// as if it had been made with that expires_at: the lists show it, and the
// token stops working then. It reports whether there was such a token.
func (s *Server) ExpireUserToken(id string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pats[id]
	if p == nil {
		return false
	}
	p.ExpiresAt = at.UnixMilli()
	return true
}

// AgeSeeds makes some seeded tokens look old, so that status and check
// have something to find: the /oncall slash command 100 days, the Alerts
// outgoing webhook 60 days.
func (s *Server) AgeSeeds() {
	s.Backdate(s.seedCommands[1], 100*24*time.Hour)
	s.Backdate(s.seedHooks[1], 60*24*time.Hour)
}
