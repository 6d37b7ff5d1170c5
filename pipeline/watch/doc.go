// Package watch is the producer's side of prodcast: it watches DIR/drop with
// fsnotify plus a periodic rescan, waits until a bundle has stopped changing
// for the settle window, claims it with an atomic rename into
// DIR/processing, uploads its bytes to the bucket and enqueues its ingest.
// When the workers report the outcome, it moves the bundle to DIR/done or to
// DIR/failed/<bundle>/ with ERROR.txt.
//
//	w := &watch.Watcher{Dir: dir, Settle: 10 * time.Second, Store: st, Queue: q}
//	err := w.Run(ctx)
//
// Claiming by rename makes each bundle taken once, even with watchers on two
// machines sharing the folder: only one rename succeeds.
package watch
