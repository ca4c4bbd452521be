package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestPushEndpointsBadInput posts what a device or a script could send
// wrong to each push endpoint: every one is refused with a JSON error or
// no content, and none fails the server.
func TestPushEndpointsBadInput(t *testing.T) {
	_, srv, _ := startApp(t)
	bodies := []string{"", "{", "[]", `{"x":1}`, strings.Repeat("a", 9<<10),
		`{"request_id":"r","device_id":"d","number":12,"decision":"approve","time":1,"sig":"AA"}`,
		`{"code":"a.b.c","public_key":"k","sig":"s"}`}
	for _, path := range []string{"/push/device/pair", "/push/device/poll", "/push/device/answer", "/signin/push/status"} {
		for _, body := range bodies {
			resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ok := resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden ||
				(path == "/signin/push/status" && resp.StatusCode == http.StatusOK) // no sign-in: sent home
			if !ok {
				t.Errorf("POST %s %.20q: %d", path, body, resp.StatusCode)
			}
		}
	}
	resp, err := http.Post(srv.URL+"/signin/push", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" {
		t.Errorf("a push without a sign-in in progress went to %s", resp.Request.URL.Path)
	}
}
