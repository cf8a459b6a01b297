package scim

// Discovery (RFC 7644 §4, RFC 7643 §5–§7): what this provider supports,
// said exactly, so that a client configures itself from it.

func listOf(items []map[string]any) map[string]any {
	l := make([]any, len(items))
	for i, it := range items {
		l[i] = it
	}
	return map[string]any{"schemas": []string{URIListResponse}, "totalResults": len(items), "startIndex": 1,
		"itemsPerPage": len(items), "Resources": l}
}

func serviceProviderConfig(base string) map[string]any {
	return map[string]any{
		"schemas":          []string{URISPConfig},
		"documentationUri": "https://github.com/gatehouse/gatehouse/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": MaxBulkOps, "maxPayloadSize": MaxBodyBytes},
		"filter":           map[string]any{"supported": true, "maxResults": MaxPageCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "API token",
			"description":      "A Gatehouse API token (Authorization: Bearer gh_…) whose user holds scim.provision, typically limited to it.",
			"specUri":          "https://www.rfc-editor.org/rfc/rfc6750",
			"documentationUri": "https://github.com/gatehouse/gatehouse/blob/main/docs/scim.md",
			"primary":          true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
}

func resourceTypes(base string) []map[string]any {
	return []map[string]any{
		{
			"schemas": []string{URIResourceType}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "User Account", "schema": URIUser,
			"schemaExtensions": []any{map[string]any{"schema": URIEnterprise, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
		},
		{
			"schemas": []string{URIResourceType}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "Group (a Gatehouse system group)", "schema": URIGroup,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
		},
	}
}

func schemas(base string) []map[string]any {
	one := func(s *resourceSchema, name, desc string) map[string]any {
		attrs := s.attrs
		if attrs == nil {
			attrs = []attr{}
		}
		return map[string]any{"schemas": []string{URISchema}, "id": s.core, "name": name, "description": desc,
			"attributes": attrs, "meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + s.core}}
	}
	return []map[string]any{
		one(userSchema, "User", "User Account"),
		one(groupSchema, "Group", "Group"),
		one(enterpriseSchema, "EnterpriseUser", "Enterprise User: accepted on Users; Gatehouse keeps none of its attributes"),
	}
}
