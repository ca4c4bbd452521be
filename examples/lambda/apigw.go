package main

// The adapter between API Gateway HTTP API events (payload format 2.0) and
// a net/http handler: small, so what the function does is all in app.go.

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// sourceIPHeader carries the caller's address as API Gateway saw it. Any
// copy a client sends is dropped first, so only the gateway's value is
// ever read.
const sourceIPHeader = "X-Mfa-Source-Ip"

// maxEventBody bounds a request body in an event (after base64).
const maxEventBody = 64 << 10

// serve turns one event into a request for h and h's answer into the
// event response. A malformed event is answered 400, never passed on.
func serve(ctx context.Context, h http.Handler, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	r, status := request(ctx, ev)
	if r == nil {
		return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"},
			Body: `{"error":"` + http.StatusText(status) + `"}`}
	}
	w := &recorder{header: http.Header{}}
	h.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	out := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{}, Body: w.body.String()}
	for k, vs := range w.header {
		if k == "Set-Cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ", ")
	}
	return out
}

// request builds the http.Request of an event, or returns nil and the
// status to answer.
func request(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, int) {
	method, path := ev.RequestContext.HTTP.Method, ev.RawPath
	if method == "" || path == "" || path[0] != '/' || len(path) > 2048 || len(ev.RawQueryString) > 4096 {
		return nil, http.StatusBadRequest
	}
	if len(ev.Body) > base64.StdEncoding.EncodedLen(maxEventBody) {
		return nil, http.StatusRequestEntityTooLarge
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, http.StatusBadRequest
		}
	}
	if len(body) > maxEventBody {
		return nil, http.StatusRequestEntityTooLarge
	}
	u := &url.URL{Path: path, RawQuery: ev.RawQueryString}
	if p, err := url.PathUnescape(path); err != nil || p != path && strings.Contains(p, "/../") {
		return nil, http.StatusBadRequest
	}
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, http.StatusBadRequest
	}
	for k, v := range ev.Headers {
		r.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	r.Header.Del(sourceIPHeader)
	if ip := ev.RequestContext.HTTP.SourceIP; ip != "" {
		r.Header.Set(sourceIPHeader, ip)
	}
	r.Host = ev.RequestContext.DomainName
	r.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	return r, 0
}

// recorder is the ResponseWriter of one event.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *recorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}
