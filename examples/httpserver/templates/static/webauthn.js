// Security keys and passkeys: the only script of the example.
//
// A form marked data-webauthn="create" (add a key) or "get" (use a key)
// is not sent as typed. On submit this script asks the server for options
// (POST to the form's data-options URL, JSON back), hands them to
// navigator.credentials.create or .get, puts the browser's answer in the
// form's hidden "response" field (and the challenge's ID in
// "challenge_id"), and then sends the form: the server checks the answer
// and answers with a page, as for any other form.
"use strict";

(() => {
  // base64url without padding, as WebAuthn's JSON forms use.
  const toBytes = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  };
  const toB64url = (buf) => {
    let bin = "";
    for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  // The server sends the JSON form of the options; the browser API wants
  // bytes where the JSON has base64url strings.
  const creationOptions = (o) => ({
    ...o,
    challenge: toBytes(o.challenge),
    user: { ...o.user, id: toBytes(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
  });
  const requestOptions = (o) => ({
    ...o,
    challenge: toBytes(o.challenge),
    allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
  });

  // The credential as the JSON PublicKeyCredential.toJSON() gives, written
  // out so that older browsers work too.
  const credentialJSON = (cred) => {
    const r = cred.response;
    const out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: { clientDataJSON: toB64url(r.clientDataJSON) },
    };
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) out.response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify(out);
  };

  const explain = (err) => {
    switch (err && err.name) {
      case "NotAllowedError":
        return "The request was cancelled or timed out. Try again.";
      case "InvalidStateError":
        return "This key is already registered to your account.";
      case "SecurityError":
        return "The browser refused: open this site as http://localhost or over HTTPS.";
    }
    return (err && err.message) || "Something went wrong.";
  };

  const run = async (form) => {
    const status = form.querySelector(".webauthn-status");
    const say = (msg) => { if (status) status.textContent = msg; };
    say("Waiting for your security key or passkey…");
    const res = await fetch(form.dataset.options, {
      method: "POST",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const body = await res.json().catch(() => ({}));
    if (body.redirect) {
      location.assign(body.redirect);
      return;
    }
    if (!res.ok || !body.publicKey) throw new Error(body.error || "The server refused the request.");
    const cred = form.dataset.webauthn === "create"
      ? await navigator.credentials.create({ publicKey: creationOptions(body.publicKey) })
      : await navigator.credentials.get({ publicKey: requestOptions(body.publicKey) });
    form.elements.challenge_id.value = body.challengeId;
    form.elements.response.value = credentialJSON(cred);
    say("Checking…");
    form.submit(); // a plain submission: no submit event, so no loop
  };

  document.addEventListener("DOMContentLoaded", () => {
    const forms = document.querySelectorAll("form[data-webauthn]");
    if (!window.PublicKeyCredential) {
      for (const f of forms) f.hidden = true;
      return;
    }
    for (const form of forms) {
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const button = form.querySelector("button");
        if (button) button.disabled = true;
        run(form).catch((err) => {
          const status = form.querySelector(".webauthn-status");
          if (status) status.textContent = explain(err);
          if (button) button.disabled = false;
        });
      });
    }
  });
})();
