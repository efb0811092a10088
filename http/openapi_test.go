package http_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"firebreak"
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

// TestOpenAPIEnums checks that the document's enums list exactly the values
// the domain types accept, so that a new action, state or channel cannot be
// left out of the served API description.
func TestOpenAPIEnums(t *testing.T) {
	f := newFixture(t)
	w := f.do("GET", "/api/v1/openapi.yaml", nil)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `yaml:"enum"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	for schema, want := range map[string][]string{
		"ActionKind":    strs(firebreak.ActionKinds),
		"Tier":          strs(firebreak.Tiers),
		"ItemState":     strs(firebreak.ItemStates),
		"Channel":       strs(firebreak.Channels),
		"NoticeState":   strs(firebreak.NoticeStates),
		"AppealState":   strs(firebreak.AppealStates),
		"IncidentKind":  strs(firebreak.IncidentKinds),
		"IncidentState": strs(firebreak.States),
		"Severity":      strs(firebreak.Severities),
		"Role":          strs(firebreak.Roles),
		"EventType":     firebreak.EventTypes,
	} {
		got := doc.Components.Schemas[schema].Enum
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Errorf("openapi.yaml %s enum %v; the domain accepts %v", schema, got, want)
		}
	}
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
