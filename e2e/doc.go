// Package e2e tests prodcast as users run it: the built binary, as separate
// role processes on the real Redis and MinIO that scripts/test.sh starts, and
// as `prodcast up` on its embedded services.
package e2e
