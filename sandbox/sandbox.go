// Package sandbox runs simulated Mattermost, Rocket.Chat and Capillary
// servers on loopback, for `keyturn demo`, `keyturn sandbox` and tests.
// The servers implement the wire formats on their own, from the API
// references, and share one ledger of every token they issue.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

// Options configure a sandbox.
type Options struct {
	// Listen is the host:port of the first server; the others take the
	// next ports. Port 0 picks free ports. Default 127.0.0.1:0.
	Listen string
	// Latency delays every request, to make timing visible.
	Latency time.Duration
	// Hostile makes the servers hostile: every piece of text they send
	// (names, descriptions, user names, error messages and ids) starts
	// with simnet.HostileText, terminal escape sequences included.
	Hostile bool
	// Server behaviours, each as some real servers have it.
	Behaviour Behaviour
	// Aged makes some seeded tokens look old (mattermostsim.AgeSeeds), to
	// try status, check and policies.
	Aged bool
}

// Behaviour switches the simulated servers between behaviours real
// servers show. The zero value is current servers' defaults.
type Behaviour struct {
	// MattermostOlder answers as Mattermost 11.2: no token expiry, no
	// in-place rotation (the route answers 404).
	MattermostOlder bool
	// MattermostMaxTokenDays is MaximumPersonalAccessTokenLifetimeDays.
	MattermostMaxTokenDays int
	// RocketChatOlderLogout answers logout as before 7.4, with a JSON body.
	RocketChatOlderLogout bool
	// RocketChatForgets2FA remembers no passed second factor.
	RocketChatForgets2FA bool
	// CapillaryRoleUnmarked: first-factor tokens say USER even for people
	// enrolled in MFA.
	CapillaryRoleUnmarked bool
}

// apply sets the behaviour on the servers.
func (s *Sandbox) apply(b Behaviour) {
	s.Mattermost.Configure(func(st *mattermostsim.Settings) {
		st.OlderServer, st.MaximumPersonalAccessTokenLifetimeDays = b.MattermostOlder, b.MattermostMaxTokenDays
	})
	s.RocketChat.SetOlderLogout(b.RocketChatOlderLogout)
	s.RocketChat.SetForgetsSecondFactor(b.RocketChatForgets2FA)
	s.Capillary.SetMFARoleMarked(!b.CapillaryRoleUnmarked)
}

// Sandbox is the three servers, running.
type Sandbox struct {
	Env        *simnet.Env
	Mattermost *mattermostsim.Server
	RocketChat *rocketchatsim.Server
	Capillary  *capillarysim.Server

	MattermostURL string
	RocketChatURL string
	CapillaryURL  string

	servers []*http.Server
	wg      sync.WaitGroup
}

// Start runs the servers on loopback.
func Start(opts Options) (*Sandbox, error) {
	env := simnet.NewEnv()
	env.Faults.SetLatency(opts.Latency)
	env.Hostile = opts.Hostile
	s := &Sandbox{Env: env, Mattermost: mattermostsim.New(env), RocketChat: rocketchatsim.New(env), Capillary: capillarysim.New(env)}
	s.apply(opts.Behaviour)
	if opts.Aged {
		s.Mattermost.AgeSeeds()
	}
	listeners, err := listen(opts.Listen, 3)
	if err != nil {
		return nil, err
	}
	handlers := []http.Handler{s.Mattermost, s.RocketChat, s.Capillary}
	fields := []simnet.TaintFields{mattermostsim.HostileFields, rocketchatsim.HostileFields, capillarysim.HostileFields}
	urls := []*string{&s.MattermostURL, &s.RocketChatURL, &s.CapillaryURL}
	for i, l := range listeners {
		h := simnet.DateFrom(env.Clock, env.Faults.Wrap(handlers[i]))
		if opts.Hostile {
			h = simnet.Taint(h, fields[i]) // injected faults' answers too
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		*urls[i] = "http://" + l.Addr().String()
		s.wg.Add(1)
		go func(l net.Listener) {
			defer s.wg.Done()
			_ = srv.Serve(l)
		}(l)
	}
	return s, nil
}

// listen opens n listeners on consecutive ports from addr (or free ports
// for port 0). Only loopback addresses are allowed: the sandbox holds
// well-known credentials.
func listen(addr string, n int) ([]net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: want HOST:PORT, e.g. 127.0.0.1:8065", addr)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--listen %q: the sandbox serves only on loopback (127.0.0.1, ::1 or localhost)", addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535-n {
		return nil, fmt.Errorf("--listen %q: bad port", addr)
	}
	var out []net.Listener
	for i := 0; i < n; i++ {
		p := 0
		if port != 0 {
			p = port + i
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}

// Close stops the servers.
func (s *Sandbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, srv.Close())
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// Info is what `keyturn sandbox` prints: each server's URL and the seeded
// users' credentials.
type Info struct {
	Mattermost ServerInfo `json:"mattermost"`
	RocketChat ServerInfo `json:"rocketchat"`
	Capillary  ServerInfo `json:"capillary"`
}

// ServerInfo is one server's URL and seeds.
type ServerInfo struct {
	URL   string `json:"url"`
	Seeds any    `json:"seeds"`
}

// Info describes the running sandbox.
func (s *Sandbox) Info() Info {
	return Info{
		Mattermost: ServerInfo{URL: s.MattermostURL, Seeds: s.Mattermost.Seeds()},
		RocketChat: ServerInfo{URL: s.RocketChatURL, Seeds: s.RocketChat.Seeds()},
		Capillary:  ServerInfo{URL: s.CapillaryURL, Seeds: s.Capillary.Seeds()},
	}
}

// Codes are the codes a person needs right now: TOTP codes of the seeded
// secrets and the last codes "sent" by email or SMS.
func (s *Sandbox) Codes() []simnet.Code {
	now := s.Env.Clock.Now()
	var out []simnet.Code
	out = append(out, s.Mattermost.Codes(now)...)
	out = append(out, s.RocketChat.Codes(now)...)
	out = append(out, s.Capillary.Codes(now)...)
	return out
}
