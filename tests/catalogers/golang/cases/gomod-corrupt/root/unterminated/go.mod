module example.com/broken

require (
	github.com/pkg/errors v0.9.1
	github.com/spf13/cobra
