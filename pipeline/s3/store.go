package s3

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/machine"
)

// Config names a bucket on an S3-compatible server.
type Config struct {
	Endpoint  string // host:port, or a URL whose scheme sets Secure
	AccessKey string
	SecretKey string
	Bucket    string
	Region    string
	Secure    bool
	// LocalDir, when the server keeps its objects on this machine (up's
	// embedded S3), is that folder: a server out of space there is a
	// full disk of this machine, named as such.
	LocalDir string
}

// Store is a bucket reached through minio-go.
type Store struct {
	client   *minio.Client
	bucket   string
	local    bool   // the server is on this machine (loopback): see PutFile
	localDir string // where it keeps its objects, when this machine's disk (Config.LocalDir)
}

// Object describes a stored object: the domain's type.
type Object = pipeline.Object

// Put holds the headers stored with an object: the domain's type.
type Put = pipeline.Put

// Open connects to the server and checks that the bucket exists, creating it
// if it does not.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	endpoint, secure := cfg.Endpoint, cfg.Secure
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot create S3 client for %q: %w", cfg.Endpoint, err)
	}
	s := &Store{client: client, bucket: cfg.Bucket, local: loopback(client.EndpointURL().Hostname()), localDir: cfg.LocalDir}
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("cannot reach S3 bucket %q at %s (check PRODCAST_S3_ENDPOINT and the keys): %w",
			s.bucket, s.client.EndpointURL(), err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil {
		var resp minio.ErrorResponse
		if errors.As(err, &resp) && (resp.Code == "BucketAlreadyOwnedByYou" || resp.Code == "BucketAlreadyExists") {
			return nil
		}
		return fmt.Errorf("cannot create S3 bucket %q: %w", s.bucket, err)
	}
	return nil
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// Ping checks that the bucket can be reached.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.client.BucketExists(ctx, s.bucket); err != nil {
		return s.wrap("reach bucket", s.bucket, err)
	}
	return nil
}

// PutReader uploads size bytes from r (size -1 if unknown) to key.
func (s *Store) PutReader(ctx context.Context, key string, r io.Reader, size int64, p Put) error {
	_, err := s.client.PutObject(ctx, s.bucket, key, r, size, putOptions(p))
	if err != nil {
		return s.wrap("upload", key, err)
	}
	return nil
}

// PutBytes uploads data to key.
func (s *Store) PutBytes(ctx context.Context, key string, data []byte, p Put) error {
	return s.PutReader(ctx, key, bytes.NewReader(data), int64(len(data)), p)
}

// PutFile uploads a local file to key, in parts if it is large: parts
// upload at once over a network. To a server on this machine (the
// embedded gateway, a MinIO beside the workers) they only add a copy, the
// server's joining them: there a file up to 5 GiB goes in one request.
func (s *Store) PutFile(ctx context.Context, key, path string, p Put) error {
	o := putOptions(p)
	if fi, err := os.Stat(path); err == nil && s.local && fi.Size() <= 5<<30 {
		o.DisableMultipart = true
	}
	if p.SHA256 == "" {
		if _, err := s.client.FPutObject(ctx, s.bucket, key, path, o); err != nil {
			return s.wrap("upload", key, err)
		}
		return nil
	}
	// Hashed as it is read for the upload, in order: the parts of a
	// multipart upload are read one after another from a plain reader.
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := s.client.PutObject(ctx, s.bucket, key, io.TeeReader(f, h), fi.Size(), o); err != nil {
		return s.wrap("upload", key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 {
		if err := s.Delete(ctx, key); err != nil {
			return err
		}
		return &pipeline.ChangedError{Path: path, Want: p.SHA256, Got: got}
	}
	return nil
}

// Get reads a whole (small) object.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return data, nil
}

// GetFile downloads an object to a local file.
func (s *Store) GetFile(ctx context.Context, key, path string) error {
	if err := s.client.FGetObject(ctx, s.bucket, key, path, minio.GetObjectOptions{}); err != nil {
		return s.wrap("download", key, err)
	}
	return nil
}

// Reader is an open object: it reads, seeks (with ranged GETs) and closes.
type Reader = pipeline.Reader

// OpenObject opens an object for streaming, and returns its description.
func (s *Store) OpenObject(ctx context.Context, key string) (Reader, Object, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Object{}, s.wrap("open", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, Object{}, s.wrap("open", key, err)
	}
	return obj, toObject(info), nil
}

// Stat describes an object.
func (s *Store) Stat(ctx context.Context, key string) (Object, error) {
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Object{}, s.wrap("stat", key, err)
	}
	return toObject(info), nil
}

// List describes every object under prefix, in key order.
func (s *Store) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	for info := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			return nil, s.wrap("list", prefix, info.Err)
		}
		out = append(out, toObject(info))
	}
	return out, nil
}

// Dirs lists the names of the "folders" right under prefix (the common
// prefixes up to the next "/"), without listing what is in them.
func (s *Store) Dirs(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for info := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: false}) {
		if info.Err != nil {
			return nil, s.wrap("list", prefix, info.Err)
		}
		if name, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, prefix), "/"); ok && name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// GetFileSHA256 downloads an object to a local file, streaming, and
// returns the SHA-256 and length of what it wrote.
func (s *Store) GetFileSHA256(ctx context.Context, key, path string) (string, int64, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", 0, s.wrap("read", key, err)
	}
	defer obj.Close()
	f, err := os.Create(path)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), obj)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, s.wrap("download", key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Copy copies an object within the bucket, server-side.
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	_, err := s.client.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: dst},
		minio.CopySrcOptions{Bucket: s.bucket, Object: src})
	if err != nil {
		return s.wrap("copy to "+dst, src, err)
	}
	return nil
}

// Delete removes an object; a missing object is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if err := s.wrap("delete", key, err); !errors.Is(err, pipeline.ErrNotFound) {
			return err
		}
	}
	return nil
}

// DeletePrefix removes every object under prefix.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	objs, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}

// PresignGet returns a URL that reads key without credentials for ttl, so
// ffmpeg and ffprobe can stream an object.
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, nil)
	if err != nil {
		return "", fmt.Errorf("cannot presign %q: %w", key, err)
	}
	return u.String(), nil
}

// wrap turns minio-go's errors into the domain's: a missing object is
// pipeline.ErrNotFound, a server that does not answer (or answers 5xx, as
// MinIO does while it starts) is pipeline.ErrUnavailable.
func (s *Store) wrap(verb, key string, err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == "NoSuchKey" || resp.Code == "NotFound" || resp.StatusCode == 404 {
		return fmt.Errorf("cannot %s %q: %w", verb, key, pipeline.ErrNotFound)
	}
	if full := storageFull(err, resp); full && s.localDir != "" {
		free, _ := machine.Free(s.localDir)
		return fmt.Errorf("cannot %s %q: %w", verb, key, &pipeline.MachineError{Kind: pipeline.FaultDiskFull, Path: s.localDir,
			What: "the embedded S3's objects, in the data folder", Free: free, Err: err})
	} else if full {
		return fmt.Errorf("cannot %s %q: %w", verb, key, pipeline.Unavailable("S3", fmt.Errorf("the S3 server says its storage is full (%s): %w", resp.Code, err)))
	}
	if resp.StatusCode == 0 {
		// Not the server's answer: this machine's own files (a download's
		// copy on a full disk) are named as this machine's.
		if merr := machine.Classify(err, "", ""); pipeline.IsMachine(merr) {
			return fmt.Errorf("cannot %s %q: %w", verb, key, merr)
		}
	}
	if resp.Code == "RequestTimeTooSkewed" {
		return fmt.Errorf("cannot %s %q: %w", verb, key, &pipeline.MachineError{Kind: pipeline.FaultClock, Err: err,
			Problem: "S3 refuses the requests because this machine's clock is off the storage's by more than it allows (15 minutes)",
			Fix:     "set the clock (enable NTP: timedatectl set-ntp true); the work resumes by itself"})
	}
	if unavailable(err, resp) {
		return fmt.Errorf("cannot %s %q: %w", verb, key, pipeline.Unavailable("S3", err))
	}
	return fmt.Errorf("cannot %s %q: %w", verb, key, err)
}

// storageFull reports whether the server says it has no room: S3's
// InsufficientStorage, MinIO's XMinioStorageFull, or a server's own
// "no space left on device".
func storageFull(err error, resp minio.ErrorResponse) bool {
	if resp.Code == "InsufficientStorage" || resp.Code == "XMinioStorageFull" || resp.StatusCode == http.StatusInsufficientStorage {
		return true
	}
	return resp.StatusCode >= 500 && strings.Contains(strings.ToLower(resp.Message+" "+err.Error()), "no space left")
}

// loopback says whether host is this machine.
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// unavailable reports whether err says the server did not answer, rather
// than that it refused the request.
func unavailable(err error, resp minio.ErrorResponse) bool {
	if resp.StatusCode >= 500 || resp.Code == "SlowDown" || resp.Code == "XMinioServerNotInitialized" {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

// statusMeta is the user metadata that holds an object's HTTP status.
const statusMeta = "Prodcast-Status"

// putOptions sets the headers stored with an object. A page's status is
// always written, 200 too: some S3 servers (versitygw's posix backend) keep
// the user metadata of the object a PUT replaces, and a republished page
// must not keep its 410.
func putOptions(p Put) minio.PutObjectOptions {
	// No SHA-256 of the payload for the signature (minio-go's streaming
	// signature on a plain-HTTP endpoint): it hashed every byte twice, here
	// and in the server, for what the checksum minio-go sends already
	// guards; and every original is checked against its own SHA-256 when a
	// worker fetches it.
	o := minio.PutObjectOptions{ContentType: p.ContentType, CacheControl: p.CacheControl, DisableContentSha256: true}
	if strings.HasPrefix(p.ContentType, "text/html") || p.Status != 0 {
		o.UserMetadata = map[string]string{statusMeta: strconv.Itoa(cmp.Or(p.Status, 200))}
	}
	if p.Duration > 0 {
		o.UserMetadata = map[string]string{durationMeta: strconv.FormatFloat(p.Duration, 'f', 3, 64)}
	}
	return o
}

// durationMeta is the user metadata that holds a media file's length.
const durationMeta = "Prodcast-Duration"

func toObject(info minio.ObjectInfo) Object {
	status, _ := strconv.Atoi(info.Metadata.Get("X-Amz-Meta-" + statusMeta))
	duration, _ := strconv.ParseFloat(info.Metadata.Get("X-Amz-Meta-"+durationMeta), 64)
	return Object{
		Status:       status,
		Duration:     duration,
		Key:          info.Key,
		Size:         info.Size,
		ETag:         strings.Trim(info.ETag, `"`),
		ContentType:  info.ContentType,
		CacheControl: info.Metadata.Get("Cache-Control"),
		LastModified: info.LastModified,
	}
}
