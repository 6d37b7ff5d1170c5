// Package embedded runs the services `prodcast up` needs when none are
// configured: Redis from miniredis and an S3 server from versitygw's embedgw
// package on a posix backend. Both listen on loopback ports, so the rest of
// prodcast reaches them exactly as it reaches real Redis and MinIO.
//
//	svc, err := embedded.Start(ctx, "/abs/prodcast-data")
//	defer svc.Close()
//	// svc.RedisURL, svc.S3Endpoint, svc.AccessKey, svc.SecretKey
package embedded
