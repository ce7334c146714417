"""Go catalogers: module build info embedded in compiled binaries, and go.mod/go.sum of source trees."""
