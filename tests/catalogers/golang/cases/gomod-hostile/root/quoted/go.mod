module "example.com/quoted"

require (
	"github.com/quoted/path" "v1.0.0"
	`github.com/raw/path` v2.0.0+incompatible // indirect; weird
)
require github.com/a/b v1.0.0 // indirect
require github.com/c/d v1.2.3 //indirect
