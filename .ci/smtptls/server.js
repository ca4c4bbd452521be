// A TLS-capable SMTP test server for the smtpsender integration test, on
// nodemailer's smtp-server (the version .ci/run pins): STARTTLS on one
// loopback port, implicit TLS on another, one certificate for both, and
// AUTH PLAIN or LOGIN only once the connection is encrypted. Each message
// that arrives is written to the inbox directory as one JSON file:
// envelope, whether TLS was on, the authenticated user and the raw data.
//
// Environment: SMTPTLS_CERT, SMTPTLS_KEY (PEM files), SMTPTLS_STARTTLS_PORT,
// SMTPTLS_TLS_PORT, SMTPTLS_INBOX (a directory), SMTPTLS_USER,
// SMTPTLS_PASS.
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { SMTPServer } = require("smtp-server");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`smtptls: ${name} is not set`);
  return v;
};
const cert = fs.readFileSync(env("SMTPTLS_CERT"));
const key = fs.readFileSync(env("SMTPTLS_KEY"));
const inbox = env("SMTPTLS_INBOX");
const user = env("SMTPTLS_USER");
const pass = env("SMTPTLS_PASS");

function options(secure) {
  return {
    secure,
    key,
    cert,
    minVersion: "TLSv1.2",
    authMethods: ["PLAIN", "LOGIN"],
    size: 1 << 20,
    onAuth(auth, session, done) {
      if (auth.username === user && auth.password === pass) return done(null, { user });
      return done(new Error("invalid credentials"));
    },
    onData(stream, session, done) {
      const chunks = [];
      stream.on("data", (c) => chunks.push(c));
      stream.on("end", () => {
        const msg = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          user: session.user || "",
          data: Buffer.concat(chunks).toString("utf8"),
        };
        // Written aside and renamed, so a reader never sees half a file.
        const name = `${Date.now()}-${crypto.randomBytes(6).toString("hex")}.json`;
        const tmp = path.join(inbox, `.${name}`);
        fs.writeFileSync(tmp, JSON.stringify(msg));
        fs.renameSync(tmp, path.join(inbox, name));
        done();
      });
    },
  };
}

for (const [secure, port] of [[false, env("SMTPTLS_STARTTLS_PORT")], [true, env("SMTPTLS_TLS_PORT")]]) {
  const server = new SMTPServer(options(secure));
  server.on("error", (err) => console.error(`smtptls: ${err.message}`));
  server.listen(Number(port), "127.0.0.1");
}
