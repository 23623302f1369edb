// Package deploy holds no code: it is the Go module whose tests validate
// the deployment files beside it (kubernetes/, systemd/, the Dockerfile)
// against the upstream Kubernetes, kustomize and Prometheus operator types,
// so that the main module does not take those dependencies.
package deploy
