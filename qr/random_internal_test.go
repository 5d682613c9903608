package qr

import (
	"fmt"
	"math/rand"
	"testing"

	rscqr "rsc.io/qr"
)

// Every module of random otpauth URIs is drawn where the encoder put it.
func TestRenderRandomURIs(t *testing.T) {
	const b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 300; n++ {
		sec := make([]byte, 32)
		for i := range sec {
			sec[i] = b32[r.Intn(32)]
		}
		uri := fmt.Sprintf("otpauth://totp/Mattermost:admin?issuer=Mattermost&secret=%s", sec)
		lines, err := Render(uri)
		if err != nil {
			t.Fatal(err)
		}
		enc, _ := rscqr.Encode(uri, rscqr.L)
		grid := [][]bool{}
		for _, l := range lines {
			top, bottom := []bool{}, []bool{}
			for _, c := range l {
				top = append(top, c == ' ' || c == '▄')
				bottom = append(bottom, c == ' ' || c == '▀')
			}
			grid = append(grid, top, bottom)
		}
		for y := 0; y < enc.Size; y++ {
			for x := 0; x < enc.Size; x++ {
				if grid[y+quietZone][x+quietZone] != enc.Black(x, y) {
					t.Fatalf("uri %d: module (%d,%d) drawn wrong", n, x, y)
				}
			}
		}
	}
}
