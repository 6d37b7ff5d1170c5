// Package desk is the producer's desk at /admin/ and the guest's door at
// /pitch/: accounts (DIR/users.json, argon2id), sessions and CSRF tokens,
// the episodes with their encode progress, notes edited as notes-only
// drops, failed bundles and their retry, resumable uploads over tus that
// reach a show's drop/ only once whole, and the pitches guests send.
//
//	d, err := desk.New(desk.Config{Data: dir, Store: st, Queue: q, Client: rdb})
//	defer d.Close()
//	go d.Run(ctx) // sweeps uploads abandoned for a day
//	mux.Handle("/admin/", d.Admin(nil))
//	mux.Handle("/pitch/", d.Pitch())
package desk
