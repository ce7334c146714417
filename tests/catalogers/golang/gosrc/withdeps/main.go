package main

import (
	"example.com/lib"
	"example.com/local"
)

func main() { println(lib.Name(), local.Name()) }
