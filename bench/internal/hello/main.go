// Command hello is the start-up baseline of bench/run: the smallest Go
// program that prints a line, built with the same toolchain as keyturn.
package main

import "fmt"

func main() { fmt.Println("hello") }
