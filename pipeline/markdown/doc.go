// Package markdown turns show notes into safe HTML: goldmark renders
// GitHub-flavoured Markdown, bluemonday removes anything that could run
// script, and external links get rel="noopener".
//
//	html := markdown.HTML("Notes with a [link](https://example.com).")
package markdown
