package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/analytics"
	"github.com/prodcast/prodcast/desk"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/s3"
	"github.com/prodcast/prodcast/pipeline/watch"
	"github.com/prodcast/prodcast/web"
	"github.com/prodcast/prodcast/workers"
)

// services are the connections a role needs.
type services struct {
	redis asynq.RedisConnOpt
	store *s3.Store
}

func (m *Main) connect(ctx context.Context, needRedis, needS3 bool) (*services, error) {
	var svc services
	if needRedis {
		opt, err := m.Config.redisOpt()
		if err != nil {
			return nil, err
		}
		rc := opt.MakeRedisClient().(redis.UniversalClient)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = rc.Ping(pctx).Err()
		cancel()
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("cannot reach Redis at %s (is it running? check PRODCAST_REDIS_URL): %w", m.Config.RedisURL, err)
		}
		svc.redis = opt
	}
	if needS3 {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		st, err := s3.Open(sctx, m.Config.s3Config())
		if err != nil {
			return nil, err
		}
		svc.store = st
	}
	return &svc, nil
}

func (m *Main) runWorker(ctx context.Context, args []string) error {
	if err := m.Config.requireServices(true, true); err != nil {
		return err
	}
	if err := ffmpeg.Check(); err != nil {
		return err
	}
	svc, err := m.connect(ctx, true, true)
	if err != nil {
		return err
	}
	stop, err := m.serveMetrics(ctx, "worker", svc)
	if err != nil {
		return err
	}
	defer stop()
	return m.worker(ctx, svc)
}

func (m *Main) worker(ctx context.Context, svc *services) error {
	m.watchMachine(ctx)
	client := asynq.NewClient(svc.redis)
	defer client.Close()
	rc := svc.redis.MakeRedisClient().(redis.UniversalClient)
	defer rc.Close()
	h := &workers.Handlers{
		Store:   svc.store,
		Client:  client,
		Locker:  workers.RedisLocker{Client: rc},
		BaseURL: m.Config.BaseURL,
		Log:     slog.Default().With("role", "worker"),
		Changed: func(ctx context.Context, show string) {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			if err := rc.Publish(ctx, web.ChangesChannel(m.Config.S3Bucket), show).Err(); err != nil {
				slog.Warn("cannot tell the web servers of a rebuild; they notice within seconds", "show", show, "err", err)
			}
		},
		ServeGrace: web.CacheFresh + time.Second,
		SplitOver:  m.Config.SplitOver,
		Faults:     &workers.Faults{Redis: rc, Role: "worker"},
	}
	if h.SplitOver == 0 {
		h.SplitOver = -1 // never
	}
	return workers.Run(ctx, svc.redis, h, workers.ServerConfig{
		Concurrency: m.Config.Concurrency, ShutdownTimeout: m.Config.ShutdownTimeout})
}

// followChanges passes the workers' news of rebuilds on to the web
// server, until ctx ends. go-redis subscribes again after a lost
// connection; what is missed meanwhile, the cache's freshness bounds.
func followChanges(ctx context.Context, rdb redis.UniversalClient, channel string, changes chan<- struct{}) {
	defer close(changes) // the web server's follower ends with it
	sub := rdb.Subscribe(ctx, channel)
	defer sub.Close()
	msgs := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-msgs:
			if !ok {
				return
			}
			select {
			case changes <- struct{}{}:
			default: // one is already waiting: it covers this one
			}
		}
	}
}

// desk builds the producer's desk and the guest's door.
func (m *Main) desk(svc *services, rdb redis.UniversalClient, queue *workers.Client, https bool, log *slog.Logger) (*desk.Desk, error) {
	cfg := desk.Config{
		HTTPS:          https,
		Data:           m.Config.Data,
		Store:          svc.store,
		Redis:          svc.redis,
		Client:         rdb,
		BaseURL:        m.Config.BaseURL,
		LegacyPassword: m.Config.AdminPassword,
		UploadMaxSize:  m.Config.uploadMaxSize,
		ClientIP:       func(r *http.Request) netip.Addr { return web.ClientIP(r, m.Config.trustedProxies) },
		Log:            log.With("part", "desk"),
	}
	if queue != nil {
		cfg.Queue = queue
	}
	return desk.New(cfg)
}

// serveMetrics serves /metrics on --metrics-listen, for the production roles
// that have no web server of their own; it does nothing when that is empty.
// (`serve` and `up` serve their web server's metrics there, which include
// the queues'.)
func (m *Main) serveMetrics(ctx context.Context, role string, svc *services) (stop func(), err error) {
	rdb := svc.redis.MakeRedisClient().(redis.UniversalClient)
	checks := append([]web.Check{{Name: "storage", Run: svc.store.Ping}}, m.healthChecks(role, rdb)...)
	stopM, err := m.serveMetricsOf(role, promhttp.Handler(), web.Health(checks))
	if err != nil {
		rdb.Close()
		return nil, err
	}
	return func() { stopM(); rdb.Close() }, nil
}

// serveMetricsOf serves h as /metrics on --metrics-listen, if set, and
// health as its /healthz.
func (m *Main) serveMetricsOf(role string, h, health http.Handler) (stop func(), err error) {
	if m.Config.MetricsListen == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", m.Config.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for metrics (use another --metrics-listen): %w", m.Config.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	mux.Handle("GET /healthz", health)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	slog.Info("serving metrics", "role", role, "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

func (m *Main) runWatch(ctx context.Context, args []string) error {
	if err := m.Config.requireServices(true, true); err != nil {
		return err
	}
	svc, err := m.connect(ctx, true, true)
	if err != nil {
		return err
	}
	stop, err := m.serveMetrics(ctx, "watch", svc)
	if err != nil {
		return err
	}
	defer stop()
	return m.watch(ctx, svc)
}

func (m *Main) watch(ctx context.Context, svc *services) error {
	m.watchMachine(ctx)
	q := workers.NewClient(svc.redis)
	defer q.Close()
	rc := svc.redis.MakeRedisClient().(redis.UniversalClient)
	defer rc.Close()
	n := &watch.Network{
		Dir:    m.Config.Data,
		Settle: m.Config.Settle,
		Store:  svc.store,
		Queue:  q,
		Log:    slog.Default().With("role", "watch"),
		Faults: &workers.Faults{Redis: rc, Role: "watch"},
	}
	return n.Run(ctx)
}

func (m *Main) runServe(ctx context.Context, args []string) error {
	if err := m.Config.requireServices(false, true); err != nil {
		return err
	}
	svc, err := m.connect(ctx, m.Config.RedisURL != "", true)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (is another prodcast running? use --listen): %w", m.Config.Listen, err)
	}
	return m.serve(ctx, svc, ln)
}

func (m *Main) serve(ctx context.Context, svc *services, ln net.Listener) error {
	log := slog.Default().With("role", "serve")
	var counter *analytics.Counter
	var hits *analytics.Recorder
	var rdb redis.UniversalClient
	var queue *workers.Client
	if svc.redis != nil {
		rdb = svc.redis.MakeRedisClient().(redis.UniversalClient)
		defer rdb.Close()
		queue = workers.NewClient(svc.redis)
		defer queue.Close()
		counter = analytics.NewCounter(rdb)
		hits = analytics.NewRecorder(counter, 16384, log)
		hits.Counted = web.CountDownload
		// At stop: the server first, then the hits it queued, then the
		// last flush of the day's counts to the bucket.
		fctx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
		rctx, stopHits := context.WithCancel(context.WithoutCancel(ctx))
		flushed, recorded := make(chan struct{}), make(chan struct{})
		go func() { hits.Run(rctx); close(recorded) }()
		go func() { counter.FlushEvery(fctx, svc.store, time.Minute, log); close(flushed) }()
		defer func() { stopHits(); <-recorded; stopFlush(); <-flushed }()
	} else {
		log.Warn("no PRODCAST_REDIS_URL: listener numbers are not counted, and the desk cannot queue work")
	}
	var changes chan struct{}
	if rdb != nil {
		changes = make(chan struct{}, 1)
		go followChanges(ctx, rdb, web.ChangesChannel(m.Config.S3Bucket), changes)
	}
	https := m.publicHTTPS(ctx, svc.store)
	m.watchMachine(ctx)
	role := "serve"
	if m.up {
		role = "up"
	}
	checks := m.healthChecks(role, rdb)
	dk, err := m.desk(svc, rdb, queue, https, log)
	if err != nil {
		return err
	}
	defer dk.Close()
	go dk.Run(ctx)
	srv := web.NewServer(web.Config{
		Store:          svc.store,
		Redis:          svc.redis,
		Desk:           dk,
		Changes:        changes,
		Log:            log,
		Hits:           hits,
		Counter:        counter,
		TrustedProxies: m.Config.trustedProxies,
		MediaCacheDir:  m.Config.MediaCacheDir,
		MediaCacheSize: m.Config.mediaCacheSize,
		MetricsToken:   m.Config.MetricsToken,
		HTTPS:          https,
		Checks:         checks,
	})
	stopMetrics, err := m.serveMetricsOf("serve", srv.Metrics(), web.Health(append([]web.Check{{Name: "storage", Run: svc.store.Ping}}, checks...)))
	if err != nil {
		return err
	}
	defer stopMetrics()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("serving", "role", "serve", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// publicHTTPS reports whether the public URL is https by any
// configuration: PRODCAST_BASE_URL, or the base_url of a show's show.yaml
// in the data folder or in the bucket. The web server then sends HSTS and
// the desk's cookies are Secure.
func (m *Main) publicHTTPS(ctx context.Context, st *s3.Store) bool {
	if strings.HasPrefix(m.Config.BaseURL, "https://") {
		return true
	}
	var yamls [][]byte
	local, _ := filepath.Glob(filepath.Join(m.Config.Data, "shows", "*", "show.yaml"))
	for _, p := range append([]string{filepath.Join(m.Config.Data, "show.yaml")}, local...) {
		if b, err := os.ReadFile(p); err == nil {
			yamls = append(yamls, b)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if shows, err := catalog.Shows(ctx, st); err == nil {
		for _, show := range shows {
			if b, err := st.Get(ctx, catalog.ForShow(st, show).Keys.ShowKey()); err == nil {
				yamls = append(yamls, b)
			}
		}
	}
	for _, b := range yamls {
		if base, err := parseBaseURL(b); err == nil && strings.HasPrefix(base, "https://") {
			return true
		}
	}
	return false
}
