// Package qr draws QR codes for the terminal in half blocks, two modules a
// character row, dark modules on a light field so phones scan them on dark
// and light themes alike.
package qr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/mdp/qrterminal/v3"
)

// quietZone is the light margin around the code, in modules. Scanners need
// one; two keeps the code small enough for an 80×24 terminal.
const quietZone = 2

// MaxInput is the longest text drawn; an otpauth URI is about 120 bytes.
const MaxInput = 1024

// ErrTooLong is returned for text that cannot be a terminal QR code.
var ErrTooLong = errors.New("text too long for a terminal QR code")

// Render draws text as lines of half blocks, all the same width. The
// glyphs assume light foreground on a dark background; Colorize (or the
// caller's own style) pins those colours so the code reads dark on light.
func Render(text string) (lines []string, err error) {
	if len(text) > MaxInput {
		return nil, ErrTooLong
	}
	// qrterminal panics when the text does not fit any QR version.
	defer func() {
		if r := recover(); r != nil {
			lines, err = nil, fmt.Errorf("%w: %v", ErrTooLong, r)
		}
	}()
	var b strings.Builder
	qrterminal.GenerateWithConfig(text, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         &b,
		HalfBlocks:     true,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      quietZone,
	})
	raw := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	width := 0
	for _, l := range raw {
		width = max(width, ansi.StringWidth(l))
	}
	// An odd number of module rows leaves the last line half code, half
	// outside it, drawn dark: light it whole so the quiet zone ends clean
	// on any background (one module more of margin).
	last := len(raw) - 1
	if strings.Trim(raw[last], qrterminal.WHITE_BLACK) == "" {
		raw[last] = strings.Repeat(qrterminal.WHITE_WHITE, ansi.StringWidth(raw[last]))
	}
	// Pad short lines with light cells so the field is a clean rectangle.
	for i, l := range raw {
		if w := ansi.StringWidth(l); w < width {
			raw[i] = l + strings.Repeat(qrterminal.WHITE_WHITE, width-w)
		}
	}
	return raw, nil
}

// Size is the width and height of rendered lines, in cells.
func Size(lines []string) (w, h int) {
	if len(lines) == 0 {
		return 0, 0
	}
	return ansi.StringWidth(lines[0]), len(lines)
}

// Fits reports whether the code fits a w×h area without cropping.
func Fits(lines []string, w, h int) bool {
	cw, ch := Size(lines)
	return cw > 0 && cw <= w && ch <= h
}

// Colorize pins bright-white foreground on black so the half blocks draw
// dark modules on a light field whatever the terminal's theme.
func Colorize(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "\x1b[97;40m" + l + "\x1b[0m"
	}
	return out
}
