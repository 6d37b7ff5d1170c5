// Package analytics counts listeners the way the IAB Tech Lab's Podcast
// Measurement Guidelines (v2.2) do, and names their apps with the OPAWG
// user-agent patterns (vendored in opawg/, MIT).
//
//	c := analytics.NewCounter(redisClient)
//	counted, err := c.Record(ctx, analytics.Hit{Show: "", Episode: "ep", IP: ip, UA: ua, Bytes: 512000, Size: size, Duration: 3600, At: now})
//	days, err := c.Days(ctx, "", from, to)
package analytics
