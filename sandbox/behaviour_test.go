package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The behaviour switches reach the servers: Mattermost answers as 11.2
// (no rotate route) or with a lifetime maximum.
func TestBehaviourSwitches(t *testing.T) {
	for _, c := range []struct {
		b          Behaviour
		rotate     int
		maxDays    string
		hasMaxDays bool
	}{
		{Behaviour{}, http.StatusUnauthorized, "0", true},
		{Behaviour{MattermostMaxTokenDays: 30}, http.StatusUnauthorized, "30", true},
		{Behaviour{MattermostOlder: true}, http.StatusNotFound, "", false},
	} {
		sb, err := Start(Options{Behaviour: c.b})
		if err != nil {
			t.Fatal(err)
		}
		// Without a session: 401 where the route exists, 404 where not.
		resp, err := http.Post(sb.MattermostURL+"/api/v4/users/tokens/rotate", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.rotate {
			t.Errorf("%+v: rotate route answered %d, want %d", c.b, resp.StatusCode, c.rotate)
		}
		var cfg map[string]any
		login, _ := http.Post(sb.MattermostURL+"/api/v4/users/login", "application/json",
			strings.NewReader(`{"login_id":"carol","password":"Carol-Passw0rd!"}`))
		login.Body.Close()
		req, _ := http.NewRequest(http.MethodGet, sb.MattermostURL+"/api/v4/config/client?format=old", nil)
		req.Header.Set("Authorization", "Bearer "+login.Header.Get("Token"))
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		_ = json.Unmarshal(b, &cfg)
		v, ok := cfg["MaximumPersonalAccessTokenLifetimeDays"]
		if ok != c.hasMaxDays || (ok && v != c.maxDays) {
			t.Errorf("%+v: client config lifetime %v (present %v)", c.b, v, ok)
		}
		sb.Close()
	}
}
