// Package webpush delivers push approval requests (package push) to a
// browser or PWA device by Web Push: RFC 8030 delivery, RFC 8291 message
// encryption and RFC 8292 VAPID, on github.com/SherClockHolmes/webpush-go.
// It is a module of its own, so only applications that use it have that
// library in their module graph.
//
//	pub, priv, err := webpush.GenerateKeys() // once; keep priv with your secrets
//	n, err := webpush.New(webpush.Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subscriber: "mailto:ops@example.com"})
//	pf, err := push.New(push.Config{Store: st, HashKey: hashKey, Notifier: n})
//
// The device subscribes with the VAPID public key as its
// applicationServerKey and sends the subscription (PushSubscription's
// toJSON) as the subscription field of its push.Registration. Its service
// worker receives the push.Request as JSON and shows it; the answer goes
// back signed, as from a polling device.
//
// # Security
//
// The request is encrypted end to end for the device's subscription keys;
// the push service sees neither the context nor the number choices. A
// subscription comes from the device, so its endpoint must be an https URL
// of an allowed push service (Config.Hosts): the server is never made to
// POST to an address a client chose. The message lives at the push service
// no longer than the request (its TTL), under one Topic, so a newer push
// replaces an undelivered older one. A 404 or 410 is ErrGone; every
// failure cancels the push (package push fails closed), and the device can
// still poll once it is paired without a subscription.
package webpush
