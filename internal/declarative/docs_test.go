package declarative

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"testing"
)

// The documentation's example must be a valid file, and the JSON Schema
// must know exactly the keys the parser accepts, so neither drifts from
// the code.

func TestDocsExampleParses(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration-as-code.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/configuration-as-code.md has no yaml example")
	}
	c := mustParse(t, string(m[1]))
	if len(c.Users) == 0 || len(c.Folders) == 0 || len(c.Projects) == 0 {
		t.Errorf("the example is missing parts: %+v", c)
	}
}

type schemaNode struct {
	Properties map[string]*schemaNode `json:"properties"`
	Items      *schemaNode            `json:"items"`
	OneOf      []*schemaNode          `json:"oneOf"`
}

func TestSchemaKeysMatchTheParser(t *testing.T) {
	b, err := os.ReadFile("../../docs/gatehouse-config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var root schemaNode
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	item := func(n *schemaNode, path ...string) *schemaNode {
		for _, p := range path {
			if n == nil {
				return nil
			}
			n = n.Properties[p]
			if n != nil && n.Items != nil {
				n = n.Items
			}
		}
		return n
	}
	member := item(&root, "groups", "members")
	if member != nil && len(member.OneOf) == 2 {
		member = member.OneOf[1]
	}
	cases := []struct {
		node *schemaNode
		typ  any
	}{
		{&root, Config{}},
		{item(&root, "folder_types"), FolderType{}},
		{item(&root, "roles"), Role{}},
		{item(&root, "users"), User{}},
		{item(&root, "groups"), Group{}},
		{item(&root, "projects", "groups"), Group{}},
		{item(&root, "groups", "default_project_rights"), Rights{}},
		{member, Member{}},
		{item(&root, "groups", "rules"), Rule{}},
		{item(&root, "groups", "rules", "criteria"), Criterion{}},
		{item(&root, "projects"), Project{}},
		{item(&root, "projects", "imported_groups"), Import{}},
		{item(&root, "projects", "user_rights"), UserRights{}},
		{item(&root, "folders"), Folder{}},
		{item(&root, "folders", "levels"), Level{}},
		{item(&root, "webhooks"), Webhook{}},
		{item(&root, "webhooks", "filter"), WebhookFilter{}},
	}
	for _, tc := range cases {
		name := reflect.TypeOf(tc.typ).Name()
		if tc.node == nil {
			t.Errorf("%s: not in the schema", name)
			continue
		}
		var got []string
		for k := range tc.node.Properties {
			got = append(got, k)
		}
		sort.Strings(got)
		want := yamlKeys(reflect.TypeOf(tc.typ))
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema keys %v, parser keys %v", name, got, want)
		}
	}
}
