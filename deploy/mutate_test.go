package deploy

import (
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestChecksCatchMistakes breaks one rule at a time in the rendered
// monitoring overlay (the base plus the admin Service and ServiceMonitor)
// and expects problems to name it: each invariant of check_test.go can fail.
func TestChecksCatchMistakes(t *testing.T) {
	objs, err := render("kubernetes/overlays/monitoring")
	if err != nil {
		t.Fatal(err)
	}
	if p := problems(objs); len(p) > 0 {
		t.Fatalf("the unbroken overlay has problems: %v", p)
	}
	ptr := func(v int64) *int64 { return &v }
	f := false
	tr := true
	container := func(d *appsv1.Deployment) *corev1.Container { return &d.Spec.Template.Spec.Containers[0] }
	setArg := func(d *appsv1.Deployment, name, value string) {
		c := container(d)
		i := slices.IndexFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--"+name+"=") })
		if value == "" {
			c.Args = slices.Delete(c.Args, i, i+1)
		} else {
			c.Args[i] = "--" + name + "=" + value
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(d *appsv1.Deployment, objs []any)
		want   string
	}{
		{"readiness path", func(d *appsv1.Deployment, _ []any) { container(d).ReadinessProbe.HTTPGet.Path = "/healthz" }, "readinessProbe path /healthz"},
		{"liveness on the guest port", func(d *appsv1.Deployment, _ []any) {
			container(d).LivenessProbe.HTTPGet.Port = intstr.FromString("http")
		}, "livenessProbe port http"},
		{"admin port moved", func(d *appsv1.Deployment, _ []any) { setArg(d, "admin", ":9191") }, "container port admin is 9090, --admin's port is 9191"},
		{"admin on loopback", func(d *appsv1.Deployment, _ []any) { setArg(d, "admin", "127.0.0.1:9090") }, "the kubelet probes the pod IP"},
		{"address localhost", func(d *appsv1.Deployment, _ []any) { setArg(d, "address", "localhost") }, "use --address=any"},
		{"grace longer than the kubelet waits", func(d *appsv1.Deployment, _ []any) { setArg(d, "grace", "60s") }, "terminationGracePeriodSeconds 45s is below"},
		{"grace left implicit", func(d *appsv1.Deployment, _ []any) { setArg(d, "grace", "") }, "set --grace explicitly"},
		{"no preStop", func(d *appsv1.Deployment, _ []any) { container(d).Lifecycle = nil }, "no preStop hook"},
		{"exec preStop", func(d *appsv1.Deployment, _ []any) {
			container(d).Lifecycle.PreStop = &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sleep", "5"}}}
		}, "no shell or sleep binary"},
		{"rollout may drop a pod", func(d *appsv1.Deployment, _ []any) {
			u := intstr.FromInt32(1)
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = &u
		}, "maxUnavailable 0"},
		{"isolates auto", func(d *appsv1.Deployment, _ []any) { setArg(d, "isolates", "0") }, "--isolates=0"},
		{"memory limit too small", func(d *appsv1.Deployment, _ []any) { setArg(d, "isolates", "8") }, "memory limit 384Mi is below --isolates 8"},
		{"memory request below limit", func(d *appsv1.Deployment, _ []any) {
			container(d).Resources.Requests[corev1.ResourceMemory] = resource.MustParse("128Mi")
		}, "memory request differs"},
		{"writable root", func(d *appsv1.Deployment, _ []any) { container(d).SecurityContext.ReadOnlyRootFilesystem = &f }, "readOnlyRootFilesystem is not true"},
		{"privilege escalation", func(d *appsv1.Deployment, _ []any) { container(d).SecurityContext.AllowPrivilegeEscalation = &tr }, "allowPrivilegeEscalation"},
		{"capability added", func(d *appsv1.Deployment, _ []any) {
			container(d).SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}, "capabilities do not drop ALL"},
		{"root user", func(d *appsv1.Deployment, _ []any) {
			container(d).SecurityContext.RunAsUser = ptr(0)
		}, "runAsUser is not a non-zero uid"},
		{"seccomp unconfined", func(d *appsv1.Deployment, _ []any) {
			container(d).SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, "seccompProfile is not RuntimeDefault"},
		{"token mounted", func(d *appsv1.Deployment, _ []any) { d.Spec.Template.Spec.AutomountServiceAccountToken = nil }, "automountServiceAccountToken"},
		{"cache on the read-only root", func(d *appsv1.Deployment, _ []any) { setArg(d, "cache-dir", "/var/cache/wasmserve") }, "--cache-dir=/var/cache/wasmserve is not on a writable emptyDir"},
		{"module not in the ConfigMap", func(d *appsv1.Deployment, _ []any) {
			c := container(d)
			c.Args[len(c.Args)-1] = "/module/other.wasm"
		}, "no WebAssembly module under key other.wasm"},
		{"module writable", func(d *appsv1.Deployment, _ []any) { container(d).VolumeMounts[0].ReadOnly = false }, "mount it readOnly"},
		{"two volume sources", func(d *appsv1.Deployment, _ []any) {
			d.Spec.Template.Spec.Volumes[0].EmptyDir = &corev1.EmptyDirVolumeSource{}
		}, "volume module has 2 sources"},
		{"flag value as a separate arg", func(d *appsv1.Deployment, _ []any) {
			c := container(d)
			c.Args = append([]string{"--max-queue", "100"}, c.Args...)
		}, "write flags as --name=value"},
		{"service on a missing port", func(_ *appsv1.Deployment, objs []any) {
			for _, o := range objs {
				if s, ok := o.(*corev1.Service); ok && s.Name == "wasmserve" {
					s.Spec.Ports[0].TargetPort = intstr.FromString("web")
				}
			}
		}, "targets web, which the container does not expose"},
		{"admin on the client Service", func(_ *appsv1.Deployment, objs []any) {
			for _, o := range objs {
				if s, ok := o.(*corev1.Service); ok && s.Name == "wasmserve" {
					s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "admin", Port: 9090, TargetPort: intstr.FromString("admin")})
				}
			}
		}, "load-balances the admin port"},
		{"service selects nothing", func(_ *appsv1.Deployment, objs []any) {
			for _, o := range objs {
				if s, ok := o.(*corev1.Service); ok && s.Name == "wasmserve" {
					s.Spec.Selector = map[string]string{"app": "other"}
				}
			}
		}, "does not select the pods"},
		{"pdb blocks drains", func(_ *appsv1.Deployment, objs []any) {
			for _, o := range objs {
				if b, ok := o.(*policyv1.PodDisruptionBudget); ok {
					two := intstr.FromInt32(2)
					b.Spec.MaxUnavailable, b.Spec.MinAvailable = nil, &two
				}
			}
		}, "node drains would hang"},
		{"hpa down to one pod", func(_ *appsv1.Deployment, objs []any) {
			for _, o := range objs {
				if h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler); ok {
					one := int32(1)
					h.Spec.MinReplicas = &one
				}
			}
		}, "minReplicas below 2"},
		{"replicas beside the autoscaler", func(d *appsv1.Deployment, _ []any) {
			two := int32(2)
			d.Spec.Replicas = &two
		}, "remove replicas"},
		{"monitor on the wrong port", func(_ *appsv1.Deployment, objs []any) {
			for _, o := range objs {
				if m, ok := o.(*monitoringv1.ServiceMonitor); ok {
					m.Spec.Endpoints[0].Port = "http"
				}
			}
		}, "endpoint port is not a port name of Service wasmserve-admin"},
		{"monitor path", func(_ *appsv1.Deployment, objs []any) {
			for _, o := range objs {
				if m, ok := o.(*monitoringv1.ServiceMonitor); ok {
					m.Spec.Endpoints[0].Path = "/stats"
				}
			}
		}, `path "/stats", want /metrics`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := render("kubernetes/overlays/monitoring")
			if err != nil {
				t.Fatal(err)
			}
			var d *appsv1.Deployment
			for _, o := range objs {
				if dd, ok := o.(*appsv1.Deployment); ok {
					d = dd
				}
			}
			tc.mutate(d, objs)
			got := problems(objs)
			for _, p := range got {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Fatalf("problems %q name no %q", got, tc.want)
		})
	}
}
