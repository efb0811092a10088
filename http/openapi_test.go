package http_test

import (
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestOpenAPICoversRoutes checks that the served OpenAPI document describes
// every route of the route table, with its method.
func TestOpenAPICoversRoutes(t *testing.T) {
	f := newFixture(t)
	w := f.do("GET", "/api/v1/openapi.yaml", nil)
	if w.Code != 200 {
		t.Fatalf("GET /api/v1/openapi.yaml = %d", w.Code)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"` // operations and path-level parameters
	}
	if err := yaml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	routes := f.server.Routes()
	if len(routes) == 0 {
		t.Fatal("no routes")
	}
	paths := make(map[string]bool)
	for _, pattern := range routes {
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.ReplaceAll(path, "{$}", "")   // "/{$}" is the exact path "/"
		path = strings.ReplaceAll(path, "...}", "}") // "{path...}" is OpenAPI's "{path}"
		paths[path] = true
		op, ok := doc.Paths[path][strings.ToLower(method)].(map[string]any)
		if !ok {
			t.Errorf("route %q is not in openapi.yaml", pattern)
			continue
		}
		if _, ok := op["responses"]; !ok {
			t.Errorf("route %q has no responses in openapi.yaml", pattern)
		}
	}
	if got, want := len(doc.Paths), len(paths); got != want {
		t.Errorf("openapi.yaml has %d paths, the route table %d: stale entries?", got, want)
	}
}
