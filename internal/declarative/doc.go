// Package declarative is Gatehouse's configuration as code: the YAML file
// model that `gatehouse export` writes and `gatehouse apply` reads, its
// strict parser and validator (unknown keys and unknown references are
// errors naming the file, line and field), the plan (a pure diff of the
// server's current configuration against the file, as ordered create,
// update and delete operations), and the execution of a plan over the
// REST API through pkg/gatehouse, so that apply is authorized and
// audited like any other administrative change.
//
// Objects are named by their natural keys (usernames, group and project
// names, folder paths), never by ids, and every list is sorted by those
// keys, so that two servers' exports can be compared with diff. The file
// format is described in docs/configuration-as-code.md and
// docs/gatehouse-config.schema.json.
package declarative
