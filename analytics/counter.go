package analytics

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Hit is one answered request for an episode's audio.
type Hit struct {
	Show     string     // "" for the root show
	Episode  string     // the episode's slug
	IP       netip.Addr // the listener's address (never stored)
	UA       string     // the User-Agent
	Bytes    int64      // bytes sent in this answer
	Size     int64      // the whole file's length
	Duration float64    // the file's length in seconds; 0 if unknown
	At       time.Time
}

// Counter counts downloads in Redis, shared by every serve process.
type Counter struct {
	rdb redis.UniversalClient

	mu    sync.Mutex
	salts map[string][]byte // by day, as read from Redis
}

// NewCounter counts in rdb.
func NewCounter(rdb redis.UniversalClient) *Counter {
	return &Counter{rdb: rdb, salts: map[string][]byte{}}
}

// MinuteOfAudio is how much of a file a listener must receive for a
// download to count, in the IAB's words "one minute of audio": 60 s at
// the file's average bitrate, or the whole file if it is shorter. Without
// a known duration, 128 kbit/s is assumed.
func MinuteOfAudio(size int64, duration float64) int64 {
	perSecond := 16000.0
	if duration > 0 {
		perSecond = float64(size) / duration
	}
	return min(size, int64(60*perSecond))
}

// listenerKey keys a listener: a hash of its address (an IPv6 address cut
// to its /64) and User-Agent with the day's secret salt. The salt lives in
// Redis for two days, then the hashes can no longer be tied to anyone.
func listenerKey(salt []byte, ip netip.Addr, ua string) string {
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		ip = p.Addr()
	}
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(ip.Unmap().String() + "\x00" + ua))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// salt returns the secret salt of a day, making it if it is the first use;
// each process keeps the two days' salts it read.
func (c *Counter) salt(ctx context.Context, d string) ([]byte, error) {
	c.mu.Lock()
	s, ok := c.salts[d]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	key := "prodcast:stats:salt:" + d
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if _, err := c.rdb.SetNX(ctx, key, hex.EncodeToString(b), 49*time.Hour).Result(); err != nil {
		return nil, err
	}
	v, err := c.rdb.Get(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.salts) >= 2 {
		clear(c.salts) // only today's and yesterday's are used: an older one must not outlive Redis's copy
	}
	c.salts[d] = []byte(v)
	c.mu.Unlock()
	return []byte(v), nil
}

var record = redis.NewScript(`
local b = redis.call("HINCRBY", KEYS[1], "b", ARGV[1])
if b == tonumber(ARGV[1]) then redis.call("PEXPIRE", KEYS[1], ARGV[3]) end
if b >= tonumber(ARGV[2]) and redis.call("HSETNX", KEYS[1], "c", 1) == 1 then
  redis.call("HINCRBY", KEYS[2], ARGV[4], 1)
  redis.call("EXPIRE", KEYS[2], 864000)
  return 1
end
return 0`)

// Record adds a hit to its listener's 24-hour window and reports whether
// it made a download: the first time the window's bytes reach a minute of
// audio. Bots (by OPAWG, and any request without a User-Agent) never
// count, nor do answers of 2 bytes or fewer (players probing).
func (c *Counter) Record(ctx context.Context, h Hit) (counted bool, client Client, err error) {
	client = Classify(h.UA)
	if client.Kind == "bot" || h.Bytes <= 2 || h.Size <= 0 {
		return false, client, nil
	}
	today, yesterday := day(h.At), day(h.At.Add(-24*time.Hour))
	window := ""
	// A window opened yesterday, under yesterday's salt, still runs.
	for _, d := range []string{yesterday, today} {
		salt, err := c.salt(ctx, d)
		if err != nil {
			return false, client, fmt.Errorf("cannot count: %w", err)
		}
		key := "prodcast:stats:w:" + h.Show + ":" + h.Episode + ":" + listenerKey(salt, h.IP, h.UA)
		if d == today {
			window = key
			break
		}
		if n, err := c.rdb.Exists(ctx, key).Result(); err == nil && n == 1 {
			window = key
			break
		}
	}
	field := strings.Join([]string{h.Episode, orUnknown(client.Name), orUnknown(client.Category)}, "\t")
	n, err := record.Run(ctx, c.rdb, []string{window, dayKey(h.Show, today)},
		h.Bytes, MinuteOfAudio(h.Size, h.Duration), (24 * time.Hour).Milliseconds(), field).Int()
	if err != nil {
		return false, client, fmt.Errorf("cannot count: %w", err)
	}
	return n == 1, client, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func dayKey(show, d string) string { return "prodcast:stats:d:" + show + ":" + d }

// Count is the downloads of one episode on one day by one app on one kind
// of device.
type Count struct {
	Episode  string `json:"episode"`
	App      string `json:"app"`
	Category string `json:"device"`
	N        int64  `json:"n"`
}

// Day reads the counts of a show's day from Redis; nil if Redis has none.
func (c *Counter) Day(ctx context.Context, show string, d string) ([]Count, error) {
	m, err := c.rdb.HGetAll(ctx, dayKey(show, d)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var out []Count
	for field, v := range m {
		parts := strings.Split(field, "\t")
		n, _ := strconv.ParseInt(v, 10, 64)
		if len(parts) == 3 {
			out = append(out, Count{Episode: parts[0], App: parts[1], Category: parts[2], N: n})
		}
	}
	return out, nil
}

// ShowsWithCounts lists the shows that have counts in Redis for a day.
func (c *Counter) ShowsWithCounts(ctx context.Context, d string) ([]string, error) {
	var out []string
	iter := c.rdb.Scan(ctx, 0, "prodcast:stats:d:*:"+d, 100).Iterator()
	for iter.Next(ctx) {
		k := strings.TrimSuffix(strings.TrimPrefix(iter.Val(), "prodcast:stats:d:"), ":"+d)
		out = append(out, k)
	}
	return out, iter.Err()
}

// Ranked is one name and its count.
type Ranked struct {
	Name string
	N    int64
}

// Rank orders counts by name, most first (ties by name).
func Rank(counts map[string]int64) []Ranked {
	out := make([]Ranked, 0, len(counts))
	for k, v := range counts {
		out = append(out, Ranked{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N > out[j].N || (out[i].N == out[j].N && out[i].Name < out[j].Name) })
	return out
}
