package analytics

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// LogHit is one request as a server's access log tells it.
type LogHit struct {
	Key    string // the object key, under public/
	Method string
	Status int
	Bytes  int64 // body bytes sent
	Size   int64 // the object's length, when the log says (S3); else 0
	IP     netip.Addr
	UA     string
	At     time.Time
}

var combined = regexp.MustCompile(`^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+)[^"]*" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"`)

// ParseCombined reads one line of an nginx or Apache combined log, whose
// paths are those of prodcast's routes (the bucket's public/ prefix).
func ParseCombined(line string) (LogHit, bool) {
	m := combined.FindStringSubmatch(line)
	if m == nil {
		return LogHit{}, false
	}
	at, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[2])
	ip, ierr := netip.ParseAddr(m[1])
	if err != nil || ierr != nil {
		return LogHit{}, false
	}
	path, _, _ := strings.Cut(m[4], "?")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	status, _ := strconv.Atoi(m[5])
	bytes, _ := strconv.ParseInt(m[6], 10, 64)
	return LogHit{Key: catalog.RootPublic + strings.TrimPrefix(path, "/"), Method: m[3], Status: status, Bytes: bytes,
		IP: ip.Unmap(), UA: noDash(m[7]), At: at.UTC()}, true
}

// fields splits a log line at spaces, keeping [bracketed] and "quoted"
// fields whole (without their marks).
func fields(line string) []string {
	var out []string
	for i := 0; i < len(line); {
		switch line[i] {
		case ' ':
			i++
		case '"', '[':
			end := byte('"')
			if line[i] == '[' {
				end = ']'
			}
			j := strings.IndexByte(line[i+1:], end)
			if j < 0 {
				return append(out, line[i+1:])
			}
			out = append(out, line[i+1:i+1+j])
			i += j + 2
		default:
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				return append(out, line[i:])
			}
			out = append(out, line[i:i+j])
			i += j
		}
	}
	return out
}

// ParseS3 reads one line of an S3 server access log (the AWS format, which
// MinIO also writes).
func ParseS3(line string) (LogHit, bool) {
	f := fields(line)
	if len(f) < 17 {
		return LogHit{}, false
	}
	at, err := time.Parse("02/Jan/2006:15:04:05 -0700", f[2])
	ip, ierr := netip.ParseAddr(f[3])
	if err != nil || ierr != nil {
		return LogHit{}, false
	}
	method := ""
	switch f[6] {
	case "REST.GET.OBJECT":
		method = "GET"
	case "REST.HEAD.OBJECT":
		method = "HEAD"
	default:
		return LogHit{}, false
	}
	key, err := url.QueryUnescape(f[7])
	if err != nil {
		key = f[7]
	}
	status, _ := strconv.Atoi(f[9])
	bytes, _ := strconv.ParseInt(f[11], 10, 64)
	size, _ := strconv.ParseInt(f[12], 10, 64)
	return LogHit{Key: key, Method: method, Status: status, Bytes: bytes, Size: size, IP: ip.Unmap(), UA: noDash(f[16]), At: at.UTC()}, true
}

// noDash reads the "-" logs write for a header a request did not send.
func noDash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// EpisodeAudio names the show and episode of a public key that is an
// episode's audio (public/media/<slug>/… or public/<show>/media/<slug>/…),
// and not art.
func EpisodeAudio(key string) (show, slug string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(key, catalog.RootPublic), "/")
	if !strings.HasPrefix(key, catalog.RootPublic) {
		return "", "", false
	}
	if len(parts) >= 4 && parts[1] == "media" && catalog.CheckShowName(parts[0]) == nil {
		show, parts = parts[0], parts[1:]
	}
	if len(parts) != 3 || parts[0] != "media" || parts[1] == "art" {
		return "", "", false
	}
	switch strings.ToLower(parts[2][strings.LastIndexByte(parts[2], '.')+1:]) {
	case "mp3", "m4a", "opus", "ogg", "aac":
		return show, parts[1], true
	}
	return "", "", false
}

// Ingester counts downloads from access logs, with the rules serve counts
// by, for media a CDN or the bucket itself served.
type Ingester struct {
	Counter *Counter
	Store   interface {
		catalog.Store
		Stat(ctx context.Context, key string) (pipeline.Object, error)
	}
	Show string // only this show's episodes; "*" for all

	objects map[string]pipeline.Object
	pubs    map[string]map[string]time.Time // show -> slug -> publish time
	days    map[[2]string]bool              // (show, day) loaded from the bucket
}

// IngestedKey marks a log file (by its content) as counted.
func IngestedKey(sum string) string { return catalog.RootPrivate + "stats/ingested/" + sum }

// Ingest counts one log file; a file counted before (the same bytes)
// counts nothing. It reports the downloads counted.
func (g *Ingester) Ingest(ctx context.Context, r io.Reader, parse func(string) (LogHit, bool)) (int, bool, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return 0, false, err
	}
	sum := sha256.Sum256(data)
	marker := IngestedKey(hex.EncodeToString(sum[:]))
	if _, err := g.Store.Stat(ctx, marker); err == nil {
		return 0, true, nil
	} else if !errors.Is(err, pipeline.ErrNotFound) {
		return 0, false, err
	}
	if g.objects == nil {
		g.objects, g.pubs, g.days = map[string]pipeline.Object{}, map[string]map[string]time.Time{}, map[[2]string]bool{}
	}
	n := 0
	touched := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		h, ok := parse(sc.Text())
		if !ok || h.Method != "GET" || (h.Status != 200 && h.Status != 206) {
			continue
		}
		show, slug, ok := EpisodeAudio(h.Key)
		if !ok || (g.Show != "*" && show != g.Show) {
			continue
		}
		counted, err := g.count(ctx, show, slug, h)
		if err != nil {
			return n, false, fmt.Errorf("line %q: %w", sc.Text(), err)
		}
		if counted {
			n++
		}
		touched[day(h.At)] = true
	}
	for d := range touched {
		if err := g.Counter.Flush(ctx, g.Store, d); err != nil {
			return n, false, err
		}
	}
	return n, false, g.Store.PutBytes(ctx, marker, []byte(time.Now().UTC().Format(time.RFC3339)), pipeline.Put{ContentType: "text/plain"})
}

func (g *Ingester) count(ctx context.Context, show, slug string, h LogHit) (bool, error) {
	o, ok := g.objects[h.Key]
	if !ok {
		var err error
		if o, err = g.Store.Stat(ctx, h.Key); err != nil && !errors.Is(err, pipeline.ErrNotFound) {
			return false, err
		}
		g.objects[h.Key] = o
	}
	if o.Size == 0 {
		o.Size = h.Size
	}
	pub, err := g.published(ctx, show, slug)
	if err != nil {
		return false, err
	}
	if pub.IsZero() || h.At.Before(pub) {
		return false, nil // not an episode, or a request before its publish time
	}
	if err := g.loadDay(ctx, show, day(h.At)); err != nil {
		return false, err
	}
	counted, _, err := g.Counter.Record(ctx, Hit{Show: show, Episode: slug, IP: h.IP, UA: h.UA, Bytes: h.Bytes,
		Size: o.Size, Duration: o.Duration, At: h.At})
	return counted, err
}

func (g *Ingester) published(ctx context.Context, show, slug string) (time.Time, error) {
	if _, ok := g.pubs[show]; !ok {
		eps, err := catalog.ForShow(g.Store, show).Manifests(ctx)
		if err != nil {
			return time.Time{}, err
		}
		g.pubs[show] = map[string]time.Time{}
		for _, m := range eps {
			g.pubs[show][m.Slug] = m.PubDate()
		}
	}
	return g.pubs[show][slug], nil
}

// loadDay brings a past day's counts back from the bucket into Redis
// before log hits are added to it, so the flush after does not write over
// what was counted before.
func (g *Ingester) loadDay(ctx context.Context, show, d string) error {
	if g.days[[2]string{show, d}] {
		return nil
	}
	g.days[[2]string{show, d}] = true
	if n, err := g.Counter.rdb.Exists(ctx, dayKey(show, d)).Result(); err != nil || n == 1 {
		return err
	}
	data, err := g.Store.Get(ctx, StatsKey(show, d))
	if errors.Is(err, pipeline.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var counts []Count
	if err := json.Unmarshal(data, &counts); err != nil {
		return err
	}
	for _, c := range counts {
		field := strings.Join([]string{c.Episode, c.App, c.Category}, "\t")
		if err := g.Counter.rdb.HIncrBy(ctx, dayKey(show, d), field, c.N).Err(); err != nil {
			return err
		}
	}
	return g.Counter.rdb.Expire(ctx, dayKey(show, d), 240*time.Hour).Err()
}
