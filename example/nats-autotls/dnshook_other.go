//go:build !unix

package main

import "os/exec"

// inOwnGroup leaves cmd as it is: without process groups, the deadline
// kills the hook itself and WaitDelay stops waiting for its children.
func inOwnGroup(*exec.Cmd) {}

// killGroup does nothing without process groups.
func killGroup(*exec.Cmd) {}
