package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
)

// sliceTarget is the slice v points to, when it does.
func sliceTarget(v any) (reflect.Value, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Slice {
		return reflect.Value{}, false
	}
	return rv.Elem(), true
}

// firstNonSpace is the first byte of b that is not JSON whitespace, or 0.
func firstNonSpace(b []byte) byte {
	if b = bytes.TrimLeft(b, " \t\r\n"); len(b) > 0 {
		return b[0]
	}
	return 0
}

// decodeElements decodes the JSON array src starts with into slice, one
// element at a time: a json.Decoder holds the whole text of the value it
// reads, megabytes for a listing of 10,000 commands, and here that value
// is one element. It fails as decoding the array whole would, and in the
// same words (FuzzDecode holds it to that): a syntax error anywhere wins,
// at the same offset in the text; otherwise the first element of a wrong
// type. It returns the decoder, for what follows the array.
func decodeElements(src io.Reader, slice reflect.Value) (*json.Decoder, error) {
	watch := &depthWatch{r: src, over: -1}
	dec := json.NewDecoder(watch)
	if _, err := dec.Token(); err != nil { // the '[' (or an error reading to it)
		return dec, err
	}
	out := reflect.New(slice.Type()).Elem() // addressable, for SetLen
	out.Set(reflect.MakeSlice(slice.Type(), 0, 0))
	var typeErr error
	// counted is what the decoder's scanner counted in the elements read
	// so far: its syntax errors give offsets in that count, not the text.
	var counted int64
	fail := func(at int64) (*json.Decoder, error) {
		return dec, watch.first(&json.SyntaxError{Offset: at})
	}
	for i := 0; ; i++ {
		if !dec.More() {
			break
		}
		if i == MaxListItems {
			return dec, errTooManyItems
		}
		start := dec.InputOffset() // the next non-blank byte
		if i > 0 {
			if next(dec) != ',' {
				return fail(start + 1) // "[1 2]": where the comma should be
			}
			start++ // the element is read from after the comma
		}
		if out.Len() == out.Cap() {
			// Doubling: reflect.Append grows large slices by a quarter,
			// allocating five times the final list along the way.
			grown := reflect.MakeSlice(out.Type(), out.Len(), max(16, 2*out.Cap()))
			reflect.Copy(grown, out)
			out.Set(grown)
		}
		out.SetLen(out.Len() + 1)
		err := dec.Decode(out.Index(out.Len() - 1).Addr().Interface())
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fail(start + se.Offset - counted)
		case errors.As(err, &te):
			if typeErr == nil {
				typeErr = err
			}
		case err != nil:
			return dec, watch.first(err) // truncated, or the connection failed
		}
		counted += dec.InputOffset() - start
	}
	// More stopped at the end, or at a byte that is not one: only ']' is.
	end := dec.InputOffset()
	if tok, err := dec.Token(); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fail(end + 1)
		}
		return dec, watch.first(err)
	} else if tok != json.Delim(']') {
		return fail(end + 1)
	}
	if watch.over >= 0 && watch.over < dec.InputOffset() {
		return fail(watch.over + 1)
	}
	slice.Set(out)
	return dec, typeErr
}

// errTooManyItems is a list longer than MaxListItems.
var errTooManyItems = fmt.Errorf("the list has more than %s entries; keyturn reads no more", thousands(MaxListItems))

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// next is the next byte the decoder has read ahead and not used, or 0.
func next(dec *json.Decoder) byte {
	var b [1]byte
	if n, _ := dec.Buffered().Read(b[:]); n == 1 {
		return b[0]
	}
	return 0
}

// maxDepth is encoding/json's limit on nesting: decoding a whole value
// fails at the bracket that opens level 10,001. Decoding an element at a
// time counts from the element, so the array's own level is watched here.
const maxDepth = 10000

// depthWatch passes a JSON text through and notes the offset of the first
// bracket beyond maxDepth, outside strings (over, -1 while none).
type depthWatch struct {
	r        io.Reader
	at       int64
	depth    int
	inString bool
	escaped  bool
	over     int64
}

func (w *depthWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	for i, c := range p[:n] {
		switch {
		case w.over >= 0:
		case w.inString:
			switch {
			case w.escaped:
				w.escaped = false
			case c == '\\':
				w.escaped = true
			case c == '"':
				w.inString = false
			}
		case c == '"':
			w.inString = true
		case c == '[' || c == '{':
			if w.depth++; w.depth > maxDepth {
				w.over = w.at + int64(i)
			}
		case c == ']' || c == '}':
			w.depth--
		}
	}
	w.at += int64(n)
	return n, err
}

// first is err, unless the text went too deep before it failed: decoding
// it whole would have stopped there first.
func (w *depthWatch) first(err error) error {
	var se *json.SyntaxError
	if w.over >= 0 && (!errors.As(err, &se) || w.over+1 < se.Offset) {
		return &json.SyntaxError{Offset: w.over + 1}
	}
	return err
}
