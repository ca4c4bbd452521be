package backendtest_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// released is what one helper process of runReleased printed.
type released struct {
	line   string // after the prefix
	stderr string
}

// runReleased starts one copy of this test binary per entry of envs,
// running the helper test named run with that entry added to its
// environment. Each helper prints "ready" when set up and waits for a
// line on stdin; once every one is ready, all are released at once, so
// their work races. It returns, per process, the text after prefix on the
// last line of its output that starts with prefix, with what it wrote to
// stderr, and fails t when a process exits with an error or prints no
// such line.
func runReleased(t *testing.T, run string, envs [][]string, prefix string) []released {
	t.Helper()
	type proc struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		stdout *bufio.Scanner
		stderr *bytes.Buffer
	}
	ps := make([]*proc, len(envs))
	for i, env := range envs {
		cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), env...)
		p := &proc{cmd: cmd, stderr: new(bytes.Buffer)}
		cmd.Stderr = p.stderr
		var err error
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.stdout = bufio.NewScanner(out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		ps[i] = p
	}
	for i, p := range ps {
		if !p.stdout.Scan() || p.stdout.Text() != "ready" {
			_ = p.cmd.Wait()
			t.Fatalf("process %d did not get ready: %q\n%s", i, p.stdout.Text(), p.stderr)
		}
	}
	for _, p := range ps {
		if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]released, len(ps))
	for i, p := range ps {
		found := false
		for p.stdout.Scan() {
			if line, ok := strings.CutPrefix(p.stdout.Text(), prefix); ok {
				out[i].line, found = line, true
			}
		}
		err := p.cmd.Wait() // after which stderr is written in full
		out[i].stderr = p.stderr.String()
		if err != nil || !found {
			t.Fatalf("process %d: %v\n%s", i, err, out[i].stderr)
		}
	}
	return out
}
