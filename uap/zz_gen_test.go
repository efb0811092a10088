package uap_test

import (
	"os"
	"strings"
	"testing"
)

func TestZZGen(t *testing.T) {
	os.WriteFile("/tmp/browsers.txt", []byte(strings.Join(realisticUAs(2000), "\n")), 0o644)
}
