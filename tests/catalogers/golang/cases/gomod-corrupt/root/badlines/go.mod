module example.com/bad

require github.com/pkg/errors
require github.com/spf13/cobra v1.8.0
replace github.com/spf13/cobra v1.8.0
replace a b c => d
