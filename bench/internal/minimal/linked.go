//go:build keyturnlinked

package main

// Built with -tags keyturnlinked, the minimal program also links every
// package keyturn links, and runs their initialisers, without using them.
// bench/run measures it beside the minimal program to show how much of
// keyturn's peak RSS comes from the size of the binary alone (code and
// data pages mapped from the executable) rather than from what the demo
// does.
import _ "keyturn/cli"
