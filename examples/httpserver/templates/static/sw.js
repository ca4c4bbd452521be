// The device's service worker: a Web Push (push.go) wakes it with the
// request, and it shows a notification that opens the device page, which
// fetches the request and offers the numbers.
"use strict";

self.addEventListener("push", (event) => {
  let req = {};
  try {
    req = event.data ? event.data.json() : {};
  } catch (e) {
    // Not ours: show the generic text.
  }
  const parts = [req.app, req.ip && "from " + req.ip, req.browser].filter(Boolean);
  event.waitUntil(self.registration.showNotification("Sign-in request", {
    body: parts.join(", ") || "Open to approve or deny.",
    tag: "mfa-push",
    requireInteraction: true,
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((list) => {
    for (const c of list) {
      if (new URL(c.url).pathname === "/device") return c.focus();
    }
    return self.clients.openWindow("/device");
  }));
});
