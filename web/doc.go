// Package web serves what listeners and readers fetch: the feed, the blog
// pages and the media, all read from the bucket's public/ prefix through
// minio-go, plus /healthz, /metrics and the queue dashboard at /admin/.
//
//	h := web.New(web.Config{Store: st, Redis: redisOpt, AdminPassword: pw})
//	http.ListenAndServe(addr, h)
package web
