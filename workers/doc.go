// Package workers runs prodcast's stages as asynq tasks on Redis. Each stage
// is a task type named "noun:verb" with its constructor next to its handler:
//
//	bundle:ingest    parse the bundle, probe and archive the recording
//	episode:encode   encode the MP3 with ffmpeg and upload it
//	episode:publish  assign the GUID, mark the episode published or scheduled
//	site:rebuild     build, check and upload the feed and the pages
//
// Tasks run at least once; task IDs, content hashes and manifests make a
// retry, a crash or a re-drop harmless. Rebuilds are grouped so that ten
// bundles dropped together rebuild the feed a few times, not ten, and a
// Redis lock keeps two rebuilds from racing.
//
//	srv := workers.NewServer(redisOpt, deps, workers.ServerConfig{Concurrency: 2})
//	err := srv.Run(ctx)
package workers
