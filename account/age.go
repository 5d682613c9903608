package account

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ageUnits are the units ParseAge reads, largest first.
var ageUnits = []struct {
	unit string
	d    time.Duration
}{
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
}

// maxAge bounds a duration: 100 years is more than any token lives, and
// keeps every sum below time.Duration's limit.
const maxAge = 100 * 365 * 24 * time.Hour

// ParseAge reads a duration written for people: whole numbers with units w
// (weeks), d (days), h and m, largest first, e.g. 90d, 12h, 1h30m, 2w,
// 1w3d. It is the one parser for policy ages and warning windows.
func ParseAge(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	bad := func(why string) error {
		return fmt.Errorf("duration %q: %s; write whole numbers with units w, d, h or m, e.g. 90d, 12h, 1h30m, 2w", s, why)
	}
	if in == "" {
		return 0, bad("empty")
	}
	var total time.Duration
	next := 0 // index in ageUnits the next unit may take
	for in != "" {
		i := 0
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, bad("a number must come before each unit")
		}
		n, err := strconv.ParseInt(in[:i], 10, 64)
		if err != nil || n > int64(maxAge/time.Minute) {
			return 0, bad("too long")
		}
		in = in[i:]
		j := 0
		for j < len(in) && (in[j] < '0' || in[j] > '9') {
			j++
		}
		unit := in[:j]
		in = in[j:]
		k := unitIndex(unit)
		switch {
		case unit == "":
			return 0, bad("a unit must follow " + strconv.FormatInt(n, 10))
		case k < 0:
			return 0, bad(fmt.Sprintf("unknown unit %q", unit))
		case k < next:
			return 0, bad("units go largest first, each once")
		}
		next = k + 1
		total += time.Duration(n) * ageUnits[k].d
		if total > maxAge {
			return 0, bad("too long (at most 100 years)")
		}
	}
	if total <= 0 {
		return 0, bad("must be more than zero")
	}
	return total, nil
}

func unitIndex(unit string) int {
	for i, u := range ageUnits {
		if u.unit == unit {
			return i
		}
	}
	return -1
}

// FormatAge writes a duration the way ParseAge reads it, in days, hours and
// minutes (weeks are written as days: 2w is 14d).
func FormatAge(d time.Duration) string {
	if d <= 0 {
		return "0m"
	}
	var b strings.Builder
	for _, u := range ageUnits[1:] {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.unit)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "0m"
	}
	return b.String()
}
