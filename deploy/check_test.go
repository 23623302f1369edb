package deploy

import (
	"bytes"
	"fmt"
	"net"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The invariants a rendered wasmserve kustomization keeps. problems returns
// one line per broken rule, naming the object and what to change.

// runtimeOverhead is the memory a pod needs beyond its isolates' linear
// memories: the Go runtime, wazero's compiled code, connections.
var runtimeOverhead = resource.MustParse("64Mi")

// drainMargin is the time between the end of --grace and the kubelet's
// SIGKILL that closing the pool and exiting may take.
const drainMargin = 5 * time.Second

// required are the serve flags a Deployment must set explicitly, because
// another field of the manifest is derived from each.
var required = []string{"address", "port", "admin", "grace", "isolates", "memory-limit"}

// problems checks every object of one rendered kustomization.
func problems(objs []any) []string {
	var (
		p        []string
		deps     []*appsv1.Deployment
		services []*corev1.Service
		cms      = map[string]*corev1.ConfigMap{}
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			deps = append(deps, o)
		case *corev1.Service:
			services = append(services, o)
		case *corev1.ConfigMap:
			cms[o.Name] = o
		}
	}
	if len(deps) != 1 {
		return []string{fmt.Sprintf("%d Deployments rendered, want 1", len(deps))}
	}
	d := deps[0]
	c, args, errs := server(d)
	p = append(p, errs...)
	if c == nil {
		return p
	}
	p = append(p, checkDeployment(d, c, args, cms)...)
	used := map[string]bool{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			used[v.ConfigMap.Name] = true
		}
	}
	for name := range cms {
		if !used[name] {
			p = append(p, fmt.Sprintf("ConfigMap %s is rendered but no volume uses it: delete it in the overlay", name))
		}
	}
	pod := d.Spec.Template
	for _, s := range services {
		p = append(p, checkService(s, pod, c, args)...)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *autoscalingv2.HorizontalPodAutoscaler:
			p = append(p, checkHPA(o, d, c)...)
		case *policyv1.PodDisruptionBudget:
			p = append(p, checkPDB(o, d, objs)...)
		case *monitoringv1.ServiceMonitor:
			p = append(p, checkMonitor(o, services, c, args)...)
		}
	}
	return p
}

// serveArgs are the parsed arguments of `wasmserve serve`.
type serveArgs struct {
	flags  map[string]string
	module string
}

// parseServe parses container args written as --name=value (a bare --name
// is a boolean) followed by the module: the form the manifests use, so
// that a value can never be mistaken for the module.
func parseServe(args []string) (serveArgs, error) {
	sa := serveArgs{flags: map[string]string{}}
	var positional []string
	for _, a := range args {
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			positional = append(positional, a)
			continue
		}
		k, v, hasValue := strings.Cut(name, "=")
		if !hasValue {
			v = "true"
		}
		if _, dup := sa.flags[k]; dup {
			return sa, fmt.Errorf("--%s is given twice", k)
		}
		sa.flags[k] = v
	}
	if len(positional) != 1 {
		return sa, fmt.Errorf("args have %d positional arguments %q, want only the module: write flags as --name=value", len(positional), positional)
	}
	sa.module = positional[0]
	return sa, nil
}

// server finds the wasmserve container of d and parses its args.
func server(d *appsv1.Deployment) (*corev1.Container, serveArgs, []string) {
	spec := d.Spec.Template.Spec
	i := slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == "wasmserve" })
	if i < 0 {
		return nil, serveArgs{}, []string{fmt.Sprintf("Deployment %s has no container named wasmserve", d.Name)}
	}
	c := &spec.Containers[i]
	if len(c.Command) != 0 {
		return nil, serveArgs{}, []string{"container wasmserve sets command: keep the image's entrypoint (/wasmserve serve) and set args"}
	}
	args, err := parseServe(c.Args)
	if err != nil {
		return nil, args, []string{"container wasmserve: " + err.Error()}
	}
	var p []string
	for _, f := range required {
		if _, ok := args.flags[f]; !ok {
			p = append(p, fmt.Sprintf("container wasmserve: set --%s explicitly", f))
		}
	}
	if len(p) > 0 {
		return nil, args, p
	}
	return c, args, nil
}

// containerPort is the port of c named name, or 0.
func containerPort(c *corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// resolve is the container port an int-or-name refers to, or 0.
func resolve(c *corev1.Container, port intstr.IntOrString) int32 {
	if port.Type == intstr.String {
		return containerPort(c, port.StrVal)
	}
	for _, p := range c.Ports {
		if p.ContainerPort == port.IntVal {
			return p.ContainerPort
		}
	}
	return 0
}

// ports are the guest and admin ports the flags ask for.
func ports(args serveArgs) (httpPort, adminPort int32, p []string) {
	n, err := strconv.Atoi(args.flags["port"])
	if err != nil || n < 1 || n > 65535 {
		p = append(p, fmt.Sprintf("--port=%s is not a port number: the Service and the container port need a fixed one", args.flags["port"]))
	}
	host, ap, err := net.SplitHostPort(args.flags["admin"])
	an, err2 := strconv.Atoi(ap)
	switch {
	case err != nil || err2 != nil || an < 1 || an > 65535:
		p = append(p, fmt.Sprintf("--admin=%s is not HOST:PORT with a fixed port", args.flags["admin"]))
	case host != "" && host != "0.0.0.0" && host != "::":
		p = append(p, fmt.Sprintf("--admin=%s binds %s only: the kubelet probes the pod IP, use --admin=:%s", args.flags["admin"], host, ap))
	}
	return int32(n), int32(an), p
}

func checkDeployment(d *appsv1.Deployment, c *corev1.Container, args serveArgs, cms map[string]*corev1.ConfigMap) []string {
	var p []string
	spec := d.Spec.Template.Spec
	switch args.flags["address"] {
	case "any", "any4", "any6", "::", "0.0.0.0":
	default:
		p = append(p, fmt.Sprintf("--address=%s: a pod is reached on its pod IP, use --address=any", args.flags["address"]))
	}
	httpPort, adminPort, perr := ports(args)
	p = append(p, perr...)
	if got := containerPort(c, "http"); got != httpPort {
		p = append(p, fmt.Sprintf("container port http is %d, --port is %d", got, httpPort))
	}
	if got := containerPort(c, "admin"); got != adminPort {
		p = append(p, fmt.Sprintf("container port admin is %d, --admin's port is %d", got, adminPort))
	}

	// Probes: on the admin listener, the paths it serves.
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
		paths []string
	}{
		{"livenessProbe", c.LivenessProbe, []string{"/healthz"}},
		{"readinessProbe", c.ReadinessProbe, []string{"/readyz"}},
		{"startupProbe", c.StartupProbe, []string{"/healthz", "/readyz"}},
	} {
		if pr.probe == nil {
			if pr.name != "startupProbe" {
				p = append(p, pr.name+" is not set")
			}
			continue
		}
		g := pr.probe.HTTPGet
		if g == nil {
			p = append(p, pr.name+" is not an httpGet probe (the image has no shell for exec probes)")
			continue
		}
		if !slices.Contains(pr.paths, g.Path) {
			p = append(p, fmt.Sprintf("%s path %s, want %s", pr.name, g.Path, strings.Join(pr.paths, " or ")))
		}
		if got := resolve(c, g.Port); got != adminPort {
			p = append(p, fmt.Sprintf("%s port %s is %d, not the admin port %d of --admin", pr.name, g.Port.String(), got, adminPort))
		}
	}

	// Shutdown: preStop sleep, then SIGTERM and --grace, all before SIGKILL.
	grace, err := time.ParseDuration(args.flags["grace"])
	if err != nil {
		p = append(p, fmt.Sprintf("--grace=%s: %v", args.flags["grace"], err))
	}
	var sleep time.Duration
	switch {
	case c.Lifecycle == nil || c.Lifecycle.PreStop == nil:
		p = append(p, "no preStop hook: a pod would stop serving before the endpoints controller removes it")
	case c.Lifecycle.PreStop.Exec != nil:
		p = append(p, "preStop is an exec hook: the image is FROM scratch, with no shell or sleep binary; use preStop.sleep")
	case c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds < 1:
		p = append(p, "preStop is not a sleep of at least 1 second")
	default:
		sleep = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	tgps := 30 * time.Second
	if spec.TerminationGracePeriodSeconds != nil {
		tgps = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	}
	if need := sleep + grace + drainMargin; tgps < need {
		p = append(p, fmt.Sprintf("terminationGracePeriodSeconds %v is below preStop %v + --grace %v + %v: the kubelet would kill a draining server", tgps, sleep, grace, drainMargin))
	}
	if s := d.Spec.Strategy; s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil ||
		s.RollingUpdate.MaxUnavailable == nil || s.RollingUpdate.MaxUnavailable.String() != "0" && s.RollingUpdate.MaxUnavailable.String() != "0%" {
		p = append(p, "strategy is not a RollingUpdate with maxUnavailable 0: a rollout could drop below the serving replicas")
	}

	apps, perr := manifestApps(spec, c, args, cms)
	p = append(p, perr...)
	p = append(p, checkResources(c, args, apps)...)
	p = append(p, checkSecurity(d)...)
	p = append(p, checkVolumes(spec, c, args, cms)...)
	return p
}

// checkResources: requests and limits fit --isolates x --memory-limit, or
// with a manifest the sum of that over its apps (an app's own isolates and
// memory-limit, else the flags').
func checkResources(c *corev1.Container, args serveArgs, apps []manifestApp) []string {
	var p []string
	isolates, err := strconv.Atoi(args.flags["isolates"])
	if err != nil || isolates < 1 {
		p = append(p, fmt.Sprintf("--isolates=%s: set a positive number; 0 means one per CPU of the node, which the memory limit cannot follow", args.flags["isolates"]))
	}
	perIsolate, err := parseSize(args.flags["memory-limit"])
	if err != nil {
		p = append(p, "--memory-limit: "+err.Error())
	}
	lim, hasLim := c.Resources.Limits[corev1.ResourceMemory]
	req, hasReq := c.Resources.Requests[corev1.ResourceMemory]
	total, what := int64(isolates)*perIsolate, fmt.Sprintf("--isolates %d x --memory-limit %s", isolates, args.flags["memory-limit"])
	if apps != nil {
		total, what = 0, "the apps' isolates x memory limits"
		for _, a := range apps {
			n, size := int64(isolates), perIsolate
			if a.Isolates != nil {
				n = *a.Isolates
			}
			if a.MemoryLimit != "" {
				if size, err = parseSize(a.MemoryLimit); err != nil {
					p = append(p, fmt.Sprintf("app %s: memory-limit: %v", a.Name, err))
				}
			}
			if n < 1 {
				p = append(p, fmt.Sprintf("app %s: isolates %d: set a positive number, which the memory limit can follow", a.Name, n))
			}
			total += n * size
		}
	}
	need := resource.NewQuantity(total, resource.BinarySI)
	need.Add(runtimeOverhead)
	switch {
	case !hasLim:
		p = append(p, "no memory limit: set one from --isolates x --memory-limit")
	case lim.Cmp(*need) < 0:
		p = append(p, fmt.Sprintf("memory limit %s is below %s + %s = %s", lim.String(), what, runtimeOverhead.String(), need.String()))
	}
	if !hasReq || hasLim && req.Cmp(lim) != 0 {
		p = append(p, "memory request differs from the limit: the scheduler would place the pod where its isolates do not fit")
	}
	if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
		p = append(p, "no cpu request: the HorizontalPodAutoscaler's utilization is relative to it")
	}
	return p
}

// parseSize reads a --memory-limit value as the CLI does.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%q is not a size", s)
			}
			return v * u.mult, nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return v, nil
}

// checkSecurity: every container runs as a non-root user on a read-only
// root, without privileges or capabilities, under RuntimeDefault seccomp.
func checkSecurity(d *appsv1.Deployment) []string {
	var p []string
	spec := d.Spec.Template.Spec
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		p = append(p, "automountServiceAccountToken is not false: wasmserve never calls the API server")
	}
	all := append(slices.Clone(spec.InitContainers), spec.Containers...)
	for _, c := range all {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		name := "container " + c.Name
		if !orBool(sc.RunAsNonRoot, pod.RunAsNonRoot) {
			p = append(p, name+": runAsNonRoot is not true")
		}
		if uid := orInt(sc.RunAsUser, pod.RunAsUser); uid == nil || *uid == 0 {
			p = append(p, name+": runAsUser is not a non-zero uid (the image's is 65532)")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			p = append(p, name+": readOnlyRootFilesystem is not true")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			p = append(p, name+": allowPrivilegeEscalation is not false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			p = append(p, name+": privileged")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			p = append(p, name+": capabilities do not drop ALL and add none")
		}
		seccomp := pod.SeccompProfile
		if sc.SeccompProfile != nil {
			seccomp = sc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost {
			p = append(p, name+": seccompProfile is not RuntimeDefault")
		}
	}
	return p
}

func orBool(a, b *bool) bool {
	if a != nil {
		return *a
	}
	return b != nil && *b
}

func orInt(a, b *int64) *int64 {
	if a != nil {
		return a
	}
	return b
}

// mountOf is the mount of c that holds file, the deepest one.
func mountOf(c *corev1.Container, file string) *corev1.VolumeMount {
	var best *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		if (file == m.MountPath || strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")) &&
			(best == nil || len(m.MountPath) > len(best.MountPath)) {
			best = &c.VolumeMounts[i]
		}
	}
	return best
}

// sources counts the volume sources set on v (exactly one is valid).
func sources(v corev1.Volume) int {
	n := 0
	rv := reflect.ValueOf(v.VolumeSource)
	for i := range rv.NumField() {
		if !rv.Field(i).IsNil() {
			n++
		}
	}
	return n
}

// checkVolumes: the module is on a read-only volume that has it, and the
// compilation cache on a writable emptyDir (the root is read-only).
func checkVolumes(spec corev1.PodSpec, c *corev1.Container, args serveArgs, cms map[string]*corev1.ConfigMap) []string {
	var p []string
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		if n := sources(v); n != 1 {
			p = append(p, fmt.Sprintf("volume %s has %d sources, want 1 (a patch must null the base's one)", v.Name, n))
		}
		vols[v.Name] = v
	}
	m := mountOf(c, args.module)
	if m == nil {
		return append(p, fmt.Sprintf("the module %s is on no volume mount of the container", args.module))
	}
	if isManifest(args.module) {
		// manifestApps checked the manifest and what it names.
		if !m.ReadOnly {
			p = append(p, fmt.Sprintf("the manifest's mount %s is writable: mount it readOnly", m.MountPath))
		}
		return append(p, checkCache(c, args, vols)...)
	}
	if !m.ReadOnly {
		p = append(p, fmt.Sprintf("the module's mount %s is writable: mount it readOnly", m.MountPath))
	}
	v := vols[m.Name]
	rel := strings.TrimPrefix(args.module, strings.TrimSuffix(m.MountPath, "/")+"/")
	if m.SubPath != "" {
		rel = path.Join(m.SubPath, rel)
	}
	switch {
	case v.ConfigMap != nil:
		cm := cms[v.ConfigMap.Name]
		if cm == nil {
			p = append(p, fmt.Sprintf("volume %s names ConfigMap %s, which is not rendered", v.Name, v.ConfigMap.Name))
			break
		}
		data := configMapFile(cm, v.ConfigMap.Items, rel)
		if !bytes.HasPrefix(data, []byte("\x00asm")) {
			p = append(p, fmt.Sprintf("ConfigMap %s has no WebAssembly module under key %s (the module arg is %s)", cm.Name, rel, args.module))
		}
	case v.Image != nil:
		if v.Image.Reference == "" {
			p = append(p, fmt.Sprintf("image volume %s has no reference", v.Name))
		}
	case v.EmptyDir != nil:
		filled := false
		for _, ic := range spec.InitContainers {
			for _, im := range ic.VolumeMounts {
				filled = filled || im.Name == v.Name && !im.ReadOnly
			}
		}
		if !filled {
			p = append(p, fmt.Sprintf("the module's volume %s is an emptyDir no init container writes", v.Name))
		}
	default:
		p = append(p, fmt.Sprintf("the module's volume %s is neither a ConfigMap, an image nor an emptyDir filled by an init container", v.Name))
	}

	return append(p, checkCache(c, args, vols)...)
}

// checkCache: the compilation cache is on a writable emptyDir (the root
// is read-only), or off.
func checkCache(c *corev1.Container, args serveArgs, vols map[string]corev1.Volume) []string {
	var p []string
	if args.flags["no-cache"] == "true" {
		return p
	}
	cache := args.flags["cache-dir"]
	if cache == "" {
		return append(p, "set --cache-dir on the writable emptyDir (or --no-cache): the root file system is read-only")
	}
	cm := mountOf(c, cache)
	if cm == nil || cm.ReadOnly || vols[cm.Name].EmptyDir == nil {
		p = append(p, fmt.Sprintf("--cache-dir=%s is not on a writable emptyDir mount: the root file system is read-only", cache))
	}
	return p
}

// selects reports whether every pair of selector is among labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkService: a Service selects the pods and targets their named ports;
// only a headless one may reach the admin port.
func checkService(s *corev1.Service, pod corev1.PodTemplateSpec, c *corev1.Container, args serveArgs) []string {
	var p []string
	if !selects(s.Spec.Selector, pod.Labels) {
		p = append(p, fmt.Sprintf("Service %s selector %v does not select the pods (labels %v)", s.Name, s.Spec.Selector, pod.Labels))
	}
	_, adminPort, _ := ports(args)
	for _, sp := range s.Spec.Ports {
		target := resolve(c, sp.TargetPort)
		switch {
		case target == 0:
			p = append(p, fmt.Sprintf("Service %s port %s targets %s, which the container does not expose", s.Name, sp.Name, sp.TargetPort.String()))
		case target == adminPort && s.Spec.ClusterIP != corev1.ClusterIPNone:
			p = append(p, fmt.Sprintf("Service %s load-balances the admin port (metrics, pprof) to clients: only a headless Service for scraping may target it", s.Name))
		}
	}
	return p
}

// checkHPA: the autoscaler scales this Deployment, never below two pods.
func checkHPA(h *autoscalingv2.HorizontalPodAutoscaler, d *appsv1.Deployment, c *corev1.Container) []string {
	var p []string
	if r := h.Spec.ScaleTargetRef; r.Kind != "Deployment" || r.Name != d.Name {
		p = append(p, fmt.Sprintf("HorizontalPodAutoscaler %s scales %s %s, not Deployment %s", h.Name, r.Kind, r.Name, d.Name))
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 {
		p = append(p, fmt.Sprintf("HorizontalPodAutoscaler %s minReplicas below 2: a rollout or drain would leave no pod serving", h.Name))
	}
	if h.Spec.MinReplicas != nil && h.Spec.MaxReplicas < *h.Spec.MinReplicas {
		p = append(p, fmt.Sprintf("HorizontalPodAutoscaler %s maxReplicas %d below minReplicas", h.Name, h.Spec.MaxReplicas))
	}
	if d.Spec.Replicas != nil {
		p = append(p, fmt.Sprintf("Deployment %s sets replicas while HorizontalPodAutoscaler %s scales it: every kubectl apply would reset the count; remove replicas", d.Name, h.Name))
	}
	if len(h.Spec.Metrics) == 0 {
		p = append(p, fmt.Sprintf("HorizontalPodAutoscaler %s has no metric", h.Name))
	}
	return p
}

// checkPDB: the budget covers the pods and still lets a drain evict one.
func checkPDB(b *policyv1.PodDisruptionBudget, d *appsv1.Deployment, objs []any) []string {
	var p []string
	if b.Spec.Selector == nil || !selects(b.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		p = append(p, fmt.Sprintf("PodDisruptionBudget %s does not select the pods", b.Name))
	}
	minReplicas := int32(1)
	if d.Spec.Replicas != nil {
		minReplicas = *d.Spec.Replicas
	}
	for _, o := range objs {
		if h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler); ok && h.Spec.MinReplicas != nil {
			minReplicas = *h.Spec.MinReplicas
		}
	}
	switch {
	case b.Spec.MaxUnavailable != nil:
		if v, err := intstr.GetScaledValueFromIntOrPercent(b.Spec.MaxUnavailable, int(minReplicas), false); err != nil || v < 1 {
			p = append(p, fmt.Sprintf("PodDisruptionBudget %s maxUnavailable %s lets no pod be evicted: node drains would hang", b.Name, b.Spec.MaxUnavailable.String()))
		}
	case b.Spec.MinAvailable != nil:
		if v, err := intstr.GetScaledValueFromIntOrPercent(b.Spec.MinAvailable, int(minReplicas), true); err != nil || int32(v) >= minReplicas {
			p = append(p, fmt.Sprintf("PodDisruptionBudget %s minAvailable %s is not below the %d replicas: node drains would hang", b.Name, b.Spec.MinAvailable.String(), minReplicas))
		}
	default:
		p = append(p, fmt.Sprintf("PodDisruptionBudget %s sets neither maxUnavailable nor minAvailable", b.Name))
	}
	return p
}

// checkMonitor: the ServiceMonitor scrapes /metrics on the admin port
// through a Service that exists.
func checkMonitor(m *monitoringv1.ServiceMonitor, services []*corev1.Service, c *corev1.Container, args serveArgs) []string {
	var p []string
	_, adminPort, _ := ports(args)
	var svc *corev1.Service
	for _, s := range services {
		if selects(m.Spec.Selector.MatchLabels, s.Labels) {
			if svc != nil {
				p = append(p, fmt.Sprintf("ServiceMonitor %s selects Services %s and %s: every pod would be scraped twice", m.Name, svc.Name, s.Name))
			}
			svc = s
		}
	}
	if svc == nil {
		return append(p, fmt.Sprintf("ServiceMonitor %s selects no Service", m.Name))
	}
	if len(m.Spec.Endpoints) == 0 {
		p = append(p, fmt.Sprintf("ServiceMonitor %s has no endpoint", m.Name))
	}
	for _, e := range m.Spec.Endpoints {
		if e.Path != "/metrics" {
			p = append(p, fmt.Sprintf("ServiceMonitor %s path %q, want /metrics", m.Name, e.Path))
		}
		i := slices.IndexFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == e.Port })
		if i < 0 {
			p = append(p, fmt.Sprintf("ServiceMonitor %s endpoint port is not a port name of Service %s", m.Name, svc.Name))
		} else if resolve(c, svc.Spec.Ports[i].TargetPort) != adminPort {
			p = append(p, fmt.Sprintf("ServiceMonitor %s scrapes a port that is not --admin's", m.Name))
		}
	}
	return p
}

// sorted is a sorted copy of s.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
