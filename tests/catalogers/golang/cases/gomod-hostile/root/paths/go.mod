module example.com/paths

require (
	../../etc/passwd v1.0.0
	github.com/x/ v1.0.0
	github.com/ok/ok v1.0.0
	github.com/sp ace v1.0.0
)
