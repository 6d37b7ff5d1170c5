// Package workers runs prodcast's stages as asynq tasks on Redis. Each stage
// is a task type named "noun:verb" with its constructor next to its handler:
//
//	bundle:ingest    parse the bundle, probe and archive the recording
//	episode:encode   measure and encode the MP3 with ffmpeg and upload it
//	episode:measure  measure a part of a long recording (several workers)
//	episode:piece    encode a piece of a long recording
//	episode:join     join the pieces into one MP3
//	episode:publish  assign the GUID, mark the episode published or scheduled
//	site:rebuild     build, check and upload the feed and the pages
//	feed:notify, notify:ping, webhook:deliver, pitch:received   tell the world
//	episode:unpublish, episode:republish, episode:delete, site:gc   after publish
//
// Tasks run at least once; task IDs, content hashes and manifests make a
// retry, a crash or a re-drop harmless. Rebuilds are grouped so that ten
// bundles dropped together rebuild the feed a few times, not ten, and a
// Redis lock keeps two rebuilds from racing.
//
// See example_test.go for a worker and the client that queues its work.
package workers
