// Push approval (push.go). Two roles, chosen by the page:
//
//   - #device (/device): this browser is a paired device. Its ECDSA P-256
//     key is made here, non-extractable, and kept in IndexedDB; it signs
//     the pairing code, each poll and each answer. Where the browser has a
//     push service it also subscribes to Web Push (static/sw.js shows the
//     notification); it polls either way.
//   - #push-wait (the sign-in page): it asks the server until the
//     device's answer has arrived and been checked.
"use strict";

const enc = new TextEncoder();

function b64u(buf) {
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function postJSON(url, body) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, data: text ? JSON.parse(text) : null };
}

// ---- the device's key, in IndexedDB ----

function openDB() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("mfa-push-device", 1);
    req.onupgradeneeded = () => req.result.createObjectStore("device");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function dbDo(mode, f) {
  const db = await openDB();
  return new Promise((resolve, reject) => {
    const req = f(db.transaction("device", mode).objectStore("device"));
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

const loadDevice = () => dbDo("readonly", (s) => s.get("self"));
const saveDevice = (d) => dbDo("readwrite", (s) => s.put(d, "self"));

async function sign(key, lines) {
  const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, enc.encode(lines.join("\n")));
  return b64u(sig); // r||s, 64 bytes, as package push expects
}

// ---- the device page ----

function deviceStatus(text) {
  document.getElementById("device-status").textContent = text;
}

async function pair(code) {
  const name = document.getElementById("device-name").value.trim() || "Browser";
  // extractable: false: the private key cannot be read out of the browser.
  const kp = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const spki = await crypto.subtle.exportKey("spki", kp.publicKey);
  const pub = b64u(spki);
  const id = b64u(await crypto.subtle.digest("SHA-256", spki));
  const sig = await sign(kp.privateKey, ["mfa-push-pair/v1", code, pub]);
  const subscription = await subscribe();
  const r = await postJSON("/push/device/pair", { code, public_key: pub, name, subscription, sig });
  if (r.status !== 200) {
    deviceStatus(r.data && r.data.error ? r.data.error : "Pairing failed.");
    return;
  }
  await saveDevice({ id, name: r.data.name, key: kp.privateKey });
  history.replaceState(null, "", "/device");
  deviceStatus("Paired.");
  ready(await loadDevice());
}

// subscribe asks the browser's push service for a Web Push subscription,
// so a request can wake the device; without one (no service worker, no
// push service, permission refused) the page only polls.
async function subscribe() {
  const key = document.getElementById("device").dataset.vapid;
  if (!key || !("serviceWorker" in navigator) || !("PushManager" in window)) return undefined;
  try {
    const reg = await navigator.serviceWorker.register("/sw.js");
    await navigator.serviceWorker.ready;
    const raw = atob(key.replace(/-/g, "+").replace(/_/g, "/"));
    const appKey = Uint8Array.from(raw, (c) => c.charCodeAt(0));
    const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: appKey });
    return sub.toJSON();
  } catch (e) {
    return undefined;
  }
}

let shown = null; // the request on screen

function showRequest(dev, req) {
  shown = req.request_id;
  const when = new Date(req.time).toLocaleTimeString();
  const parts = [req.app, "at " + when, req.ip && "from " + req.ip, req.place, req.browser].filter(Boolean);
  document.getElementById("device-context").textContent = parts.join(", ");
  const box = document.getElementById("device-choices");
  box.replaceChildren();
  for (const n of req.choices) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "choice";
    b.textContent = String(n);
    b.addEventListener("click", () => answer(dev, req, n, "approve"));
    box.append(b);
  }
  document.getElementById("device-deny").onclick = () => answer(dev, req, 0, "deny");
  document.getElementById("device-request").hidden = false;
  deviceStatus("");
}

async function answer(dev, req, number, decision) {
  document.getElementById("device-request").hidden = true;
  shown = null;
  const time = Math.floor(Date.now() / 1000);
  const sig = await sign(dev.key, ["mfa-push-answer/v1", req.request_id, dev.id, String(number), decision, String(time)]);
  const r = await postJSON("/push/device/answer", { request_id: req.request_id, device_id: dev.id, number, decision, time, sig });
  if (r.status === 204) {
    deviceStatus(decision === "approve" ? "Answer sent: " + number + "." : "Denied. The sign-in was refused and reported.");
  } else {
    deviceStatus(r.data && r.data.error ? r.data.error : "The answer was refused.");
  }
}

async function poll(dev) {
  try {
    const time = Math.floor(Date.now() / 1000);
    const sig = await sign(dev.key, ["mfa-push-poll/v1", dev.id, String(time)]);
    const r = await postJSON("/push/device/poll", { device_id: dev.id, time, sig });
    if (r.status === 200 && r.data.request_id !== shown) showRequest(dev, r.data);
  } catch (e) {
    // The network or the server: ask again at the next tick.
  }
  setTimeout(() => poll(dev), 1000);
}

function ready(dev) {
  document.getElementById("device-pair").hidden = true;
  document.getElementById("device-ready").hidden = false;
  document.getElementById("device-label").textContent = dev.name;
  poll(dev);
}

async function devicePage() {
  const code = decodeURIComponent(location.hash.slice(1));
  const dev = await loadDevice();
  if (code) {
    document.getElementById("device-pair").hidden = false;
    document.getElementById("device-pair-button").addEventListener("click", () =>
      pair(code).catch((e) => deviceStatus("Pairing failed: " + e.message)));
    return;
  }
  if (dev) {
    ready(dev);
  } else {
    document.getElementById("device-none").hidden = false;
  }
}

// ---- the sign-in page ----

async function waitPage(el) {
  const status = document.getElementById("push-status");
  const body = { challenge_id: el.dataset.challenge, request_id: el.dataset.request, expires: Number(el.dataset.expires) };
  for (;;) {
    let r;
    try {
      r = await postJSON("/signin/push/status", body);
    } catch (e) {
      r = { data: { pending: true } };
    }
    if (r.data && r.data.redirect) {
      location.assign(r.data.redirect);
      return;
    }
    if (r.data && r.data.error) {
      status.textContent = r.data.error;
      status.className = "error";
      return;
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
}

if (document.getElementById("device")) {
  devicePage().catch((e) => deviceStatus("This browser cannot be a device: " + e.message));
}
const wait = document.getElementById("push-wait");
if (wait) waitPage(wait);
