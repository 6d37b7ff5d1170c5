package web

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prodcast/prodcast/pipeline"
)

// How serve waits on the bucket: a kept object is checked with it for at
// most checkTimeout, an object not kept is opened in at most openTimeout,
// and while the bucket is down it is asked again every probeEvery by one
// ping, not by listeners' requests.
const (
	checkTimeout = 150 * time.Millisecond
	openTimeout  = 3 * time.Second
	probeEvery   = 2 * time.Second
)

// errStorageDown answers what is not kept while the bucket is down.
var errStorageDown = pipeline.Unavailable("S3", errors.New("the bucket did not answer; serve answers what it keeps and asks the bucket again every 2 s"))

// outage is what serve knows of the bucket's health, as a CDN's "serve
// stale": once a request to the bucket fails for want of an answer, what
// serve keeps (in memory and on disk) is answered without asking the
// bucket, what it does not keep gets 503 with Retry-After at once, and a
// ping every probeEvery finds when the bucket is back.
type outage struct {
	st   Store
	now  func() time.Time
	done <-chan struct{} // the server's end: the probe stops

	mu      sync.Mutex
	since   time.Time // zero while the bucket answers
	probing bool
}

// down reports whether the bucket is taken to be down.
func (o *outage) down() bool {
	if o == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.since.IsZero()
}

// failed records the error of a request to the bucket: one that says the
// bucket did not answer (not a missing object, not a listener gone) starts
// an outage and its probe.
func (o *outage) failed(ctx context.Context, err error) {
	if o == nil || err == nil || errors.Is(err, pipeline.ErrNotFound) || (ctx != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() {
		o.since = o.now()
	}
	if !o.probing {
		o.probing = true
		go o.probe()
	}
}

// check asks the bucket of key's object for at most checkTimeout, and
// starts an outage if it does not answer.
func (o *outage) check(ctx context.Context, st Store, key string) (pipeline.Object, error) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	info, err := st.Stat(ctx, key)
	o.failed(ctx, err)
	return info, err
}

// probe pings the bucket until it answers, then ends the outage.
func (o *outage) probe() {
	wait := probeEvery / 10 // the first soon: a single slow answer is no outage
	for {
		select {
		case <-o.done:
			o.mu.Lock()
			o.probing = false
			o.mu.Unlock()
			return
		case <-time.After(wait):
		}
		wait = probeEvery
		ctx, cancel := context.WithTimeout(context.Background(), probeEvery)
		err := o.st.Ping(ctx)
		cancel()
		if err == nil {
			o.mu.Lock()
			o.since, o.probing = time.Time{}, false
			o.mu.Unlock()
			return
		}
	}
}

// openQuickly opens key, giving up after openTimeout; the reader it returns
// is not bound by that time.
func openQuickly(ctx context.Context, st Store, key string) (pipeline.Reader, pipeline.Object, error) {
	ctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(openTimeout, cancel)
	r, info, err := st.OpenObject(ctx, key)
	if !timer.Stop() {
		if err == nil {
			r.Close()
		}
		cancel()
		return nil, pipeline.Object{}, pipeline.Unavailable("S3", context.DeadlineExceeded)
	}
	if err != nil {
		cancel()
		return nil, info, err
	}
	return &cancelReader{Reader: r, cancel: cancel}, info, nil
}

// cancelReader ends its context when it is closed.
type cancelReader struct {
	pipeline.Reader
	cancel context.CancelFunc
}

func (c *cancelReader) Close() error {
	err := c.Reader.Close()
	c.cancel()
	return err
}
