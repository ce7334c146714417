module example.com/withdeps

go 1.19

require (
	example.com/lib v1.2.3
	example.com/local v0.0.0
)

replace example.com/lib v1.2.3 => example.com/fork v1.2.4

replace example.com/local => ./local
