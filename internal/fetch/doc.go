// Package fetch is the one HTTP client for everything prodcast fetches
// from the network: feeds being imported or validated and everything they
// name, webhooks, WebSub, pubnotify and Podping, transcription engines.
// Every request has timeouts, a size limit and a redirect limit.
//
// What comes from input (Input: a feed's URL and every URL it names, art
// and image URLs in notes) may not reach a private, loopback or
// link-local address, checked on the address actually dialled, after DNS,
// and again on every redirect. Endpoints the operator configured
// (Configured: notify targets, the transcription engine) may be private,
// but a redirect from them may not lead to a private address.
// PRODCAST_ALLOW_PRIVATE_FETCH=1 lifts the rule for input.
//
//	c := fetch.New(fetch.Options{Timeout: 30 * time.Second, MaxBytes: 16 << 20})
//	resp, err := c.Do(req, fetch.Input)
package fetch
