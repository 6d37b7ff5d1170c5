package ffmpeg

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
)

// Art limits, from Apple Podcasts' requirements.
const (
	ArtMin = 1400
	ArtMax = 3000
)

// ImageInfo is what ffprobe reports about cover art.
type ImageInfo struct {
	Codec  string // mjpeg or png
	Width  int
	Height int
	PixFmt string // e.g. yuvj420p, rgb24, rgba, cmyk
}

// ProbeImage reads an image's size and format.
func ProbeImage(ctx context.Context, path, name string) (*ImageInfo, error) {
	out, err := command(ctx, "ffprobe", append([]string{"-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,pix_fmt", "-of", "json"}, imageArgs(path)...)...).Output()
	if err != nil {
		return nil, pipeline.Inputf("export the art again as a square JPEG or PNG, 1400 to 3000 px",
			"ffprobe cannot read the art %q", name)
	}
	var p struct {
		Streams []struct {
			Codec  string `json:"codec_name"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
			PixFmt string `json:"pix_fmt"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil || len(p.Streams) == 0 {
		return nil, pipeline.Inputf("export the art again as a square JPEG or PNG, 1400 to 3000 px",
			"%q is not an image", name)
	}
	s := p.Streams[0]
	return &ImageInfo{Codec: s.Codec, Width: s.Width, Height: s.Height, PixFmt: s.PixFmt}, nil
}

// Fine reports whether art can be published as it is: a square RGB JPEG,
// or a PNG without alpha, 1400 to 3000 px.
func (i *ImageInfo) Fine() bool {
	rgb := (i.Codec == "mjpeg" && (strings.HasPrefix(i.PixFmt, "yuvj") || strings.HasPrefix(i.PixFmt, "yuv"))) ||
		(i.Codec == "png" && (i.PixFmt == "rgb24" || i.PixFmt == "rgb48be"))
	return rgb && i.Width == i.Height && i.Width >= ArtMin && i.Width <= ArtMax
}

// FixArt checks cover art and writes a publishable JPEG to out: it scales
// art outside 1400-3000 px, converts CMYK or grey to RGB and flattens alpha
// onto white. Art that is not square (beyond 1%) cannot be fixed: that is an
// InputError.
func FixArt(ctx context.Context, in, out, name string) (*ImageInfo, error) {
	info, err := ProbeImage(ctx, in, name)
	if err != nil {
		return nil, err
	}
	if info.Codec != "mjpeg" && info.Codec != "png" {
		return nil, pipeline.Inputf("export the art as JPEG or PNG",
			"the art %q is %s, not JPEG or PNG", name, info.Codec)
	}
	if d := info.Width - info.Height; d*100 > info.Width || -d*100 > info.Width {
		return nil, pipeline.Inputf("crop the art to a square, 1400 to 3000 px on a side",
			"the art %q is %dx%d, not square", name, info.Width, info.Height)
	}
	size := min(max(info.Width, ArtMin), ArtMax)
	// Flatten any alpha onto white, scale to a square, encode RGB JPEG.
	filter := fmt.Sprintf("color=white:s=%dx%d[bg];[0:v]scale=%d:%d:flags=lanczos,format=rgba[fg];[bg][fg]overlay=format=auto:shortest=1,format=yuvj444p",
		size, size, size, size)
	cmd := command(ctx, "ffmpeg", append(append([]string{"-hide_banner", "-nostdin", "-v", "error", "-y"}, imageArgs(in)...),
		"-filter_complex", filter, "-frames:v", "1", "-q:v", "2", "-f", "image2", "-c:v", "mjpeg", out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("cannot convert the art %q: %w: %s", name, err, lastLine(stderr.String()))
	}
	return ProbeImage(ctx, out, name)
}

// PrepareArt returns art ready to publish: in itself when it is Fine, else
// a fixed JPEG written to fixed. The second result says which.
func PrepareArt(ctx context.Context, in, fixed, name string) (string, error) {
	info, err := ProbeImage(ctx, in, name)
	if err != nil {
		return "", err
	}
	if info.Fine() {
		return in, nil
	}
	if _, err := FixArt(ctx, in, fixed, name); err != nil {
		return "", err
	}
	return fixed, nil
}

// ArtWidths are the widths, in pixels, that art is published at besides
// its own: for apps' lists and players (podcast:image) and the blog's
// srcset. Widths at or above the art's own are left out.
var ArtWidths = []int{1400, 600, 300, 150}

// ArtVariant is one generated size of a piece of art.
type ArtVariant struct {
	Path          string
	Width, Height int
	Type          string // image/jpeg or image/webp
}

// ArtPlan is what ArtVariants makes of art of this size: each of
// ArtWidths below its own width, as JPEG then WebP, largest first; Path is
// the file's name alone.
func ArtPlan(info *ImageInfo) []ArtVariant {
	var out []ArtVariant
	for _, w := range ArtWidths {
		if w >= info.Width {
			continue
		}
		h := (info.Height*w + info.Width/2) / info.Width
		out = append(out, ArtVariant{Path: fmt.Sprintf("art-%d.jpg", w), Width: w, Height: h, Type: "image/jpeg"},
			ArtVariant{Path: fmt.Sprintf("art-%d.webp", w), Width: w, Height: h, Type: "image/webp"})
	}
	return out
}

// ArtVariants writes the art in at each of ArtWidths below its own width,
// as JPEG and as WebP, into dir, in one ffmpeg run: ArtPlan, with paths.
// info, if not nil, is what ProbeImage says of in.
func ArtVariants(ctx context.Context, in, dir, name string, info *ImageInfo) ([]ArtVariant, error) {
	if info == nil {
		var err error
		if info, err = ProbeImage(ctx, in, name); err != nil {
			return nil, err
		}
	}
	plan := ArtPlan(info)
	if len(plan) == 0 {
		return nil, nil
	}
	n := len(plan) / 2 // sizes, each a JPEG and a WebP
	var filter strings.Builder
	fmt.Fprintf(&filter, "[0:v]format=yuvj420p,split=%d", n)
	for i := range n {
		fmt.Fprintf(&filter, "[s%d]", i)
	}
	args := append([]string{"-hide_banner", "-nostdin", "-v", "error", "-y"}, imageArgs(in)...)
	out := make([]ArtVariant, 0, len(plan))
	for i := range n {
		jpg, webp := plan[2*i], plan[2*i+1]
		jpg.Path, webp.Path = filepath.Join(dir, jpg.Path), filepath.Join(dir, webp.Path)
		fmt.Fprintf(&filter, ";[s%d]scale=%d:%d:flags=lanczos,split[j%d][w%d]", i, jpg.Width, jpg.Height, i, i)
		args = append(args,
			"-map", fmt.Sprintf("[j%d]", i), "-frames:v", "1", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", jpg.Path,
			"-map", fmt.Sprintf("[w%d]", i), "-frames:v", "1", "-f", "image2", "-c:v", "libwebp", "-quality", "80", webp.Path)
		out = append(out, jpg, webp)
	}
	args = slices.Insert(args, 5+len(imageArgs(in)), "-filter_complex", filter.String())
	cmd := command(ctx, "ffmpeg", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("cannot scale the art %q: %w: %s", name, err, lastLine(stderr.String()))
	}
	return out, nil
}
