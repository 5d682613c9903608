package tui

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	rscqr "rsc.io/qr"
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
			if err := screenShowsQR(h.screen(), ansi.Strip(d.qrBlock(h.m)), inkIsLight, setup.URL); err != nil {
				t.Fatalf("%v\n%s", err, h.dump())
			}
			if c.w == 80 {
				h.says("Scan it, then the code:")
			}
		})
	}
}

// screenShowsQR checks that the screen shows uri's code where drawn is: the
// modules read off the screen are, one for one, the URI's code at level L
// with its light quiet zone, and a decoder reads them back as uri. gozxing
// misses about one valid code in a hundred even as a perfect image (seen
// with two encoders), so a code it cannot read even then is proven by its
// modules alone.
func screenShowsQR(screen, drawn string, inkIsLight bool, uri string) error {
	grid, err := screenModules(screen, drawn, inkIsLight)
	if err != nil {
		return err
	}
	if diff := sameModules(grid, uri); diff != "" {
		return fmt.Errorf("the QR code on the screen is not the URI's: %s", diff)
	}
	got, err := decodeModules(grid)
	if err != nil {
		if _, perfectErr := decodeModules(perfectModules(uri)); perfectErr != nil {
			return nil
		}
		return fmt.Errorf("the QR code on the screen does not scan: %w", err)
	}
	if got != uri {
		return fmt.Errorf("the QR code on the screen scans as %q, not the URI", got)
	}
	return nil
}

// screenModules finds the drawn code (its rows, as drawn) on the screen and
// reads what the screen shows there as modules, true for dark, with the
// drawn quiet zone. Each cell is one module wide and two high: █ both
// halves inked, ▀ the top, ▄ the bottom, a space neither; ink is dark
// unless inkIsLight.
func screenModules(screen, drawn string, inkIsLight bool) ([][]bool, error) {
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
		return nil, errNotOnScreen
	}
	width := len([]rune(code[0]))
	var grid [][]bool
	for r := range code {
		line := []rune(rows[top+r][left:])
		upper, lower := make([]bool, width), make([]bool, width)
		for x := 0; x < width; x++ {
			u, l := false, false
			switch line[x] {
			case '█':
				u, l = true, true
			case '▀':
				u = true
			case '▄':
				l = true
			}
			upper[x], lower[x] = u != inkIsLight, l != inkIsLight
		}
		grid = append(grid, upper, lower)
	}
	return grid, nil
}

// sameModules compares a read grid with the URI's code at level L inside
// its quiet zone: "" when they agree, else where they first differ.
func sameModules(grid [][]bool, uri string) string {
	want := perfectModules(uri)
	// Two modules a row: an odd code leaves half a row below its quiet
	// zone, which is not part of it.
	if len(grid) < len(want) || len(grid) > len(want)+1 || len(grid[0]) != len(want[0]) {
		return fmt.Sprintf("%d×%d modules drawn, the code is %d×%d", len(grid[0]), len(grid), len(want[0]), len(want))
	}
	for y := range want {
		for x := range want[y] {
			if w := want[y][x]; grid[y][x] != w {
				return fmt.Sprintf("module (%d,%d) is %v", x, y, grid[y][x])
			}
		}
	}
	return ""
}

// perfectModules is the URI's code at level L with qr.Render's quiet zone,
// as the standard encoder makes it.
func perfectModules(uri string) [][]bool {
	enc, _ := rscqr.Encode(uri, rscqr.L)
	n := enc.Size + 2*qrQuietZone
	grid := make([][]bool, n)
	for y := range grid {
		grid[y] = make([]bool, n)
		for x := range grid[y] {
			mx, my := x-qrQuietZone, y-qrQuietZone
			grid[y][x] = mx >= 0 && my >= 0 && mx < enc.Size && my < enc.Size && enc.Black(mx, my)
		}
	}
	return grid
}

// qrQuietZone is qr.Render's quiet zone, in modules.
const qrQuietZone = 2

// decodeModules draws the modules, 4 pixels each, on a light margin and
// decodes them.
func decodeModules(grid [][]bool) (string, error) {
	const px, margin = 4, 8
	w, h := len(grid[0])+2*margin, len(grid)+2*margin
	img := image.NewGray(image.Rect(0, 0, w*px, h*px))
	for y := 0; y < h*px; y++ {
		for x := 0; x < w*px; x++ {
			mx, my := x/px-margin, y/px-margin
			c := color.Gray{Y: 255}
			if mx >= 0 && my >= 0 && my < len(grid) && mx < len(grid[my]) && grid[my][mx] {
				c = color.Gray{Y: 0}
			}
			img.SetGray(x, y, c)
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
