package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"keyturn/account"
)

// ExitInterrupted is the exit code after SIGINT, SIGTERM or SIGHUP, when the
// command had nothing worse to report.
const ExitInterrupted = 130

// Run is keyturn with the process's signals. The first SIGINT, SIGTERM or
// SIGHUP stops the command: what is not sent yet is not sent, but a request
// that issues a token runs to its answer and the answer is stored first
// (saying so on stderr). A second one quits at once, naming what may be lost.
// While the interactive app runs, it gets the signals instead.
func Run(args []string, streams IO) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	return execute(context.Background(), args, streams, sigs)
}

// interrupts turns signals into a cancelled command, a wait, or a forced exit.
type interrupts struct {
	app    *App
	cancel context.CancelFunc
	exit   func(int)

	mu     sync.Mutex
	count  int
	first  os.Signal
	waited []account.InFlight // what was on its way at the first signal
	tui    chan<- os.Signal   // set while the interactive app runs
	prompt *promptStop        // set while the command waits for the person
}

// promptStop is how to stop at a prompt: the read cannot be interrupted.
type promptStop struct {
	restore func() // puts the terminal back as it was before the prompt
	say     string // what to tell the person, if anything
}

// leave puts the terminal back and says what the prompt was for.
func (p *promptStop) leave(w io.Writer) {
	p.restore()
	if p.say != "" {
		fmt.Fprintln(w, "keyturn: "+p.say)
	}
}

func (in *interrupts) watch(sigs <-chan os.Signal, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case sig := <-sigs:
			in.handle(sig)
		}
	}
}

func (in *interrupts) handle(sig os.Signal) {
	in.mu.Lock()
	if in.tui != nil {
		fwd := in.tui
		in.mu.Unlock()
		fwd <- sig
		return
	}
	in.count++
	n := in.count
	fl := in.app.inFlight()
	if n == 1 {
		in.waited, in.first = fl, sig
	}
	p := in.prompt
	in.mu.Unlock()
	in.cancel()
	errw := in.app.io.Err
	if n == 1 && len(fl) == 0 && p != nil {
		// Waiting for the person, with nothing on its way: nothing can be
		// lost, and the read would hold keyturn until Enter.
		fmt.Fprintf(errw, "\nkeyturn: interrupted (%s)\n", signalName(sig))
		p.leave(errw)
		in.exit(ExitInterrupted)
		return
	}
	if n == 1 {
		if len(fl) > 0 {
			fmt.Fprintf(errw, "keyturn: %s: waiting for %s to answer and be stored (a token the server issues must not be lost); %s again quits at once\n",
				signalName(sig), whats(fl), signalName(sig))
		}
		return
	}
	if len(fl) > 0 {
		fmt.Fprintf(errw, "keyturn: quitting without waiting: the token from %s may be lost.\n", whats(fl))
		for _, f := range fl {
			fmt.Fprintln(errw, "  "+f.Recover)
		}
	} else {
		fmt.Fprintln(errw, "keyturn: quitting at once")
	}
	if p != nil {
		p.leave(errw)
	}
	in.exit(ExitInterrupted)
}

// atPrompt runs read, which waits for the person (a prompt, or stdin). A
// signal that comes meanwhile with nothing issuing on its way ends keyturn
// at once (exit 130) with the terminal put back, saying say if given.
func (a *App) atPrompt(say string, read func() (string, error)) (string, error) {
	if a.sig == nil {
		return read()
	}
	restore := func() {}
	if a.io.SaveTerminal != nil {
		restore = a.io.SaveTerminal()
	}
	a.sig.mu.Lock()
	a.sig.prompt = &promptStop{restore: restore, say: say}
	a.sig.mu.Unlock()
	defer func() {
		a.sig.mu.Lock()
		a.sig.prompt = nil
		a.sig.mu.Unlock()
	}()
	return read()
}

// forTUI sends signals to the interactive app until done is called.
func (in *interrupts) forTUI() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 4)
	in.mu.Lock()
	in.tui = ch
	in.mu.Unlock()
	return ch, func() {
		in.mu.Lock()
		in.tui = nil
		in.mu.Unlock()
	}
}

// stoppedTUI records the signal that quit the interactive app (which got
// it instead of handle) and what its quit waited for, for finish.
func (in *interrupts) stoppedTUI(sig os.Signal, waited []account.InFlight) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.count == 0 {
		in.first, in.waited = sig, waited
	}
	in.count++
}

// finish turns the command's exit code into the one after a signal: the
// command's own when it has something to say, else ExitInterrupted.
func (in *interrupts) finish(code int) int {
	in.mu.Lock()
	n, waited, first := in.count, in.waited, in.first
	in.mu.Unlock()
	if n == 0 {
		return code
	}
	if len(waited) > 0 {
		fmt.Fprintf(in.app.io.Err, "keyturn: interrupted: waited for %s to answer before quitting\n", whats(waited))
	} else {
		fmt.Fprintf(in.app.io.Err, "keyturn: interrupted (%s)\n", signalName(first))
	}
	if code == ExitOK || code == ExitFailure {
		return ExitInterrupted
	}
	return code
}

func whats(fl []account.InFlight) string {
	ws := make([]string, 0, len(fl))
	for _, f := range fl {
		ws = append(ws, f.What)
	}
	return strings.Join(ws, " and ")
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}
