#!/usr/bin/python3
"""Parse a podcast feed with gPodder's podcastparser and with feedparser,
and print what each sees as JSON, so the Go tests can compare them."""
import json
import sys

import feedparser
import podcastparser

path, url = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    pp = podcastparser.parse(url, f)
fp = feedparser.parse(path)
out = {
    "podcastparser": {
        "title": pp.get("title"),
        "items": [
            {
                "guid": e.get("guid"),
                "title": e.get("title"),
                "url": e["enclosures"][0]["url"] if e.get("enclosures") else None,
                "length": e["enclosures"][0].get("file_size") if e.get("enclosures") else None,
                "chapters": [[c.get("start"), c.get("title")] for c in e.get("chapters", [])],
            }
            for e in pp.get("episodes", [])
        ],
    },
    "feedparser": {
        "bozo": bool(fp.bozo),
        "bozo_exception": str(fp.get("bozo_exception", "")),
        "title": fp.feed.get("title"),
        "items": [
            {
                "guid": e.get("id"),
                "title": e.get("title"),
                "url": e.enclosures[0].get("href") if e.get("enclosures") else None,
                "length": int(e.enclosures[0].get("length", 0)) if e.get("enclosures") else None,
            }
            for e in fp.entries
        ],
    },
}
json.dump(out, sys.stdout)
