package keystore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// The file store's format, version 1.
//
//	offset size
//	0      8    magic "KTSECRET"
//	8      1    format version (1)
//	9      1    KDF (1 = scrypt)
//	10     1    scrypt log2(N)
//	11     1    scrypt r
//	12     1    scrypt p
//	13     16   salt (random; new when the file is created or re-keyed)
//	29     16   key check: SHA-256(scrypt output[32:64])[:16]
//	45     24   XChaCha20-Poly1305 nonce (random, new on every write)
//	69     ...  ciphertext of the JSON payload, with its 16-byte tag
//
// The 69 header bytes are the AEAD's additional data, so no header field can
// be changed unnoticed. scrypt yields 64 bytes: the first 32 are the AEAD key,
// the last 32 feed the key check, which tells a wrong passphrase (check
// differs) from a damaged file (check matches, AEAD fails) without weakening
// the passphrase: testing a guess against the check costs a full scrypt run.
const (
	fileMagic     = "KTSECRET"
	fileVersion   = 1
	kdfScrypt     = 1
	saltLen       = 16
	checkLen      = 16
	headerLen     = 8 + 1 + 1 + 3 + saltLen + checkLen + chacha20poly1305.NonceSizeX
	maxFileSize   = 64 << 20
	keyCacheLimit = 8
)

type kdfParams struct{ logN, r, p uint8 }

// defaultKDF is scrypt's recommended interactive setting (N=2^15, r=8, p=1:
// 32 MiB, a few tens of milliseconds). Tests in this package lower it.
var defaultKDF = kdfParams{logN: 15, r: 8, p: 1}

func (k kdfParams) valid() bool {
	// Bounds keep a crafted file from making us burn minutes or gigabytes:
	// scrypt needs 128·r·N bytes, here at most 256 MiB.
	if k.logN < 10 || k.logN > 20 || k.r < 1 || k.r > 16 || k.p < 1 || k.p > 4 {
		return false
	}
	return 128*uint64(k.r)<<k.logN <= 256<<20
}

// atLeast reports whether k is as costly as min in every parameter.
func (k kdfParams) atLeast(min kdfParams) bool {
	return k.logN >= min.logN && k.r >= min.r && k.p >= min.p
}

// sealKey is the salt and parameters a write encrypts under.
type sealKey struct {
	salt []byte
	kdf  kdfParams
}

// payload is the decrypted content.
type payload struct {
	Version int               `json:"version"`
	Secrets map[string][]byte `json:"secrets"` // values are bytes (base64 in JSON) so any value survives

	enc map[string]encoded // each secret's text as the last encode wrote it
}

type fileBackend struct {
	path       string
	passphrase func() ([]byte, error)
	kdf        kdfParams

	mu   sync.Mutex
	pass []byte            // the passphrase, once it has opened the file or written it
	keys map[string][]byte // salt+params -> derived 64 bytes, for this process
	lru  []string

	// gate, for a store opened by NewLockedFile, is closed by Unlock or
	// Close; calls wait on it for the passphrase. closed: Close was called.
	gate   chan struct{}
	closed bool

	kdfRuns atomic.Int64 // for tests: how often scrypt ran

	group fileGroup // writes waiting to share one encrypt, fsync and rename
}

// PassphraseFromEnv returns KEYTURN_FILE_PASSPHRASE, or an error wrapping
// ErrNoPassphrase if it is unset or empty. It fits NewFile's passphrase
// argument; the CLI falls back to a no-echo prompt when it fails.
func PassphraseFromEnv() ([]byte, error) {
	v := os.Getenv(EnvPassphrase)
	if v == "" {
		return nil, fmt.Errorf("%w: %s is not set", ErrNoPassphrase, EnvPassphrase)
	}
	return []byte(v), nil
}

// NewFile returns the encrypted file store at path: one file, mode 0600,
// holding every secret, encrypted with XChaCha20-Poly1305 under a key that
// scrypt (N=2^15, r=8, p=1) derives from the passphrase and a random salt,
// with a fresh random nonce on every write. A write keeps the file's salt, so
// the key it already derived serves again; a file whose scrypt parameters are
// weaker than today's is re-keyed under a new salt on its next write. The
// passphrase function is called once per process, when the file is first read
// or written; the passphrase and the derived keys are then kept in memory,
// so a process runs the KDF once per file, not once per call.
//
// Writes take a sibling lock file, re-read the file, change it and replace it
// atomically (temporary file, fsync, rename), so concurrent writers in other
// processes lose nothing. A wrong passphrase (ErrWrongPassphrase) or a damaged
// file (ErrDamaged) is an error and the file is never overwritten then.
func NewFile(path string, passphrase func() ([]byte, error)) Backend {
	return &fileBackend{path: path, passphrase: passphrase, kdf: defaultKDF, keys: map[string][]byte{}}
}

func (f *fileBackend) Name() string { return KindFile }

func (f *fileBackend) fail(op, name, cause, hint string, err error) error {
	return &StoreError{Backend: KindFile, Op: op, Name: name, Cause: cause, Hint: hint, Err: err}
}

// getPass returns the cached passphrase, or asks for it (or, for a locked
// store, waits for Unlock). It is called before the lock is taken, so that
// a prompt does not hold other writers up.
func (f *fileBackend) getPass(ctx context.Context, op, name string) ([]byte, bool, error) {
	f.mu.Lock()
	p, gate := f.pass, f.gate
	f.mu.Unlock()
	if p != nil {
		return p, true, nil
	}
	if gate != nil {
		return f.awaitPass(ctx, op, name)
	}
	if f.passphrase == nil {
		return nil, false, f.fail(op, name, "no passphrase", "set "+EnvPassphrase+" or run keyturn in a terminal to be asked", ErrNoPassphrase)
	}
	p, err := f.passphrase()
	if errors.Is(err, ErrPassphraseMismatch) {
		return nil, false, f.fail(op, name, "the two passphrases differ", "nothing was written to "+f.path+"; try again and type the same passphrase twice", err)
	}
	if err != nil {
		hint := "set " + EnvPassphrase + " or run keyturn in a terminal to be asked"
		if !errors.Is(err, ErrNoPassphrase) {
			err = withKind(ErrNoPassphrase, err)
		}
		return nil, false, f.fail(op, name, "no passphrase", hint, err)
	}
	if len(p) == 0 {
		return nil, false, f.fail(op, name, "empty passphrase", "the secrets file needs a passphrase", ErrNoPassphrase)
	}
	return p, false, nil
}

func (f *fileBackend) remember(pass []byte) {
	f.mu.Lock()
	f.pass = pass
	f.mu.Unlock()
}

func (f *fileBackend) forget() {
	f.mu.Lock()
	if f.gate == nil { // a locked store keeps what its dialog gave: nobody would ask again
		f.pass = nil
	}
	f.mu.Unlock()
	f.group.drop()
}

// derive returns scrypt's 64 bytes for pass, salt and params, from the cache
// when this process has derived them before.
func (f *fileBackend) derive(pass, salt []byte, k kdfParams) ([]byte, error) {
	h := sha256.Sum256(pass) // the cache key covers the passphrase too
	ck := string(h[:]) + string(salt) + string([]byte{k.logN, k.r, k.p})
	f.mu.Lock()
	if v, ok := f.keys[ck]; ok {
		f.mu.Unlock()
		return v, nil
	}
	f.mu.Unlock()
	f.kdfRuns.Add(1)
	out, err := scrypt.Key(pass, salt, 1<<k.logN, int(k.r), int(k.p), 64)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if len(f.lru) >= keyCacheLimit {
		delete(f.keys, f.lru[0])
		f.lru = f.lru[1:]
	}
	f.keys[ck] = out
	f.lru = append(f.lru, ck)
	f.mu.Unlock()
	return out, nil
}

func keyCheck(derived []byte) []byte {
	s := sha256.Sum256(derived[32:])
	return s[:checkLen]
}

// viewHeld calls use with the contents the store holds, if the file still
// holds their bytes (compared in pieces, not read whole) and the passphrase
// they were read with is the one known now; it reports whether it did.
func (f *fileBackend) viewHeld(use func(*payload)) bool {
	f.mu.Lock()
	pass := f.pass
	f.mu.Unlock()
	if pass == nil {
		return false
	}
	return f.group.viewCurrent(f.path, pass, use)
}

// readRaw reads the file; (nil, nil) if it does not exist.
func (f *fileBackend) readRaw(op, name string) ([]byte, error) {
	fh, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, f.fail(op, name, "cannot read "+f.path, "", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, f.fail(op, name, "cannot read "+f.path, "", err)
	}
	if len(data) > maxFileSize {
		return nil, f.damaged(op, name, "larger than any secrets file keyturn writes")
	}
	return data, nil
}

func (f *fileBackend) damaged(op, name, why string) error {
	return f.fail(op, name, fmt.Sprintf("%s is damaged: %s", f.path, why),
		"restore it from a backup or move it away; keyturn leaves it as it is", ErrDamaged)
}

// open decrypts data with pass.
func (f *fileBackend) open(op, name string, data, pass []byte) (*payload, *sealKey, error) {
	if len(data) < len(fileMagic) || string(data[:len(fileMagic)]) != fileMagic {
		return nil, nil, f.damaged(op, name, "not a keyturn secrets file")
	}
	if len(data) < headerLen+chacha20poly1305.Overhead {
		return nil, nil, f.damaged(op, name, "truncated")
	}
	if data[8] != fileVersion {
		if data[8] > fileVersion {
			return nil, nil, f.fail(op, name, fmt.Sprintf("%s has format version %d, newer than this keyturn reads (%d)", f.path, data[8], fileVersion),
				"upgrade keyturn; the file is left as it is", ErrDamaged)
		}
		return nil, nil, f.damaged(op, name, fmt.Sprintf("unknown format version %d", data[8]))
	}
	if data[9] != kdfScrypt {
		return nil, nil, f.damaged(op, name, fmt.Sprintf("unknown key derivation %d", data[9]))
	}
	k := kdfParams{logN: data[10], r: data[11], p: data[12]}
	if !k.valid() {
		return nil, nil, f.damaged(op, name, "key derivation parameters out of range")
	}
	salt := data[13 : 13+saltLen]
	check := data[13+saltLen : 13+saltLen+checkLen]
	nonce := data[13+saltLen+checkLen : headerLen]
	derived, err := f.derive(pass, salt, k)
	if err != nil {
		return nil, nil, f.fail(op, name, "key derivation failed", "", err)
	}
	if subtle.ConstantTimeCompare(keyCheck(derived), check) != 1 {
		return nil, nil, f.fail(op, name, "wrong passphrase for "+f.path+" (or its header is damaged)",
			"check "+EnvPassphrase+" or the passphrase you typed; the file is left as it is", ErrWrongPassphrase)
	}
	aead, err := chacha20poly1305.NewX(derived[:32])
	if err != nil {
		return nil, nil, f.fail(op, name, "cipher setup failed", "", err)
	}
	plain, err := aead.Open(nil, nonce, data[headerLen:], data[:headerLen])
	if err != nil {
		return nil, nil, f.damaged(op, name, "the passphrase is right but the contents fail authentication (changed or truncated)")
	}
	var p payload
	dec := json.NewDecoder(bytes.NewReader(plain))
	if err := dec.Decode(&p); err != nil || p.Version != 1 {
		return nil, nil, f.damaged(op, name, "the decrypted contents are not a secrets list")
	}
	if p.Secrets == nil {
		p.Secrets = map[string][]byte{}
	}
	return &p, &sealKey{salt: bytes.Clone(salt), kdf: k}, nil
}

// encode writes p as json.Marshal would, but without reflection, with the
// secrets in map order instead of sorted, and reusing each secret's text
// from the last encode while its value is the same: every write encodes
// every secret in the file, and json.Marshal (its reflective sort of the
// map above all) was half the CPU of a 10,000-token bulk run.
func (p *payload) encode(dst []byte) []byte {
	if p.enc == nil {
		p.enc = make(map[string]encoded, len(p.Secrets))
	}
	size := 32
	for n, v := range p.Secrets {
		e, ok := p.enc[n]
		if !ok || !bytes.Equal(e.val, v) || (e.val == nil) != (v == nil) {
			e = encoded{val: v, frag: encodeSecret(n, v)}
			p.enc[n] = e
		}
		size += len(e.frag) + 1
	}
	if len(p.enc) > len(p.Secrets) {
		for n := range p.enc {
			if _, ok := p.Secrets[n]; !ok {
				delete(p.enc, n)
			}
		}
	}
	b := dst
	if cap(b) < size {
		b = make([]byte, 0, size)
	}
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(p.Version), 10)
	b = append(b, `,"secrets":`...)
	if p.Secrets == nil {
		return append(b, "null}"...)
	}
	b = append(b, '{')
	first := true
	for n := range p.Secrets {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, p.enc[n].frag...)
	}
	return append(b, "}}"...)
}

// encoded is one secret's text in the file, and the value it holds.
type encoded struct{ val, frag []byte }

// encodeSecret is "name":"base64 of v" (null for a nil v).
func encodeSecret(name string, v []byte) []byte {
	b := appendJSONString(make([]byte, 0, len(name)+base64.StdEncoding.EncodedLen(len(v))+5), name)
	b = append(b, ':')
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// appendJSONString appends s as json.Marshal writes it: as it is when it
// is plain printable ASCII that needs no escape, else by json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// headerKey is the salt and parameters of a file written by seal.
func headerKey(data []byte) *sealKey {
	return &sealKey{salt: bytes.Clone(data[13 : 13+saltLen]), kdf: kdfParams{logN: data[10], r: data[11], p: data[12]}}
}

// seal encrypts p with pass under a fresh nonce, and under sk's salt and
// parameters, or a fresh salt and the current parameters if sk is nil.
// The plain text is encoded into plainBuf's space, which is returned for
// the next seal, and the file is sealed into outBuf's if it is large
// enough: a bulk run into a file of 10,000 secrets wrote a megabyte of
// garbage per group.
func (f *fileBackend) seal(p *payload, pass []byte, sk *sealKey, plainBuf, outBuf []byte) (out, plain []byte, err error) {
	plain = p.encode(plainBuf[:0])
	size := headerLen + len(plain) + chacha20poly1305.Overhead
	if cap(outBuf) < size {
		outBuf = make([]byte, 0, size)
	}
	hdr := outBuf[:headerLen]
	clear(hdr)
	copy(hdr, fileMagic)
	k := f.kdf
	salt := hdr[13 : 13+saltLen]
	if sk != nil {
		k = sk.kdf
		copy(salt, sk.salt)
	} else if _, err := rand.Read(salt); err != nil {
		return nil, plain, err
	}
	hdr[8], hdr[9], hdr[10], hdr[11], hdr[12] = fileVersion, kdfScrypt, k.logN, k.r, k.p
	nonce := hdr[13+saltLen+checkLen : headerLen]
	if _, err := rand.Read(nonce); err != nil {
		return nil, plain, err
	}
	derived, err := f.derive(pass, salt, k)
	if err != nil {
		return nil, plain, err
	}
	copy(hdr[13+saltLen:], keyCheck(derived))
	aead, err := chacha20poly1305.NewX(derived[:32])
	if err != nil {
		return nil, plain, err
	}
	return aead.Seal(hdr, nonce, plain, hdr), plain, nil
}

// Open asks for the passphrase now, if it is not known yet, and checks it
// against the file (a new file's is only kept, as its first write would):
// so that an operation can have the person type it before it starts, rather
// than while it holds an account or has a request on its way.
func (f *fileBackend) Open(ctx context.Context) error {
	f.mu.Lock()
	known := f.pass != nil
	f.mu.Unlock()
	if known {
		return nil
	}
	data, err := f.readRaw("open", "")
	if err != nil {
		return err
	}
	if data != nil {
		return f.view(ctx, "open", "", func(*payload) {})
	}
	pass, cached, err := f.getPass(ctx, "open", "")
	if err == nil && !cached {
		f.remember(pass)
	}
	return err
}

// view reads and decrypts the file and calls use with its contents (nil if
// it does not exist; the passphrase is asked for only if it does). Contents
// a group wrote or a reader decrypted before are used again while the file
// holds the same bytes: a bulk run reads its credential twice before the
// first write, and in a file of thousands each decrypt costs milliseconds.
// use must not keep or change what it is given.
func (f *fileBackend) view(ctx context.Context, op, name string, use func(*payload)) error {
	if f.viewHeld(use) {
		return nil
	}
	data, err := f.readRaw(op, name)
	if err != nil {
		return err
	}
	if data == nil {
		use(nil)
		return nil
	}
	pass, cached, err := f.getPass(ctx, op, name)
	if err != nil {
		return err
	}
	if f.group.peek(data, pass, use) {
		return nil
	}
	f.group.counted(&f.group.decrypts)
	p, _, err := f.open(op, name, data, pass)
	if err != nil {
		if errors.Is(err, ErrWrongPassphrase) && cached {
			f.forget()
		}
		return err
	}
	if !cached {
		f.remember(pass)
	}
	use(p)
	f.group.keep(data, pass, p)
	return nil
}

func (f *fileBackend) Get(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", f.fail("get", name, "cancelled", "", err)
	}
	// No lock: writers replace the file by rename, so a read sees a whole file.
	var v string
	found := false
	err := f.view(ctx, "get", name, func(p *payload) {
		if p != nil {
			var b []byte
			b, found = p.Secrets[name]
			v = string(b)
		}
	})
	if err != nil {
		return "", err
	}
	if !found {
		return "", notFound(KindFile, "get", name)
	}
	return v, nil
}

// modify runs change on the current contents under the lock and writes the
// result. change returns false to write nothing.
func (f *fileBackend) modify(ctx context.Context, op, name string, change func(*payload) (bool, error)) error {
	if name == "" {
		return f.fail(op, name, "empty name", "", errors.New("a secret needs a name"))
	}
	if err := ctx.Err(); err != nil {
		return f.fail(op, name, "cancelled", "", err)
	}
	// Ask for the passphrase before taking the lock if the file exists or
	// is about to be created (so that a prompt never holds the lock).
	if op != "set" {
		if _, statErr := os.Stat(f.path); errors.Is(statErr, fs.ErrNotExist) {
			return notFound(KindFile, op, name)
		}
	}
	pass, cached, err := f.getPass(ctx, op, name)
	if err != nil {
		return err
	}
	return f.commitInGroup(ctx, &fileChange{ctx: ctx, op: op, name: name, change: change, pass: pass, cached: cached})
}

func (f *fileBackend) Set(ctx context.Context, name, value string) error {
	return f.modify(ctx, "set", name, func(p *payload) (bool, error) {
		p.Secrets[name] = []byte(value)
		return true, nil
	})
}

func (f *fileBackend) Delete(ctx context.Context, name string) error {
	return f.modify(ctx, "delete", name, func(p *payload) (bool, error) {
		if _, ok := p.Secrets[name]; !ok {
			return false, notFound(KindFile, "delete", name)
		}
		delete(p.Secrets, name)
		return true, nil
	})
}

// nameSet is the set of names in the file (empty if it does not exist).
func (f *fileBackend) nameSet(ctx context.Context) (map[string]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, f.fail("list", "", "cancelled", "", err)
	}
	var out map[string]bool
	err := f.view(ctx, "list", "", func(p *payload) {
		if p == nil {
			out = map[string]bool{}
			return
		}
		out = make(map[string]bool, len(p.Secrets))
		for n := range p.Secrets {
			out[n] = true
		}
	})
	return out, err
}

// List names every secret in the file, sorted; none if it does not exist.
func (f *fileBackend) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, f.fail("list", "", "cancelled", "", err)
	}
	var out []string
	err := f.view(ctx, "list", "", func(p *payload) {
		if p == nil {
			return
		}
		out = make([]string, 0, len(p.Secrets))
		for n := range p.Secrets {
			out = append(out, n)
		}
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}
