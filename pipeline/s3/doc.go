// Package s3 is prodcast's one path to storage: a bucket on any
// S3-compatible server (MinIO, AWS S3, or the embedded versitygw), through
// minio-go. It turns minio's errors into domain errors: NoSuchKey becomes
// pipeline.ErrNotFound.
//
//	st, err := s3.Open(ctx, s3.Config{Endpoint: "127.0.0.1:9000", ...})
//	err = st.PutBytes(ctx, "public/feed.xml", xml, s3.Put{ContentType: "application/rss+xml"})
package s3
