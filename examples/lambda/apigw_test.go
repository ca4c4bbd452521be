package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// echo answers with what the adapter built, so tests see the request.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Set-Cookie", "a=b")
	json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "ip": r.Header.Get(sourceIPHeader)})
})

// The adapter answers malformed events itself and never lets a client
// choose the source address.
func TestServeBadEvents(t *testing.T) {
	ok := httpEvent("GET", "/me", "", nil)
	for _, tc := range []struct {
		name string
		edit func(*events.APIGatewayV2HTTPRequest)
		want int
	}{
		{"fine", func(*events.APIGatewayV2HTTPRequest) {}, http.StatusOK},
		{"no method", func(e *events.APIGatewayV2HTTPRequest) { e.RequestContext.HTTP.Method = "" }, http.StatusBadRequest},
		{"no path", func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = "" }, http.StatusBadRequest},
		{"relative path", func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = "me" }, http.StatusBadRequest},
		{"bad escape", func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = "/%zz" }, http.StatusBadRequest},
		{"bad base64", func(e *events.APIGatewayV2HTTPRequest) { e.Body, e.IsBase64Encoded = "***", true }, http.StatusBadRequest},
		{"oversized body", func(e *events.APIGatewayV2HTTPRequest) { e.Body = string(make([]byte, 100<<10)) }, http.StatusRequestEntityTooLarge},
		{"bad method", func(e *events.APIGatewayV2HTTPRequest) { e.RequestContext.HTTP.Method = "G T" }, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := ok
			ev.Headers = map[string]string{sourceIPHeader: "198.51.100.1"}
			tc.edit(&ev)
			resp := serve(context.Background(), echo, ev)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, resp.Body)
			}
			if tc.want == http.StatusOK {
				var got map[string]string
				json.Unmarshal([]byte(resp.Body), &got)
				if got["ip"] != "203.0.113.9" || len(resp.Cookies) != 1 {
					t.Fatalf("request seen as %v, cookies %v: the source IP must be the gateway's", got, resp.Cookies)
				}
			}
		})
	}
}

// FuzzServe feeds arbitrary event JSON through the adapter: it never
// panics and always answers with a valid status.
func FuzzServe(f *testing.F) {
	seed, _ := json.Marshal(httpEvent("POST", "/signin", "tok", map[string]string{"user": "a"}))
	f.Add(seed)
	f.Add([]byte(`{"rawPath":"/x","requestContext":{"http":{"method":"GET"}},"body":"%%%","isBase64Encoded":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev events.APIGatewayV2HTTPRequest
		if json.Unmarshal(b, &ev) != nil {
			return
		}
		resp := serve(context.Background(), echo, ev)
		if resp.StatusCode < 200 || resp.StatusCode > 599 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
