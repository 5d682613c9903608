package account

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"keyturn/audit"
	"keyturn/config"
	"keyturn/textsafe"
)

// Outcomes of one delivery.
const (
	Delivered      = "delivered"
	DeliveryFailed = "failed"
)

// DefaultDeliverTimeout bounds each consumer command and verify command.
const DefaultDeliverTimeout = time.Minute

// Delivery is what became of one consumer after a rotation (or a
// 'keyturn deliver'). It never holds the value.
type Delivery struct {
	Secret   string `json:"secret"`
	Consumer string `json:"consumer"` // what it is, in words
	Status   string `json:"status"`   // Delivered or DeliveryFailed
	Error    string `json:"error,omitempty"`
}

// Remedy is the way out of a failed delivery: fix the consumer, then
// deliver the stored token again. A delivered one has none.
func (d Delivery) Remedy() (Remedy, bool) {
	acct, ref, ok := ParseSecretName(d.Secret)
	if !ok || d.Status == Delivered {
		return Remedy{}, false
	}
	return Remedy{Action: Deliver, Account: acct, Ref: ref}, true
}

// inputErrorf is an *InputError (policy.go): the faces report it as a
// usage error.
func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// DescribeConsumer names a consumer in words for lists and reports.
func DescribeConsumer(c config.Consumer) string {
	var s string
	switch {
	case c.File != "" && c.EnvKey != "":
		s = "file " + c.File + " (" + c.EnvKey + "=…)"
	case c.File != "":
		s = "file " + c.File
	default:
		s = "command " + c.Command
	}
	if c.Verify != "" {
		s += ", verified by " + c.Verify
	}
	return textsafe.Line(s)
}

// checkConsumerShape refuses a consumer whose parts do not fit together.
func checkConsumerShape(c config.Consumer) error {
	switch {
	case c.File == "" && c.Command == "":
		return inputErrorf("a consumer is a file (--file PATH [--env-key KEY]) or a command (--command CMD)")
	case c.File != "" && c.Command != "":
		return inputErrorf("give --file or --command, not both (add two consumers for both)")
	case c.EnvKey != "" && c.File == "":
		return inputErrorf("--env-key goes with --file: it names the KEY=value line of a .env file")
	case c.EnvKey != "" && !validEnvKey(c.EnvKey):
		return inputErrorf("--env-key %q: letters, digits and '_', not starting with a digit", c.EnvKey)
	}
	for _, s := range []string{c.File, c.Command, c.Verify} {
		if strings.ContainsRune(s, 0) {
			return inputErrorf("a path or command cannot hold a NUL byte")
		}
	}
	return nil
}

func validEnvKey(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// AddConsumer checks a consumer and saves it in the config. The secret must
// be an issued token keyturn holds; the file's path is made absolute, since
// a delivery runs from wherever keyturn is started.
func (m *Manager) AddConsumer(ctx context.Context, c config.Consumer) (config.Consumer, error) {
	if err := checkConsumerShape(c); err != nil {
		return c, err
	}
	if c.File != "" {
		abs, err := filepath.Abs(c.File)
		if err != nil {
			return c, inputErrorf("--file %q: %v", c.File, err)
		}
		c.File = abs
		if err := m.checkConsumerFile(abs); err != nil {
			return c, err
		}
	}
	cfg, err := m.cfg.Load()
	if err != nil {
		return c, err
	}
	if err := m.checkDeliverable(ctx, cfg, c.Secret); err != nil {
		return c, err
	}
	// The config file holds no secret: a command that carries the token
	// itself would put it there.
	if v, err := m.vault.Get(ctx, c.Secret); err == nil && len(v) >= minMatchLen {
		for _, s := range []string{c.File, c.EnvKey, c.Command, c.Verify} {
			if strings.Contains(s, v) {
				return c, inputErrorf("the consumer holds the secret's value itself, which would put it in the config file; keyturn hands the value over on stdin or in the file")
			}
		}
	}
	err = m.cfg.UpdateContext(ctx, func(cf *config.Config) error {
		for _, k := range cf.ConsumersOf(c.Secret) {
			if (c.File != "" && k.File == c.File && k.EnvKey == c.EnvKey) || (c.Command != "" && k.Command == c.Command) {
				return inputErrorf("%s already delivers to %s", c.Secret, DescribeConsumer(k))
			}
		}
		cf.Consumers = append(cf.Consumers, c)
		return nil
	})
	return c, err
}

// checkDeliverable refuses a secret that is not an issued token: only
// those are rotated, and so delivered. A token keyturn does not hold yet is
// accepted when its server lists it, so that delivery can be set up before
// the first rotation.
func (m *Manager) checkDeliverable(ctx context.Context, cfg *config.Config, name string) error {
	acct, ref, ok := ParseSecretName(name)
	if !ok {
		return inputErrorf("%q is not the name of an issued token (such as work-mm/command/<id> or chat/pat/deploy); see 'keyturn secret list'", name)
	}
	if _, ok := cfg.Secret(name); ok {
		return nil
	}
	if _, ok := cfg.Account(acct); !ok {
		return inputErrorf("no secret named %q, and no account %q; see 'keyturn secret list'", name, acct)
	}
	toks, err := m.Tokens(ctx, acct, ListFilter{Kind: ref.Kind})
	if err != nil {
		return fmt.Errorf("keyturn does not hold %s yet, and asking %s for its tokens failed: %w", name, acct, err)
	}
	for _, t := range toks {
		if t.Ref == ref {
			return nil
		}
	}
	return inputErrorf("no secret named %q: keyturn does not hold it, and %s lists no %s; see 'keyturn token list %s'", name, acct, ref, acct)
}

// checkConsumerFile refuses a path keyturn would not write: a link, a
// directory, keyturn's own files, or one whose directory is missing.
func (m *Manager) checkConsumerFile(path string) error {
	if filepath.Dir(path) == filepath.Dir(m.cfg.Path) || path == m.vault.FilePath() {
		return inputErrorf("--file %s is among keyturn's own files (its config directory or store); give a file of the integration", path)
	}
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return inputErrorf("--file %s %v; give the link's target instead", path, config.ErrSymlink)
	case err == nil && !fi.Mode().IsRegular():
		return inputErrorf("--file %s is not a regular file", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return inputErrorf("--file %s: %v", path, err)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || !di.IsDir() {
		return inputErrorf("--file %s: its directory does not exist", path)
	}
	return nil
}

// Consumers lists the consumers of a secret, or of every secret for "".
func (m *Manager) Consumers(secret string) ([]config.Consumer, error) {
	cfg, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	if secret == "" {
		return cfg.Consumers, nil
	}
	return cfg.ConsumersOf(secret), nil
}

// RemoveConsumers drops the consumers of secret that match: the file (with
// its env key, if given) or the command; with neither, every consumer of
// the secret. No match is an *InputError that lists what there is.
func (m *Manager) RemoveConsumers(ctx context.Context, secret string, match config.Consumer) (int, error) {
	if match.File != "" {
		abs, err := filepath.Abs(match.File)
		if err != nil {
			return 0, inputErrorf("--file %q: %v", match.File, err)
		}
		match.File = abs
	}
	n := 0
	err := m.cfg.UpdateContext(ctx, func(cf *config.Config) error {
		n = cf.RemoveConsumers(func(k config.Consumer) bool {
			return k.Secret == secret && (match.File == "" || k.File == match.File) &&
				(match.EnvKey == "" || k.EnvKey == match.EnvKey) && (match.Command == "" || k.Command == match.Command)
		})
		if n > 0 {
			return nil
		}
		var have []string
		for _, k := range cf.ConsumersOf(secret) {
			have = append(have, DescribeConsumer(k))
		}
		if len(have) == 0 {
			return inputErrorf("%s has no consumers", secret)
		}
		return inputErrorf("no such consumer of %s; it has: %s", secret, strings.Join(have, "; "))
	})
	return n, err
}

// Deliver hands the stored value of secret to each of its consumers again:
// after a failed delivery, or for a consumer added since the rotation.
func (m *Manager) Deliver(ctx context.Context, secret string) ([]Delivery, error) {
	cfg, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	if len(cfg.ConsumersOf(secret)) == 0 {
		return nil, inputErrorf("%s has no consumers; add one with 'keyturn consumer add %s --file PATH' or '--command CMD'", secret, secret)
	}
	value, err := m.vault.Get(ctx, secret)
	if err != nil {
		return nil, err
	}
	return m.deliver(ctx, secret, value), nil
}

// deliverRotated is the one place a rotation hands its new token on: once
// the token is stored, to every consumer of the secret it replaces (which
// move to the new name where the rotation made a new token, as Mattermost
// user tokens do). A delivery that fails never touches the stored token;
// each outcome is on iss.Deliveries. It runs past the caller's
// cancellation, bounded by the delivery timeout: the old token may already
// be dead, and the consumer needs the new one.
func (m *Manager) deliverRotated(ctx context.Context, s *session, ref Ref, iss *Issued) {
	if iss == nil || !iss.Stored || iss.Value == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	auditNow := !s.holdDeliveryAudit
	if old := SecretName(s.acct.Name, ref); old != iss.Name {
		s = nil // the consumers move to the new name: read them afresh
		err := m.cfg.UpdateContext(ctx, func(cf *config.Config) error {
			for i := range cf.Consumers {
				if cf.Consumers[i].Secret == old {
					cf.Consumers[i].Secret = iss.Name
				}
			}
			return nil
		})
		if err != nil {
			iss.Notes = append(iss.Notes, fmt.Sprintf("the consumers of %s could not be moved to %s: %v", old, iss.Name, err))
			return
		}
	}
	iss.Deliveries = m.deliverFor(ctx, s, iss.Name, iss.Value, auditNow)
}

// deliver hands value to each consumer of secret in turn, then runs its
// verify command.
func (m *Manager) deliver(ctx context.Context, secret, value string) []Delivery {
	return m.deliverFor(ctx, nil, secret, value, true)
}

// deliverFor is deliver with the consumers a bulk run's session read at
// its start (s.consumers), if any: reading the whole config for each token
// cost a run of 1,000 tokens seconds, and grew with the index. Each
// delivery goes into the audit log now, or, without auditNow, is left to
// the caller (auditDeliveries) to follow its rotation's entry.
func (m *Manager) deliverFor(ctx context.Context, s *session, secret, value string, auditNow bool) []Delivery {
	cfg := (*config.Config)(nil)
	if s != nil {
		cfg = s.consumers
	}
	if cfg == nil {
		var err error
		if cfg, err = m.cfg.Load(); err != nil {
			return []Delivery{{Secret: secret, Consumer: "every consumer", Status: DeliveryFailed, Error: err.Error()}}
		}
	}
	var out []Delivery
	for _, c := range cfg.ConsumersOf(secret) {
		d := Delivery{Secret: secret, Consumer: DescribeConsumer(c), Status: Delivered}
		if err := m.deliverOne(ctx, c, value); err != nil {
			d.Status, d.Error = DeliveryFailed, redact(err.Error(), value)
		}
		if auditNow {
			m.auditDeliveries(ctx, []Delivery{d})
		}
		out = append(out, d)
	}
	return out
}

func (m *Manager) deliverOne(ctx context.Context, c config.Consumer, value string) error {
	var err error
	if c.File != "" {
		err = writeConsumerFile(c.File, c.EnvKey, value)
	} else {
		err = m.runConsumer(ctx, c.Command, value)
	}
	if err != nil {
		return err
	}
	if c.Verify != "" {
		if err := m.runConsumer(ctx, c.Verify, value); err != nil {
			return fmt.Errorf("delivered, but the verify command failed: %w", err)
		}
	}
	return nil
}

// auditDeliveries records deliveries in the audit log (never the value);
// a log that cannot be written is a warning, never the delivery's failure.
func (m *Manager) auditDeliveries(ctx context.Context, ds []Delivery) {
	for _, d := range ds {
		ev, outcome := deliveryEvent(d)
		m.record(ctx, ev, outcome)
	}
}

// deliveryEvent is a delivery's audit entry and outcome.
func deliveryEvent(d Delivery) (Event, string) {
	ev := Event{Action: ActDeliver, Secret: d.Secret}
	if acct, ref, ok := ParseSecretName(d.Secret); ok {
		ev.Account, ev.Ref = acct, ref.String()
	}
	if d.Status != Delivered {
		return ev, audit.Failed
	}
	return ev, audit.OK
}

// redact hides value in text that reaches a report (a command's output).
func redact(s, value string) string {
	if len(value) >= minMatchLen {
		s = strings.ReplaceAll(s, value, "[token]")
	}
	return textsafe.Line(s)
}

// writeConsumerFile writes the whole value, or with key one KEY=value line
// of a .env file, keeping every other line byte for byte. The file is
// replaced atomically with mode 0600, and never written through a link.
func writeConsumerFile(path, key, value string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s %w", path, config.ErrSymlink)
	}
	data := []byte(value)
	if key != "" {
		old, err := readNoFollow(path)
		if err != nil {
			return err
		}
		if data, err = setEnvLine(old, key, value); err != nil {
			return err
		}
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || !di.IsDir() {
		return fmt.Errorf("%s: its directory does not exist", path)
	}
	return config.WriteFileAtomic(path, data, 0o600)
}

// maxEnvFile caps the .env file read back: it is a few lines.
const maxEnvFile = 1 << 20

func readNoFollow(path string) ([]byte, error) {
	f, err := config.OpenNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, maxEnvFile+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if b.Len() > maxEnvFile {
		return nil, fmt.Errorf("%s is larger than 1 MiB: not a .env file keyturn will rewrite", path)
	}
	return b.Bytes(), nil
}

// envValue writes value for a .env line: bare when every character is
// plain, else in single quotes. A value no .env reader can hold is refused.
func envValue(value string) (string, error) {
	if strings.ContainsAny(value, "\r\n\x00") {
		return "", errors.New("the token holds a line break: it cannot go on one .env line")
	}
	plain := strings.Trim(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-~") == ""
	if plain {
		return value, nil
	}
	if strings.Contains(value, "'") {
		return "", errors.New("the token holds a quote: it cannot go on a .env line safely")
	}
	return "'" + value + "'", nil
}

// setEnvLine sets KEY in a .env file's bytes: each line that assigns KEY
// (optionally after "export ") gets the new value with its own indent and
// line ending; every other byte stays. Without such a line, one is
// appended.
func setEnvLine(old []byte, key, value string) ([]byte, error) {
	enc, err := envValue(value)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	found := false
	rest := old
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		body := bytes.TrimRight(line, "\r\n")
		ending := line[len(body):]
		if prefix, ok := assigns(body, key); ok {
			found = true
			out.Write(prefix)
			out.WriteString(key + "=" + enc)
			out.Write(ending)
			continue
		}
		out.Write(line)
	}
	if !found {
		nl := "\n"
		if bytes.Contains(old, []byte("\r\n")) {
			nl = "\r\n"
		}
		if len(old) > 0 && old[len(old)-1] != '\n' {
			out.WriteString(nl)
		}
		out.WriteString(key + "=" + enc + nl)
	}
	return out.Bytes(), nil
}

// assigns reports whether a .env line sets key, and what comes before the
// key (indent, "export ").
func assigns(line []byte, key string) (prefix []byte, ok bool) {
	s := bytes.TrimLeft(line, " \t")
	if t, cut := bytes.CutPrefix(s, []byte("export")); cut && len(t) > 0 && (t[0] == ' ' || t[0] == '\t') {
		s = bytes.TrimLeft(t, " \t")
	}
	t, cut := bytes.CutPrefix(s, []byte(key))
	if !cut {
		return nil, false
	}
	t = bytes.TrimLeft(t, " \t")
	if len(t) == 0 || t[0] != '=' {
		return nil, false
	}
	return line[:len(line)-len(s)], true
}

// consumerEnvKeep is all a consumer's command gets of keyturn's
// environment: where programs are, who and where the user is, the locale,
// and the user's session bus (to reload a user service). Nothing of
// keyturn's own (KEYTURN_*) and no other variable that may hold a secret.
var consumerEnvKeep = []string{"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "TMPDIR",
	"XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP"}

func consumerEnv(parent []string) []string {
	var env []string
	for _, kv := range parent {
		k, _, _ := strings.Cut(kv, "=")
		for _, keep := range consumerEnvKeep {
			if k == keep || (runtime.GOOS == "windows" && strings.EqualFold(k, keep)) {
				env = append(env, kv)
				break
			}
		}
	}
	return env
}

// maxConsumerOutput caps what is kept of a command's output for its report.
const maxConsumerOutput = 4 << 10

// runConsumer runs a consumer's command with the shell, the value and a
// newline on its stdin (never in its arguments or environment), in the
// home directory, bounded by the delivery timeout.
func (m *Manager) runConsumer(ctx context.Context, script, value string) error {
	timeout := m.opts.DeliverTimeout
	if timeout <= 0 {
		timeout = DefaultDeliverTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(ctx, "cmd", "/C", script)
	} else {
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", script)
	}
	cmd.Env = consumerEnv(os.Environ())
	if home, err := os.UserHomeDir(); err == nil {
		cmd.Dir = home
	}
	cmd.Stdin = strings.NewReader(value + "\n")
	out := &capped{max: maxConsumerOutput}
	cmd.Stdout, cmd.Stderr = out, out
	// A grandchild that keeps the output open does not hold keyturn.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	what := textsafe.Line(script)
	said := lastLine(out.String())
	if said != "" {
		said = ": " + said
	}
	var xe *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s did not finish within %s%s", what, timeout, said)
	case errors.As(err, &xe):
		return fmt.Errorf("%s exited with status %d%s", what, xe.ExitCode(), said)
	}
	return fmt.Errorf("%s: %v", what, err)
}

// lastLine is the last non-empty line of a command's output.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// capped keeps the last max bytes written to it.
type capped struct {
	b   []byte
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	c.b = append(c.b, p...)
	if len(c.b) > c.max {
		c.b = c.b[len(c.b)-c.max:]
	}
	return len(p), nil
}

func (c *capped) String() string { return string(c.b) }

// minMatchLen is the shortest value looked for inside other text: shorter
// ones match by chance.
const minMatchLen = 8
