package tui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/keystore"
)

func itoa(n int) string { return strconv.Itoa(n) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// fitBlock makes s exactly h lines of exactly w cells: long lines are cut,
// short ones padded, missing lines added, extra ones dropped.
func fitBlock(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = fitLine(l, w)
	}
	return strings.Join(lines, "\n")
}

func fitLine(l string, w int) string {
	lw := ansi.StringWidth(l)
	if lw > w {
		return ansi.Truncate(l, w, "…")
	}
	return l + strings.Repeat(" ", w-lw)
}

// overlay draws box centred over base.
func overlay(base, box string, w, h int) string {
	bw, bh := lipgloss.Size(box)
	x := max(0, (w-bw)/2)
	y := max(0, (h-bh)/2)
	// A blank band the box's height across the screen: the screen's text
	// does not peek out beside the frame as stray characters.
	band := strings.TrimSuffix(strings.Repeat(strings.Repeat(" ", w)+"\n", bh), "\n")
	return lipgloss.NewCompositor(lipgloss.NewLayer(base), lipgloss.NewLayer(band).Y(y).Z(1), lipgloss.NewLayer(box).X(x).Y(y).Z(2)).Render()
}

// wrap breaks text at spaces to width w, hard-breaking only words longer
// than a line (names like "rc-bob/pat/x" stay whole where they fit).
func wrap(s string, w int) string {
	if w < 10 {
		w = 10
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line, lw := "", 0
		flush := func() {
			out = append(out, line)
			line, lw = "", 0
		}
		for _, word := range strings.Split(para, " ") {
			ww := ansi.StringWidth(word)
			switch {
			case lw == 0:
			case lw+1+ww <= w:
				line += " "
				lw++
			default:
				flush()
			}
			for ww > w {
				head := ansi.Truncate(word, w-lw, "")
				line += head
				flush()
				word = ansi.TruncateLeft(word, ansi.StringWidth(head), "")
				ww = ansi.StringWidth(word)
			}
			line += word
			lw += ww
		}
		flush()
	}
	return strings.Join(out, "\n")
}

// truncate cuts s to w cells with an ellipsis.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// pad fits s into exactly w cells.
func pad(s string, w int) string { return fitLine(s, w) }

// host is the host[:port] of a base URL, for compact display.
func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	h := u.Host
	if p := strings.TrimRight(u.Path, "/"); p != "" {
		h += p
	}
	return h
}

// age says how long ago t was: "just now", "5m", "3h", "2d".
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return itoa(int(d/time.Minute)) + "m ago"
	case d < 48*time.Hour:
		return itoa(int(d/time.Hour)) + "h ago"
	}
	return itoa(int(d/(24*time.Hour))) + "d ago"
}

// countdown is the time left until t as m:ss or h:mm:ss, or "" once past.
func countdown(now, t time.Time) string {
	d := t.Sub(now).Truncate(time.Second)
	if d <= 0 {
		return ""
	}
	h := int(d / time.Hour)
	mnt := int(d/time.Minute) % 60
	s := int(d/time.Second) % 60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, mnt, s)
	}
	return fmt.Sprintf("%d:%02d", mnt, s)
}

func dateTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }

func shortDateTime(t time.Time) string { return t.Local().Format("01-02 15:04") }

// mask hides a secret but for the tail keystore.Fingerprint allows (none
// of a short secret).
func mask(value string) string {
	tail := keystore.Fingerprint(value)
	n := len([]rune(value)) - len([]rune(tail))
	return strings.Repeat("•", min(max(n, 8), 24)) + tail
}

// storeName is how a backend is named in sentences.
func storeName(backend string) string { return keystore.DisplayName(backend) }

// kindName names a token kind in words.
func kindName(kind string) string {
	switch kind {
	case account.KindCommand:
		return "slash-command token"
	case account.KindWebhook:
		return "outgoing-webhook token"
	case account.KindUserToken:
		return "user access token"
	case account.KindPAT:
		return "personal access token"
	case account.KindSession:
		return "session token"
	case account.KindCredential:
		return "sign-in credential"
	case account.KindBackup:
		return "TOTP backup codes"
	case account.KindPending:
		return "pending sign-in"
	}
	return kind
}

// hintFor says what to do about an error that carries no remedy (or what
// to know before using it; the remedy itself is added by showError).
func hintFor(err error) string {
	var ch *account.Challenge
	var uo *account.UnknownOutcomeError
	var ns *account.NotStoredError
	var na *account.NoAccountError
	switch {
	case errors.As(err, &uo):
		return "Do not retry blindly."
	case errors.As(err, &ns):
		return "Copy the token now, or free the store and save it again."
	case errors.As(err, &ch) && ch.Locked:
		return "Wait a few minutes, then sign in again."
	case errors.Is(err, account.ErrMFAActive):
		return "Replacing the secret breaks the current authenticator entry; confirm only if you mean to."
	case errors.As(err, &na):
		return "Refresh the list with ctrl+r."
	case errors.Is(err, keystore.ErrNotFound):
		return "The store no longer holds it: sign in or rotate to get a new one."
	case errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, keystore.ErrUnavailable):
		return "The server or the store did not answer in time; check the connection and try again."
	}
	return ""
}

// joinHints puts a remedy's words after a hint, as sentences.
func joinHints(hint, more string) string {
	if more != "" && !strings.HasSuffix(more, ".") {
		more += "."
	}
	if hint == "" {
		return more
	}
	return hint + " " + more
}

// upperFirst starts a sentence made from a phrase.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// clampCursor keeps a list's cursor on one of its n rows (0 when empty).
func clampCursor(cursor, n int) int { return max(0, min(cursor, n-1)) }
