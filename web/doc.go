// Package web serves what listeners and readers fetch: the feed, the blog
// pages and the media, all read from the bucket's public/ prefix through
// minio-go, plus /healthz, /metrics, and the desk (/admin/) and pitch
// forms (/pitch/) of package desk when it is given one.
//
//	dk, _ := desk.New(desk.Config{Data: dir, Store: st})
//	srv := web.NewServer(web.Config{Store: st, Redis: redisOpt, Desk: dk})
//	ln, _ := net.Listen("tcp", addr)
//	go srv.Serve(ln)
//	...
//	srv.Shutdown(ctx)
//
// The server's front answers GET and HEAD of the public objects kept in
// memory on the connection itself and hands every connection to net/http
// at its first other request (front.go); New returns the handler alone,
// for net/http's server or httptest.
package web
