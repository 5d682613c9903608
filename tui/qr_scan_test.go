package tui

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// TestMFAQRScansFromTheScreen reads the MFA setup's QR code back off the
// drawn screen, as a phone would: half blocks to modules to an image to a
// QR decoder, and compares what it says with the otpauth URI. At 80×24 (the
// size most terminals open at) and 120×40, on dark and light backgrounds,
// with colours and without (NO_COLOR).
func TestMFAQRScansFromTheScreen(t *testing.T) {
	for _, c := range []struct {
		name    string
		w, h    int
		light   bool
		profile colorprofile.Profile
	}{
		{"80x24 dark", 80, 24, false, colorprofile.TrueColor},
		{"80x24 light", 80, 24, true, colorprofile.TrueColor},
		{"80x24 NO_COLOR dark", 80, 24, false, colorprofile.ASCII},
		{"80x24 NO_COLOR light", 80, 24, true, colorprofile.ASCII},
		{"120x40 dark", 120, 40, false, colorprofile.TrueColor},
		{"120x40 NO_COLOR light", 120, 40, true, colorprofile.ASCII},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{w: c.w, h: c.h, light: c.light, profile: c.profile})
			h.signInMattermost()
			h.press("m", "y")
			setup := h.mfaSetup()
			d := h.m.topDialog().(*mfaDialog)
			// With colours the code is pinned light-on-black whatever the
			// theme; without, the terminal's own foreground draws it.
			inkIsLight := c.profile > colorprofile.ASCII || !c.light
			got, err := scanScreen(h.screen(), ansi.Strip(d.qrBlock(h.m)), inkIsLight)
			if err != nil {
				t.Fatalf("the QR code on the screen does not scan: %v\n%s", err, h.dump())
			}
			if got != setup.URL {
				t.Fatal("the QR code on the screen scans as another text than the otpauth URI")
			}
			if c.w == 80 {
				h.says("Scan it, then the code:")
			}
		})
	}
}

// scanScreen finds the drawn code (its rows, as drawn) on the screen and
// decodes what the screen shows there. Each cell is one module wide and two
// high: █ both halves inked, ▀ the top, ▄ the bottom, a space neither.
func scanScreen(screen, drawn string, inkIsLight bool) (string, error) {
	rows := strings.Split(screen, "\n")
	code := strings.Split(drawn, "\n")
	top, left := -1, -1
	for r := 0; r+len(code) <= len(rows) && top < 0; r++ {
		for col := 0; top < 0; col++ {
			i := strings.Index(rows[r][col:], code[0])
			if i < 0 {
				break
			}
			col += i
			if drawnAt(rows[r:], code, col) {
				top, left = r, col
			}
		}
	}
	if top < 0 {
		return "", errNotOnScreen
	}
	const px, margin = 4, 8 // pixels a module; light modules around
	cells := []rune(code[0])
	w, h := len(cells)+2*margin, 2*len(code)+2*margin
	img := image.NewGray(image.Rect(0, 0, w*px, h*px))
	light, dark := color.Gray{Y: 255}, color.Gray{Y: 0}
	ink, paper := dark, light
	if inkIsLight {
		ink, paper = light, dark
	}
	set := func(mx, my int, c color.Gray) {
		for y := 0; y < px; y++ {
			for x := 0; x < px; x++ {
				img.SetGray(mx*px+x, my*px+y, c)
			}
		}
	}
	for my := 0; my < h; my++ {
		for mx := 0; mx < w; mx++ {
			set(mx, my, light)
		}
	}
	for r := range code {
		line := []rune(rows[top+r][left:])
		for x := range cells {
			upper, lower := paper, paper
			switch line[x] {
			case '█':
				upper, lower = ink, ink
			case '▀':
				upper = ink
			case '▄':
				lower = ink
			}
			set(margin+x, margin+2*r, upper)
			set(margin+x, margin+2*r+1, lower)
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// drawnAt reports whether rows hold code's lines from their first, each at
// byte offset col.
func drawnAt(rows, code []string, col int) bool {
	for i, l := range code {
		if len(rows[i]) < col || !strings.HasPrefix(rows[i][col:], l) {
			return false
		}
	}
	return true
}

type scanError string

func (e scanError) Error() string { return string(e) }

const errNotOnScreen = scanError("the drawn code is not on the screen whole")
