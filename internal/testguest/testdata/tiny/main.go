// Command tiny is the smallest guest, a WASI command that does nothing,
// which the tests of testguest build.
package main

func main() {}
