module github.com/example/app

go 1.21

toolchain go1.21.5

require (
	github.com/gin-gonic/gin v1.9.1
	github.com/sirupsen/logrus v1.9.3
	golang.org/x/net v0.17.0 // indirect
	golang.org/x/sys v0.13.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

require github.com/google/uuid v1.4.0

// a fork with a security fix
replace github.com/sirupsen/logrus v1.9.3 => github.com/example/logrus v1.9.4-fix

replace golang.org/x/sys => golang.org/x/sys v0.15.0

replace github.com/google/uuid => ../uuid

exclude golang.org/x/net v0.16.0

retract [v1.0.0, v1.0.5] // published by mistake
