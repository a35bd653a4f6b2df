//go:build tools

// Package tools pins the karmor CLI (upstream KubeArmor's own client) for the tests.
package tools

import _ "github.com/kubearmor/kubearmor-client"
