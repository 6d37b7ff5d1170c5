// Package pipeline holds prodcast's domain: the show, the episode manifest,
// its states, and the errors every stage shares. It has no third-party
// imports; the stages that wrap ffmpeg, minio-go, fsnotify and friends live
// in sub-packages named after what they wrap.
//
// The flow, from the producer's drop folder to the public bucket prefix:
//
//	drop/<bundle>  --watch-->  private/bundles/<id>/  --workers-->
//	private/originals/<slug>/<sha256>.<ext>
//	public/media/<slug>/<hash>.mp3
//	private/catalog/<slug>.json  (the Manifest)
//	public/feed.xml, public/index.html, public/episodes/<slug>/index.html
package pipeline
