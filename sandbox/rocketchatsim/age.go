package rocketchatsim

import "time"

// BackdatePAT makes the user's personal access token called name look made
// age ago (its createdAt moves back), so tests and the demo can show old
// tokens. It reports whether there was one.
func (s *Server) BackdatePAT(username, name string, age time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByUsername(username)
	if u == nil {
		return false
	}
	for _, t := range u.Tokens {
		if t.PAT && t.Name == name {
			t.CreatedAt = t.CreatedAt.Add(-age)
			return true
		}
	}
	return false
}
