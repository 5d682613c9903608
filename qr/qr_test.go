package qr

import (
	"errors"
	"strings"
	"testing"

	"rsc.io/qr"
)

const uri = "otpauth://totp/127.0.0.1%3A8065:admin@example.com?secret=NNBGS3DPEBZXK4TF5YXQ2RDAN5UXG4TF&issuer=127.0.0.1%3A8065"

func TestRenderIsRectangularHalfBlocks(t *testing.T) {
	lines, err := Render(uri)
	if err != nil {
		t.Fatal(err)
	}
	w, h := Size(lines)
	enc, err := qr.Encode(uri, qr.L)
	if err != nil {
		t.Fatal(err)
	}
	// Two modules a row, plus the quiet zone on every side.
	if wantH := (enc.Size + 2*quietZone + 1) / 2; h < wantH-1 || h > wantH+1 {
		t.Errorf("height %d, want about %d for a %d-module code", h, wantH, enc.Size)
	}
	if w < enc.Size+2*quietZone-1 || w > enc.Size+2*quietZone+1 {
		t.Errorf("width %d, want about %d", w, enc.Size+2*quietZone)
	}
	for i, l := range lines {
		for _, r := range l {
			if !strings.ContainsRune("█▀▄ ", r) {
				t.Fatalf("line %d holds %q, want only half blocks", i, r)
			}
		}
	}
	if w > 60 || h > 30 {
		t.Errorf("an otpauth code drew %d×%d; it must fit beside its secret on 80×24", w, h)
	}
}

func TestRenderMatchesModules(t *testing.T) {
	lines, err := Render(uri)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := qr.Encode(uri, qr.L)
	// Decode the half blocks back into modules and compare with the encoder.
	grid := make([][]bool, 0, len(lines)*2)
	for _, l := range lines {
		top, bottom := []bool{}, []bool{}
		for _, r := range l {
			// Light glyph parts are the field; dark parts are modules.
			top = append(top, r == ' ' || r == '▄')
			bottom = append(bottom, r == ' ' || r == '▀')
		}
		grid = append(grid, top, bottom)
	}
	off := quietZone
	for y := 0; y < enc.Size; y++ {
		for x := 0; x < enc.Size; x++ {
			if grid[y+off][x+off] != enc.Black(x, y) {
				t.Fatalf("module (%d,%d) drawn wrong", x, y)
			}
		}
	}
}

func TestRenderRefusesOverlongInput(t *testing.T) {
	if _, err := Render(strings.Repeat("x", MaxInput+1)); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
	// Under the cap but beyond any QR version: the library panics; Render must not.
	if _, err := Render(strings.Repeat("\xff", 1000)); err != nil && !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v", err)
	}
}

func TestFitsAndColorize(t *testing.T) {
	lines, _ := Render(uri)
	w, h := Size(lines)
	if !Fits(lines, w, h) || Fits(lines, w-1, h) || Fits(lines, w, h-1) {
		t.Error("Fits must be exact")
	}
	if Fits(nil, 10, 10) {
		t.Error("nothing drawn does not fit")
	}
	c := Colorize(lines)
	if !strings.HasPrefix(c[0], "\x1b[97;40m") || !strings.HasSuffix(c[0], "\x1b[0m") {
		t.Errorf("colorized line = %q", c[0])
	}
}
