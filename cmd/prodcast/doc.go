// Command prodcast turns dropped interview recordings into a published
// podcast feed and show-notes blog. See the README for the quick start.
//
//	prodcast up [--data DIR] [--listen ADDR]   everything in one process, embedded Redis and S3
//	prodcast worker                            runs the tasks (production; add more to scale out)
//	prodcast watch --data DIR                  hands dropped bundles to the workers
//	prodcast serve                             the web server: feed, blog, media, /metrics, /admin/
//	prodcast status [--data DIR]               queues, episodes, progress, failures and what to do
//	prodcast rebuild                           renders the feed and every page again
//	prodcast validate FEED                     checks any podcast feed (URL or file)
//	prodcast import FEED                       brings an existing show in, keeping its GUIDs
//
// Every command takes -h. Production roles read PRODCAST_* environment
// variables, or flags of the same names.
package main
