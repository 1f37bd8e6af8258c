//go:build tools

// Keeps the CLI's command package in the module graph for `go mod tidy`.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
