package scim

import "strings"

// Schema URIs (RFC 7643 §8.7, RFC 7644 §3.1).
const (
	URIUser         = "urn:ietf:params:scim:schemas:core:2.0:User"
	URIGroup        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	URIEnterprise   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	URIListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	URIError        = "urn:ietf:params:scim:api:messages:2.0:Error"
	URIPatchOp      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	URISearch       = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	URIBulkRequest  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	URIBulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	URISPConfig     = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	URIResourceType = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	URISchema       = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// attr is an attribute definition as RFC 7643 §7 describes it. Only the
// attributes Gatehouse stores are declared, so /Schemas says exactly what
// is kept; anything else a client sends is ignored.
type attr struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	MultiValued bool     `json:"multiValued"`
	Description string   `json:"description"`
	Required    bool     `json:"required"`
	CaseExact   bool     `json:"caseExact"`
	Mutability  string   `json:"mutability"`
	Returned    string   `json:"returned"`
	Uniqueness  string   `json:"uniqueness"`
	SubAttrs    []attr   `json:"subAttributes,omitempty"`
	RefTypes    []string `json:"referenceTypes,omitempty"`
	// Canonical lists the only values Gatehouse keeps, where RFC 7643
	// suggests more (emails.type) or allows any (members.type).
	Canonical []string `json:"canonicalValues,omitempty"`
}

func str(name, desc string, required, exact bool, mut, uniq string) attr {
	return attr{Name: name, Type: "string", Description: desc, Required: required, CaseExact: exact, Mutability: mut, Returned: "default", Uniqueness: uniq}
}

// resourceSchema is one resource type's schema: its core URI and
// attributes, used for discovery and for filter case-sensitivity.
type resourceSchema struct {
	core  string
	attrs []attr
	// unkept are the attributes RFC 7643 defines for the resource that
	// Gatehouse does not store, and extensions the schema extensions it
	// accepts without storing anything of them: a PATCH of those changes
	// nothing, as they are ignored in POST and PUT. A path outside the
	// schema, these and the extensions is invalidPath.
	unkept     []string
	extensions []string
}

var metaAttr = attr{Name: "meta", Type: "complex", Description: "Resource metadata.", Mutability: "readOnly", Returned: "default", Uniqueness: "none",
	SubAttrs: []attr{
		str("resourceType", "User or Group.", false, true, "readOnly", "none"),
		{Name: "created", Type: "dateTime", Description: "When the resource was created.", Mutability: "readOnly", Returned: "default", Uniqueness: "none"},
		{Name: "lastModified", Type: "dateTime", Description: "When the resource was last changed.", Mutability: "readOnly", Returned: "default", Uniqueness: "none"},
		{Name: "location", Type: "reference", Description: "The resource's URI.", CaseExact: true, Mutability: "readOnly", Returned: "default", Uniqueness: "none", RefTypes: []string{"uri"}},
		str("version", "The resource's version (its ETag).", false, true, "readOnly", "none"),
	}}

var idAttr = attr{Name: "id", Type: "string", Description: "Gatehouse's identifier of the resource.", CaseExact: true, Mutability: "readOnly", Returned: "always", Uniqueness: "server"}

var userSchema = &resourceSchema{core: URIUser, attrs: []attr{
	idAttr,
	str("externalId", "The identity provider's identifier of the user.", false, true, "readWrite", "none"),
	str("userName", "Unique identifier for the User, used to sign in; unique regardless of case.", true, false, "readWrite", "server"),
	str("displayName", "The name of the User, suitable for display to end-users.", false, false, "readWrite", "none"),
	{Name: "active", Type: "boolean", Description: "Whether the user is enabled; false disables them (R11).", Mutability: "readWrite", Returned: "default", Uniqueness: "none"},
	{Name: "emails", Type: "complex", MultiValued: true, Description: "Email address. Gatehouse keeps one: the primary, else the first valid one.", Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		SubAttrs: []attr{
			str("value", "Email address.", false, false, "readWrite", "none"),
			{Name: "type", Type: "string", Description: "Always work: Gatehouse keeps one address, and returns it as work whatever type it was sent with.",
				Mutability: "readWrite", Returned: "default", Uniqueness: "none", Canonical: []string{"work"}},
			{Name: "primary", Type: "boolean", Description: "Always true.", Mutability: "readWrite", Returned: "default", Uniqueness: "none"},
		}},
	{Name: "groups", Type: "complex", MultiValued: true, Description: "The groups the user is a direct member of; change them through the Group's members.", Mutability: "readOnly", Returned: "default", Uniqueness: "none",
		SubAttrs: []attr{
			{Name: "value", Type: "string", Description: "The group's id.", CaseExact: true, Mutability: "readOnly", Returned: "default", Uniqueness: "none"},
			{Name: "$ref", Type: "reference", Description: "The group's URI.", CaseExact: true, Mutability: "readOnly", Returned: "default", Uniqueness: "none", RefTypes: []string{"Group"}},
			str("display", "The group's displayName.", false, false, "readOnly", "none"),
			str("type", "Always direct.", false, false, "readOnly", "none"),
		}},
	metaAttr,
},
	unkept: []string{"name", "nickName", "profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone",
		"password", "phoneNumbers", "ims", "photos", "addresses", "entitlements", "roles", "x509Certificates"},
	extensions: []string{URIEnterprise},
}

var groupSchema = &resourceSchema{core: URIGroup, attrs: []attr{
	idAttr,
	str("externalId", "The identity provider's identifier of the group.", false, true, "readWrite", "none"),
	str("displayName", "The group's name; unique among system groups regardless of case.", true, false, "readWrite", "server"),
	{Name: "members", Type: "complex", MultiValued: true, Description: "The group's direct members provisioned over SCIM: users, and groups (nested groups).", Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		SubAttrs: []attr{
			{Name: "value", Type: "string", Description: "The member user's or group's id.", CaseExact: true, Mutability: "immutable", Returned: "default", Uniqueness: "none"},
			{Name: "$ref", Type: "reference", Description: "The member's URI: /Users/{id} or /Groups/{id}.", CaseExact: true, Mutability: "immutable", Returned: "default", Uniqueness: "none", RefTypes: []string{"User", "Group"}},
			str("display", "The member's displayName (a user's, else userName).", false, false, "readOnly", "none"),
			{Name: "type", Type: "string", Description: "User or Group; without a type, the value is a user's id if one has it, else a group's. Any other type is refused.",
				Mutability: "immutable", Returned: "default", Uniqueness: "none", Canonical: []string{"User", "Group"}},
		}},
	metaAttr,
}}

// enterpriseSchema is accepted on Users but none of its attributes is
// stored, so it declares none.
var enterpriseSchema = &resourceSchema{core: URIEnterprise}

// find returns the definition of a top-level attribute, case-insensitively.
func (s *resourceSchema) find(name string) *attr {
	for i := range s.attrs {
		if strings.EqualFold(s.attrs[i].Name, name) {
			return &s.attrs[i]
		}
	}
	return nil
}

// ignores reports whether name is an RFC 7643 attribute of the resource
// that Gatehouse accepts without keeping (see unkept).
func (s *resourceSchema) ignores(name string) bool {
	for _, n := range s.unkept {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// extension reports whether path is in a schema extension Gatehouse
// accepts (and keeps nothing of).
func (s *resourceSchema) extension(path string) bool {
	for _, e := range s.extensions {
		if strings.EqualFold(path, e) || (len(path) > len(e) && strings.EqualFold(path[:len(e)+1], e+":")) {
			return true
		}
	}
	return false
}

// subAttr returns the definition of a's sub-attribute name.
func (a *attr) subAttr(name string) *attr {
	for i := range a.SubAttrs {
		if strings.EqualFold(a.SubAttrs[i].Name, name) {
			return &a.SubAttrs[i]
		}
	}
	return nil
}

// sub returns the schema of a complex attribute's sub-attributes.
func (s *resourceSchema) sub(p AttrPath) *resourceSchema {
	if a := s.find(p.Name); a != nil {
		return &resourceSchema{core: s.core, attrs: a.SubAttrs}
	}
	return &resourceSchema{core: s.core}
}

// caseExact says whether path's string values compare case-exactly;
// unknown attributes compare case-insensitively.
func (s *resourceSchema) caseExact(p AttrPath) bool {
	a := s.find(p.Name)
	if a == nil {
		return false
	}
	if p.Sub == "" {
		if len(a.SubAttrs) > 0 {
			for _, sa := range a.SubAttrs {
				if sa.Name == "value" {
					return sa.CaseExact
				}
			}
		}
		return a.CaseExact
	}
	for _, sa := range a.SubAttrs {
		if strings.EqualFold(sa.Name, p.Sub) {
			return sa.CaseExact
		}
	}
	return false
}
