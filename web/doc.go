// Package web serves what listeners and readers fetch: the feed, the blog
// pages and the media, all read from the bucket's public/ prefix through
// minio-go, plus /healthz, /metrics, and the desk (/admin/) and pitch
// forms (/pitch/) of package desk when it is given one.
//
//	dk, _ := desk.New(desk.Config{Data: dir, Store: st})
//	h := web.New(web.Config{Store: st, Redis: redisOpt, Desk: dk})
//	http.ListenAndServe(addr, h)
package web
