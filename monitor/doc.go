// Package monitor watches sign-ins for attacks and raises alerts: many
// accounts tried from one address (credential stuffing, password
// spraying), a user switching rapidly between factor kinds, a sign-in
// from a country or network the user has not used recently, impossible
// travel, and simultaneous sessions in different countries. It turns
// lockouts, replays, factor changes and recovery cases into alerts too,
// and its Guard makes the Verifier deny or ask for more when the risk is
// high.
//
//	mon, err := monitor.New(monitor.Config{
//		Store:   st,      // the store the Verifier uses, or any store.Signals
//		Locator: locator, // geo/maxmind, or your own geo.Locator
//		Alerts:  []monitor.AlertHook{monitor.SlogAlerts(logger), notifyAdmin},
//	})
//	v, err := mfa.New(mfa.Config{..., Guard: mon.Guard(), Hooks: []mfa.Hook{mon.Hook()}})
//	sessions, err := session.New(session.Config{..., Hooks: []session.Hook{mon.SessionHook()}})
//	recoveries, err := recovery.New(recovery.Config{..., Hooks: []recovery.Hook{mon.RecoveryHook()}})
//
// # How it works
//
// The detectors keep their state in the store ([store.Signals]): short,
// bounded, expiring lists of recent activity, per user (attempts, for
// Config.SwitchWindow; sign-ins, for Config.Lookback) and per address
// (attempts and sign-ins, for Config.SprayWindow). Every list holds at
// most its Keep records, whatever the flood, and every record expires,
// so an instance sees what every other instance saw and nothing grows
// without bound. Each record is a compact binary encoding of kind,
// address, place, session and times, within store.MaxSignalData; address
// lists name a user by 12 bytes of a SHA-256 of the ID, never the ID.
// Keys escape the user ID, so no ID names another user's list.
//
// The Guard appends the attempt and reads the user's sign-ins in one
// Observe call; the session hook appends the sign-in (and reads the
// user's attempts) in one more when a session starts. An alert is raised once per condition: each list comes
// back from the atomic append with the caller's own record in it (told
// apart by a random nonce), and only the caller whose record brings a
// count to its threshold raises the alert, on any number of instances.
// A record written by a clock that disagrees sorts where its time puts
// it; travel takes the time between two events in either direction.
//
// Addresses are read with net/netip. IPv4-mapped IPv6 is unmapped, so
// ::ffff:192.0.2.1 and 192.0.2.1 are one address; an IPv6 address counts
// toward spraying by its /64, the block one subscriber is given, so an
// attacker cannot stay under the threshold by moving within it. An empty
// or unparsable address (a header's comma-separated list, a name, an
// address with a port) is unknown: it has no address list and no place,
// and never fails an attempt by itself.
//
// # Security
//
// Detected: attempts for Config.SprayUsers (5) distinct users from one
// address within Config.SprayWindow (10 minutes) not followed by a
// sign-in of that user from there; Config.SwitchKinds (3) distinct kinds
// tried by one user within Config.SwitchWindow (5 minutes); a sign-in
// from a country or network not seen within Config.Lookback (90 days);
// a sign-in, or an attempt, farther from the user's previous sign-in
// than Config.MaxSpeed (1000 km/h) allows, distances taken as the least
// the places can be apart given their accuracy radii; a session started
// in one country while one started in another is live (not revoked,
// within Config.SessionLive, 1 hour).
//
// Not detected: anything the Locator cannot place (private and unlisted
// addresses, and every place when Config.Locator is nil); travel and new
// places between addresses the Locator places alike (a VPN, a proxy in
// the user's country); an attacker who spreads attempts over more
// addresses than the threshold, or slower than the window; a user's
// first sign-in (there is no history to differ from). The address is only
// as good as its source: read it with package clientip, never from a
// header the client controls, or every attempt may name any address (and
// when every request shows the proxy's address, one user's typos can
// flag everyone).
//
// Decisions fail closed: any error of the store, the Locator or the
// random source denies the attempt (ErrUnavailable), and refuses the
// session in the session hook. A record in the store that does not parse
// is such an error. The Guard denies an address flagged for spraying
// (ErrAddressFlagged) and, after impossible travel, any kind not in
// Config.PhishingResistant (ErrPhishingResistantRequired), so the
// application can ask for the security key; each has a switch to alert
// only. A user whose place jumps (a VPN switched on, a flight) needs a
// phishing-resistant factor until enough time has passed since the last
// sign-in for the distance to be possible: Paris to New York, about
// 5,800 km, takes just under 6 hours at the default speed.
//
// No denial depends on an alert being delivered: a failing alert hook is
// reported to Config.AlertErrors and changes nothing, so an attacker who
// can break the alert channel gains nothing, unless
// Config.DenyOnAlertError is set, which denies an attempt whose alert
// could not be delivered (and refuses what an event reports), trading
// availability for never acting unseen.
//
// Alerts carry identifiers, addresses, places and counts, never a secret,
// code, token or response. [NotifyAdmin] sends a fixed plain-text
// template whose subject holds no input; [Webhook] posts JSON, signed
// with HMAC-SHA256 when given a key; [AlertLog] keeps the latest alerts
// of every instance in the store, for an admin page.
//
// # Cost
//
// A verification with the Guard makes one more store round trip (one
// Observe, with up to three lists); an enrolment confirmation or a
// passkey sign-in that names no user makes one that only reads its
// address's list, and none when the address is unknown.
// [Monitor.Hook] and [Monitor.RecoveryHook] make none. An [AlertLog]
// makes one per alert, and one per [AlertLog.Recent]. A session's start, step-up and revocation make one each,
// after the verification. Alert hooks run synchronously: a slow webhook
// slows the request that raised the alert (each POST is bounded by
// WebhookTimeout).
package monitor
