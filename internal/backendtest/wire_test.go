package backendtest_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// wire is a TCP proxy on loopback in front of a server that counts round
// trips as the network sees them: on each connection, every run of bytes
// from the client that follows bytes from the server (or opens the
// connection) is one request that waits for an answer. Requests written
// back to back without waiting (a pipeline, a close that needs no
// answer) count once, as they cost one round trip.
type wire struct {
	ln     net.Listener
	target string
	trips  atomic.Int64
	// stages, when set, is told of each request and answer instead.
	stages *stages
	wg     sync.WaitGroup
}

// newWire starts a proxy to target (host:port) and stops it when tb ends.
func newWire(tb testing.TB, target string) *wire { return newWireTo(tb, target, nil) }

// newWireTo is newWire reporting to st, shared by the proxies of every
// node of a cluster.
func newWireTo(tb testing.TB, target string, st *stages) *wire {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	w := &wire{ln: ln, target: target, stages: st}
	w.wg.Add(1)
	go w.accept()
	tb.Cleanup(func() {
		ln.Close()
		w.wg.Wait()
	})
	return w
}

// stages counts round trips across the connections to several servers as
// the client waits for them: requests sent while another is still
// unanswered (a cluster client's pipeline to two nodes at once) share one
// round trip.
type stages struct {
	mu      sync.Mutex
	waiting int
	n       int64
}

func (s *stages) request() {
	s.mu.Lock()
	if s.waiting == 0 {
		s.n++
	}
	s.waiting++
	s.mu.Unlock()
}

func (s *stages) answer() {
	s.mu.Lock()
	s.waiting--
	s.mu.Unlock()
}

// Take returns the round trips counted since the last Take.
func (s *stages) Take() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	s.n = 0
	return n
}

// Addr is the proxy's host:port, to dial instead of the server's.
func (w *wire) Addr() string { return w.ln.Addr().String() }

// Take returns the round trips counted since the last Take.
func (w *wire) Take() int64 { return w.trips.Swap(0) }

func (w *wire) request() {
	if w.stages != nil {
		w.stages.request()
		return
	}
	w.trips.Add(1)
}

func (w *wire) answer() {
	if w.stages != nil {
		w.stages.answer()
	}
}

func (w *wire) accept() {
	defer w.wg.Done()
	var conns sync.WaitGroup
	defer conns.Wait()
	var open []net.Conn
	var mu sync.Mutex
	defer func() {
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
	}()
	for {
		c, err := w.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", w.target)
		if err != nil {
			c.Close()
			continue
		}
		mu.Lock()
		open = append(open, c, s)
		mu.Unlock()
		var (
			dirMu      sync.Mutex
			serverLast = true // a client's first bytes are a request
		)
		conns.Add(2)
		go func() { // client -> server
			defer conns.Done()
			pipe(s, c, func() {
				dirMu.Lock()
				if serverLast {
					w.request()
					serverLast = false
				}
				dirMu.Unlock()
			})
			s.Close()
		}()
		go func() { // server -> client
			defer conns.Done()
			// The direction is noted before the bytes are passed on, so a
			// client's next request is always seen after it.
			pipe(c, s, func() {
				dirMu.Lock()
				if !serverLast {
					w.answer()
				}
				serverLast = true
				dirMu.Unlock()
			})
			c.Close()
		}()
	}
}

// pipe copies src to dst, calling seen before passing on each read.
func pipe(dst, src net.Conn, seen func()) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			seen()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or closed: the other side closes too
		}
	}
}
